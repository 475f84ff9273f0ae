export { NotificationService, type NotificationServiceDeps } from './notification-service.js'
export {
  STATIC_OPERATIONS,
  listOperations,
  type OperationGroup,
  type OperationsList,
} from './operations-catalogue.js'
export { TOPIC_URN_FORMS, parseTopicUrn, type TopicUrn } from './topic-urn.js'
export {
  MAX_FILTER_RULES,
  MAX_OPERATIONS,
  MAX_OPERATION_SERVICES,
  MAX_USERS,
  MAX_USER_GROUPS,
  NOTIFICATION_NAME_PATTERN,
  validateCreateNotification,
  validateUpdateNotification,
  type NotificationInput,
  type NotificationValidationContext,
  type ValidNotificationUpdate,
} from './validate-notification.js'

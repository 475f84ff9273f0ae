/**
 * @module model/notification
 * Key-event notification configuration (spec §6).
 */

export const OPERATION_TYPES = ['complete', 'customized'] as const
export type OperationType = (typeof OPERATION_TYPES)[number]
export const NOTIFICATION_STATUSES = ['enabled', 'disabled'] as const
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number]
export const NOTIFICATION_TYPES = ['smn', 'fun'] as const
export type NotificationType = (typeof NOTIFICATION_TYPES)[number]

export interface NotificationOperation {
  service_type: string
  resource_type: string
  trace_names: string[]
}

export interface NotificationUsers {
  user_group: string
  user_list: string[]
}

export interface NotificationFilter {
  condition: 'AND' | 'OR'
  is_support_filter: boolean
  rule: string[]
}

export interface Notification {
  notification_id: string
  notification_name: string
  operation_type: OperationType
  operations: NotificationOperation[]
  notify_user_list: NotificationUsers[]
  status: NotificationStatus
  topic_id?: string
  notification_type: NotificationType
  project_id: string
  domain_id?: string
  create_time: number
  filter?: NotificationFilter
  agency_name?: string
}

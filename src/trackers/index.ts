export {
  AuditScope,
  runAudited,
  type AuditOutcome,
  type AuditedCall,
  type AuditedCallDeps,
  type ServiceResult,
} from '../ingest/audited-call.js'
export { applyTrackerRequest } from './apply-tracker-request.js'
export { bucketNameProblem, isFilePrefix } from './bucket-name.js'
export { toV1Tracker, v1BodyToV3, type V1Lts, type V1Tracker } from './legacy-tracker.js'
export { newTracker, type NewTrackerInput } from './new-tracker.js'
export { ProjectRegistry, type ProjectRegistryDeps } from './project-registry.js'
export { queryList, queryParam, type QueryParams } from './query-params.js'
export {
  DATA_TRACKER_QUOTA,
  NOTIFICATION_QUOTA,
  SYSTEM_TRACKER_QUOTA,
  getQuotas,
  quotaResources,
  type QuotaResource,
} from './quotas.js'
export {
  MAX_TAGS_PER_RESOURCE,
  TAG_RESOURCE_TYPE,
  TagService,
  type TagServiceDeps,
} from './tag-service.js'
export { TrackerService, type TrackerServiceDeps } from './tracker-service.js'
export {
  parseTrackerRequest,
  type BucketLifecycle,
  type DataBucketRequest,
  type TrackerObsInfoRequest,
  type TrackerRequest,
} from './tracker-request.js'
export {
  DATA_TRACKER_NAME_PATTERN,
  RESERVED_TRACKER_NAMES,
  validateCreateTracker,
  validateUpdateTracker,
  type TrackerValidationContext,
  type ValidTrackerRequest,
  type ValidTrackerUpdate,
} from './validate-tracker.js'

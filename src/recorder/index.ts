/**
 * @module recorder
 * The recorder's pure core: route-map format and validation, matching, value extraction, trace
 * building, redaction, and the built-in maps (docs/recorder-maps.md).
 */
export {
  DATA_EVENT_KINDS,
  HTTP_METHODS,
  RouteMapError,
  parseRouteMap,
  type AsyncJobRule,
  type HttpMethod,
  type LookupRule,
  type RouteMap,
  type RouteRule,
  type TraceNameBy,
  type ValueSource,
} from './route-map.js'
export { bucketOf, isMutating, matchRoute, queryKeys, type RouteMatch } from './match-route.js'
export { expandTemplate } from './route-template.js'
export { resolveList, resolveValue, type SourceContext } from './value-source.js'
export {
  buildCatchAllTraces,
  buildJobTraces,
  buildTraces,
  type BuildOptions,
  type Exchange,
  type ExchangeUser,
} from './build-traces.js'
export { catchAllNaming, type CatchAllOptions } from './catch-all.js'
export { DEFAULT_REDACT_KEYS, REDACTED, redact } from './redact.js'
export { MAX_CAPTURE_BYTES, truncateText } from './body-capture.js'
export { GLANCE_MAP } from './maps/glance.js'
export { IMS_MAP } from './maps/ims.js'
export { S3_MAP } from './maps/s3.js'
export { BUILT_IN_MAPS } from './maps/built-in-maps.js'
export { dataTrackerFor, type DataTrackerView } from './data-trackers.js'

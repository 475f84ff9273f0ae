export {
  parseTraceQuery,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  type RawQuery,
  type TraceQueryPlan,
  type ParseOptions,
} from './parse-trace-query.js'
export { TraceQuery, type ListTracesResponse, type ApiVersion } from './trace-query.js'
export {
  parseStatisticsQuery,
  statApiName,
  STAT_API_FIELDS,
  type StatisticsPlan,
} from './parse-statistics-query.js'

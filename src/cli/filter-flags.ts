/**
 * @module cli/filter-flags
 * The ListTraces filter flags the client commands share (`query`, `stats`) and the query parameter
 * each sets, as `node:util` parseArgs options, and the parameters of the flags given.
 */

/** Filter flags and the parameter each one sets (not `trace_id` or paging: `query` adds those). */
export const FILTER_FLAGS = [
  ['trace-type', 'trace_type'],
  ['tracker-name', 'tracker_name'],
  ['service-type', 'service_type'],
  ['resource-type', 'resource_type'],
  ['resource-id', 'resource_id'],
  ['resource-name', 'resource_name'],
  ['trace-name', 'trace_name'],
  ['trace-rating', 'trace_rating'],
  ['user', 'user'],
  ['access-key-id', 'access_key_id'],
  ['enterprise-project-id', 'enterprise_project_id'],
  ['q', 'q'],
] as const

/** parseArgs options of `flags`: each a string. */
export function stringOptions<F extends string>(
  flags: readonly (readonly [F, string])[],
): Record<F, { type: 'string' }> {
  return Object.fromEntries(flags.map(([flag]) => [flag, { type: 'string' }])) as Record<
    F,
    { type: 'string' }
  >
}

/** The query parameters of the flags given (empty values dropped). */
export function filterParams(
  flags: readonly (readonly [string, string])[],
  values: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const params: Record<string, string> = {}
  for (const [flag, param] of flags) {
    const value = values[flag]
    if (typeof value === 'string' && value !== '') params[param] = value
  }
  return params
}

/**
 * @module model/trace-activity
 * What kind of operation a trace records, read off its name, and whether it went well, read off
 * its code: the open formats (formats/) map these onto their vocabularies, the resource history
 * (query/resource-history) groups a resource's traces by them.
 */
import type { ApiTrace } from './trace-representations.js'

/** The operation class of a trace, as the formats' activity vocabularies need it. */
export type Activity = 'create' | 'read' | 'update' | 'delete' | 'other'

const VERBS: readonly (readonly [Activity, RegExp])[] = [
  ['create', /^(create|add|upload|import|register|attach|copy|clone|put|post|insert|new)/i],
  ['delete', /^(delete|remove|destroy|detach|deregister|unregister|purge|drop|terminate)/i],
  [
    'read',
    /^(get|list|show|describe|download|query|read|search|head|check|export|view|count|stat)/i,
  ],
  [
    'update',
    /^(update|modify|set|patch|change|edit|rename|enable|disable|reset|replace|share|unshare|tag|untag|start|stop|reboot|resize|lock|unlock|accept|reject|grant|revoke|rotate)/i,
  ],
]

/**
 * The activity of a trace: by the verb its `trace_name` starts with (`createImage`,
 * `deleteTracker`, `ListImages` …); `read_only: true` makes any other name a read; else other.
 */
export function activityOf(trace: Pick<ApiTrace, 'trace_name' | 'read_only'>): Activity {
  for (const [activity, verb] of VERBS) if (verb.test(trace.trace_name)) return activity
  return trace.read_only === true ? 'read' : 'other'
}

/** The trace's code as a number when it is one (CTS codes are HTTP status codes, as text). */
export function numericCode(trace: Pick<ApiTrace, 'code'>): number | undefined {
  const code = trace.code
  return code !== undefined && /^\d{1,4}$/.test(code) ? Number(code) : undefined
}

/** The outcome of a trace: its code below 400 succeeded, 400 and above failed; none: unknown. */
export function outcomeOf(trace: Pick<ApiTrace, 'code'>): 'success' | 'failure' | 'unknown' {
  const code = numericCode(trace)
  if (code === undefined) return 'unknown'
  return code < 400 ? 'success' : 'failure'
}

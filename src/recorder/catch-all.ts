/**
 * @module recorder/catch-all
 * Traces for mutating calls no rule maps, so that nothing that changes state goes unrecorded (the
 * CADF "unmapped" idea, spec ims-glance-auth §2.7). Pure except for the default id source.
 *
 * Naming, from the percent-decoded path segments:
 * - a *word* is a segment of letters, `_` and `-` only (no digit); versions (`v2`, `v2.1`), ids and
 *   the project id are not words;
 * - trace_name = lower-case method + PascalCase of the last word (`_`/`-` removed), and when that word
 *   is `action` the word before it too: `DELETE /v2/images/{id}` → `deleteImages`,
 *   `POST /v2/cloudimages/action` → `postCloudimagesAction`, no word → `post`;
 * - resource_type = the first word (`images`), or `unknown`;
 * - resource_id = the last non-word segment after that word, the project id excepted;
 * - message = `unmapped`; GET and HEAD give no trace.
 */
import { randomUUID } from 'node:crypto'
import { pathSegments } from './route-template.js'
import type { Exchange } from './exchange.js'
import { isMutating } from './match-route.js'
import {
  bodyText,
  messageOf,
  put,
  ratingOf,
  requestCapture,
  userOf,
  versionOf,
  type BuildOptions,
} from './trace-fields.js'

/** Options of the catch-all: the ids of BuildOptions plus extra redact keys. */
export interface CatchAllOptions extends BuildOptions {
  readonly redact?: readonly string[]
}

const WORD = /^[A-Za-z][A-Za-z_-]*$/

function pascal(word: string): string {
  return word
    .split(/[-_]+/)
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('')
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** trace_name, resource_type and resource_id of an unmapped call (rules above). */
export function catchAllNaming(
  method: string,
  path: string,
  projectId: string,
): { traceName: string; resourceType: string; resourceId: string | undefined } {
  const segments = pathSegments(path).map(decode)
  const words = segments.map((s, i) => ({ s, i })).filter(({ s }) => WORD.test(s))
  const last = words[words.length - 1]
  const before = words[words.length - 2]
  let noun = last === undefined ? '' : pascal(last.s)
  if (last !== undefined && last.s.toLowerCase() === 'action' && before !== undefined)
    noun = pascal(before.s) + noun
  const first = words[0]
  const ids = segments
    .map((s, i) => ({ s, i }))
    .filter(({ s, i }) => !WORD.test(s) && s !== projectId && i > (first?.i ?? Infinity))
    .filter(({ s }) => !/^v\d+(\.\d+)*$/.test(s))
  return {
    traceName: (method.toLowerCase() + noun).slice(0, 64),
    resourceType: first === undefined ? 'unknown' : first.s.slice(0, 64),
    resourceId: ids[ids.length - 1]?.s,
  }
}

/**
 * The trace of an unmapped mutating call (empty for GET, HEAD and other reads), with service_type
 * `serviceType`, trace_type ApiCall and `message: 'unmapped'`.
 */
export function buildCatchAllTraces(
  serviceType: string,
  exchange: Exchange,
  options: CatchAllOptions = {},
): Record<string, unknown>[] {
  if (!isMutating(exchange.method)) return []
  const naming = catchAllNaming(exchange.method, exchange.path, exchange.projectId)
  const keys = options.redact ?? []
  const captured = requestCapture(exchange, true, keys)
  const trace: Record<string, unknown> = {
    trace_id: (options.newId ?? randomUUID)(),
    trace_name: /^[A-Za-z]/.test(naming.traceName) ? naming.traceName : 'unmapped',
    trace_type: 'ApiCall',
    service_type: serviceType,
    resource_type: naming.resourceType,
    code: exchange.status,
    trace_rating: ratingOf(exchange.status),
    request: captured.request,
    response: bodyText(exchange.responseJson, exchange.responseText, keys),
    time: exchange.startedAt,
    source_ip: exchange.sourceIp,
    read_only: false,
    total_time: Math.max(0, exchange.durationMs),
    content_length: Math.max(0, exchange.requestBytes),
  }
  const user = userOf(exchange.user)
  if (user !== undefined) trace.user = user
  put(trace, 'resource_id', naming.resourceId)
  put(trace, 'api_version', versionOf(exchange.path))
  put(trace, 'request_id', exchange.requestId)
  put(trace, 'user_agent', exchange.userAgent)
  put(trace, 'message', messageOf(['unmapped', captured.note]))
  return [trace]
}

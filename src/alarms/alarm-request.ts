/**
 * @module alarms/alarm-request
 * Reads the body of `POST` (create) and `PUT` (update) `/v3/{project_id}/alarms…`:
 *
 * ```json
 * {"alarm_name": "many-deletes", "description": "…",
 *  "filter": {"service_type": "IMS", "trace_name": "deleteImage"},
 *  "condition": {"comparison": ">", "threshold": 10, "period": 300},
 *  "enabled": true, "topic_urn": "urn:smn:{region}:{project_id}:{topic}"}
 * ```
 *
 * An update gives any of these fields: `filter` replaces the filter, `condition` fields replace
 * theirs, `topic_urn: null` removes the topic. `comparison` defaults to `>` on create. Unknown fields are refused (a typo must not pass
 * for a rule that silently never fires). Violations throw OCTS_ERR_ALARM_INVALID (400 OCTS.0170)
 * naming the field; a malformed body OCTS_ERR_INVALID_BODY (400 CTS.0003).
 */
import { OpenCtsError } from '../errors/index.js'
import type { AlarmComparison, AlarmFilter } from '../store/index.js'
import { COMPARISONS } from './alarm-condition.js'
import { validateAlarmFilter } from './alarm-filter.js'

export const ALARM_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
export const MIN_PERIOD_SECONDS = 60
export const MAX_PERIOD_SECONDS = 86_400
export const MAX_THRESHOLD = 1_000_000_000
export const MAX_DESCRIPTION = 255

const FIELDS = ['alarm_name', 'description', 'filter', 'condition', 'enabled', 'topic_urn']
const CONDITION_FIELDS = ['comparison', 'threshold', 'period']

/** The fields a request sets (absent: unchanged on update). */
export interface AlarmFields {
  readonly name?: string
  readonly description?: string
  readonly filter?: AlarmFilter
  readonly comparison?: AlarmComparison
  readonly threshold?: number
  readonly periodSeconds?: number
  readonly enabled?: boolean
  /** null: no topic. */
  readonly topicUrn?: string | null
}

function invalid(message: string): never {
  throw new OpenCtsError('OCTS_ERR_ALARM_INVALID', { message })
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    if (what === 'the body')
      throw new OpenCtsError('OCTS_ERR_INVALID_BODY', { message: 'the body must be a JSON object' })
    invalid(`${what} must be an object`)
  }
  return value as Record<string, unknown>
}

function known(body: Record<string, unknown>, fields: readonly string[], prefix: string): void {
  for (const key of Object.keys(body))
    if (!fields.includes(key)) invalid(`${prefix}${key} is not a field (${fields.join(', ')})`)
}

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    invalid(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  return value
}

function readCondition(value: unknown, required: boolean): Partial<AlarmFields> {
  if (value === undefined && !required) return {}
  if (value === undefined) invalid('condition is required: {"comparison","threshold","period"}')
  const condition = object(value, 'condition')
  known(condition, CONDITION_FIELDS, 'condition.')
  const out: { -readonly [K in keyof AlarmFields]: AlarmFields[K] } = {}
  const { comparison, threshold, period } = condition
  if (comparison === undefined && required) out.comparison = '>'
  else if (comparison !== undefined) {
    if (!(COMPARISONS as readonly unknown[]).includes(comparison))
      invalid(
        `condition.comparison must be one of ${COMPARISONS.join(' ')}, got ${JSON.stringify(comparison)}`,
      )
    out.comparison = comparison as AlarmComparison
  }
  if (threshold !== undefined || required)
    out.threshold = integer(threshold, 'condition.threshold', 0, MAX_THRESHOLD)
  if (period !== undefined || required)
    out.periodSeconds = integer(
      period,
      'condition.period (seconds)',
      MIN_PERIOD_SECONDS,
      MAX_PERIOD_SECONDS,
    )
  return out
}

/**
 * Reads a request body; `create`: `alarm_name` and `condition` are required. `topicOk` checks a
 * topic URN is a topic of the project (done by the caller, which reads the store).
 */
export function readAlarmRequest(
  projectId: string,
  body: unknown,
  options: { readonly create: boolean; readonly now: number },
): AlarmFields {
  const fields = object(body, 'the body')
  known(fields, FIELDS, '')
  const out: { -readonly [K in keyof AlarmFields]: AlarmFields[K] } = {}
  const name = fields.alarm_name
  if (name !== undefined || options.create) {
    if (typeof name !== 'string' || !ALARM_NAME.test(name))
      invalid(
        `alarm_name must be 1-64 letters, digits, _ or -, starting with a letter or digit, got ${JSON.stringify(name)}`,
      )
    out.name = name
  }
  const description = fields.description
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string' || description.length > MAX_DESCRIPTION)
      invalid(`description must be a string of at most ${MAX_DESCRIPTION} characters`)
    out.description = description
  } else if (options.create) out.description = ''
  if (fields.filter !== undefined || options.create)
    out.filter = validateAlarmFilter(projectId, fields.filter, options.now)
  Object.assign(out, readCondition(fields.condition, options.create))
  const enabled = fields.enabled
  if (enabled !== undefined) {
    if (typeof enabled !== 'boolean') invalid('enabled must be true or false')
    out.enabled = enabled
  } else if (options.create) out.enabled = true
  const topic = fields.topic_urn
  if (topic === null || topic === '') out.topicUrn = null
  else if (topic !== undefined) {
    if (typeof topic !== 'string' || topic.length > 512)
      invalid('topic_urn must be a topic URN (urn:smn:{region}:{project_id}:{name}) or null')
    out.topicUrn = topic
  } else if (options.create) out.topicUrn = null
  return out
}

/**
 * @module recorder/route-map
 * The declarative route-map format (docs/recorder-maps.md): one map per service, one rule per API
 * route, telling the recorder which trace a call produces and where each field comes from.
 * `parseRouteMap` validates a map (JSON or a TS constant) once and returns a deep-frozen copy; every
 * other recorder function assumes a parsed map. Pure.
 */
import {
  RESOURCE_TYPE_PATTERN,
  SERVICE_TYPE_PATTERN,
  TRACE_NAME_PATTERN,
  TRACE_TYPES,
  type TraceType,
} from '../model/index.js'
import { compileTemplate } from './route-template.js'
import { parseSource, sourceVariables } from './value-source.js'

/**
 * A value source: 'path.<var>' | 'req.<json.path>' | 'resp.<json.path>' | 'job.<json.path>' |
 * 'header.<name>' | 'lookup' | 'const:<text>' | 'fmt:<text with {var}>', alternatives separated by
 * `|` (first non-empty wins). JSON paths use dots (digits index arrays) and support `[]` for "each
 * element" only in fan_out. Grammar: `value-source.ts`.
 */
export type ValueSource = string

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const
export type HttpMethod = (typeof HTTP_METHODS)[number]
export const DATA_EVENT_KINDS = ['READ', 'WRITE'] as const

export interface AsyncJobRule {
  /** Where the job id is, e.g. 'resp.job_id'. */
  readonly job_id: ValueSource
  /** Template of the job query, filled from the path variables, `project_id` and `job_id`. */
  readonly poll_path: string
  /** resource_id of the completion trace, e.g. 'job.entities.image_id'. */
  readonly resource_id: ValueSource
  readonly resource_name?: ValueSource
  /** One completion trace per element (e.g. 'job.entities.sub_jobs_result[].entities.image_id'). */
  readonly fan_out?: ValueSource
}

export interface LookupRule {
  /** Template of the GET that returns the resource, filled from the path variables and `project_id`. */
  readonly path: string
  /** Where the name is in the lookup response ('resp.name'). */
  readonly name: ValueSource
  /** true: fetch before forwarding (the resource is gone afterwards, e.g. delete). */
  readonly before: boolean
}

export interface TraceNameBy {
  /** The value that chooses the name, e.g. 'req.action'. */
  readonly source: ValueSource
  /** value → trace name; an unlisted value keeps the rule's trace_name. */
  readonly names: Readonly<Record<string, string>>
}

export interface RouteRule {
  readonly method: HttpMethod
  /** Template, e.g. '/v2/images/{image_id}/tags/{tag}'; {var} = one segment, final {var+} = the rest. */
  readonly path: string
  /** Discriminator: a query key that must be present (S3 `?delete`, `?uploads`, `?uploadId`). */
  readonly query?: string
  /** Discriminator: a request header that must be present (S3 `x-amz-copy-source`). */
  readonly header?: string
  readonly trace_name: string
  /** Chooses the trace name from a request value (IMS tags/action: create → addTag). */
  readonly trace_name_by?: TraceNameBy
  readonly resource_type: string
  /** Default: the map's. */
  readonly service_type?: string
  readonly resource_id?: ValueSource
  readonly resource_name?: ValueSource
  /** One trace per element ('req.images'); the element becomes resource_id. */
  readonly fan_out?: ValueSource
  /** Not recorded unless the recorder records reads; then read_only: true. */
  readonly read_only?: boolean
  readonly async_job?: AsyncJobRule
  readonly lookup?: LookupRule
  /** Default true for JSON and text bodies; octet-stream is never captured. */
  readonly capture_request?: boolean
  /** Default true; false for object downloads. */
  readonly capture_response?: boolean
  /** Default: the first path segment when it is a version (v1, v1.1, v2, v2.1). */
  readonly api_version?: ValueSource
  /** Data traces: which data-tracker event selects this operation. */
  readonly data_event?: 'READ' | 'WRITE'
  /** Extra `key=value` pairs for `message`, e.g. { member_id: 'path.member_id' }. */
  readonly message_fields?: Readonly<Record<string, ValueSource>>
}

export interface RouteMap {
  readonly name: string
  readonly service_type: string
  /** Default 'ApiCall'; data maps (S3/OBS) use 'ObsAPI'. */
  readonly trace_type?: TraceType
  readonly routes: readonly RouteRule[]
  /** Extra keys to mask, on top of DEFAULT_REDACT_KEYS. */
  readonly redact?: readonly string[]
}

/** A route map is invalid; `field` names it (`routes[3].path`). A programming or config error. */
export class RouteMapError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(`${field}: ${message}`)
    this.name = 'RouteMapError'
    this.field = field
  }
}

type Obj = Record<string, unknown>

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function object(value: unknown, field: string, keys: readonly string[]): Obj {
  if (!isObj(value)) throw new RouteMapError(field, 'must be an object')
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw new RouteMapError(`${field}.${key}`.replace(/^\./, ''), 'unknown field')
  }
  return value
}

function text(
  o: Obj,
  key: string,
  field: string,
  pattern?: RegExp,
  optional = false,
): string | undefined {
  const value = o[key]
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string' || value === '')
    throw new RouteMapError(field, 'must be a non-empty string')
  if (pattern !== undefined && !pattern.test(value))
    throw new RouteMapError(field, `${JSON.stringify(value)} does not match ${String(pattern)}`)
  return value
}

function bool(o: Obj, key: string, field: string): void {
  if (o[key] !== undefined && typeof o[key] !== 'boolean')
    throw new RouteMapError(field, 'must be a boolean')
}

interface SourceRules {
  readonly vars: readonly string[]
  readonly job?: boolean
  readonly each?: boolean
  readonly only?: readonly string[]
}

function source(o: Obj, key: string, field: string, rules: SourceRules, optional = true): void {
  const value = o[key]
  if (value === undefined && optional) return
  if (typeof value !== 'string') throw new RouteMapError(field, 'must be a value source string')
  let alternatives
  try {
    alternatives = parseSource(value)
  } catch (error) {
    throw new RouteMapError(field, (error as Error).message)
  }
  for (const alt of alternatives) {
    if (rules.only !== undefined && !rules.only.includes(alt.kind))
      throw new RouteMapError(field, `must use ${rules.only.join(' or ')}, got ${alt.kind}`)
    if (alt.kind === 'job' && rules.job !== true)
      throw new RouteMapError(field, 'job. sources are only allowed in async_job')
    if ((alt.kind === 'req' || alt.kind === 'resp' || alt.kind === 'job') && rules.each !== true)
      if (alt.segments.some((s) => s.each))
        throw new RouteMapError(field, '[] is only allowed in fan_out')
  }
  for (const name of sourceVariables(alternatives)) {
    if (!rules.vars.includes(name))
      throw new RouteMapError(field, `path variable ${name} is not in the template`)
  }
}

function template(value: string, field: string, allowed: readonly string[]): void {
  let compiled
  try {
    compiled = compileTemplate(value)
  } catch (error) {
    throw new RouteMapError(field, `template ${JSON.stringify(value)} ${(error as Error).message}`)
  }
  for (const name of compiled.variables)
    if (!allowed.includes(name)) throw new RouteMapError(field, `variable ${name} cannot be filled`)
}

const RULE_KEYS = [
  'method',
  'path',
  'query',
  'header',
  'trace_name',
  'trace_name_by',
  'resource_type',
  'service_type',
  'resource_id',
  'resource_name',
  'fan_out',
  'read_only',
  'async_job',
  'lookup',
  'capture_request',
  'capture_response',
  'api_version',
  'data_event',
  'message_fields',
] as const

function checkRule(value: unknown, f: string): string {
  const rule = object(value, f, RULE_KEYS)
  const method = rule.method
  if (typeof method !== 'string' || !(HTTP_METHODS as readonly string[]).includes(method))
    throw new RouteMapError(`${f}.method`, `must be one of ${HTTP_METHODS.join(', ')}`)
  const path = text(rule, 'path', `${f}.path`) ?? ''
  let vars: readonly string[]
  try {
    vars = compileTemplate(path).variables
  } catch (error) {
    throw new RouteMapError(
      `${f}.path`,
      `template ${JSON.stringify(path)} ${(error as Error).message}`,
    )
  }
  const query = text(rule, 'query', `${f}.query`, /^[^&=?]+$/, true) ?? ''
  const header = text(rule, 'header', `${f}.header`, /^[A-Za-z0-9-]+$/, true) ?? ''
  text(rule, 'trace_name', `${f}.trace_name`, TRACE_NAME_PATTERN)
  text(rule, 'resource_type', `${f}.resource_type`, RESOURCE_TYPE_PATTERN)
  text(rule, 'service_type', `${f}.service_type`, SERVICE_TYPE_PATTERN, true)
  const plain = { vars }
  for (const key of ['resource_id', 'resource_name', 'api_version'] as const)
    source(rule, key, `${f}.${key}`, plain)
  source(rule, 'fan_out', `${f}.fan_out`, { vars, each: true })
  for (const key of ['read_only', 'capture_request', 'capture_response'] as const)
    bool(rule, key, `${f}.${key}`)
  if (
    rule.data_event !== undefined &&
    !(DATA_EVENT_KINDS as readonly unknown[]).includes(rule.data_event)
  )
    throw new RouteMapError(`${f}.data_event`, 'must be READ or WRITE')
  if (rule.trace_name_by !== undefined) {
    const by = object(rule.trace_name_by, `${f}.trace_name_by`, ['source', 'names'])
    source(by, 'source', `${f}.trace_name_by.source`, plain, false)
    const names = object(
      by.names,
      `${f}.trace_name_by.names`,
      Object.keys(isObj(by.names) ? by.names : {}),
    )
    for (const k of Object.keys(names))
      text(names, k, `${f}.trace_name_by.names.${k}`, TRACE_NAME_PATTERN)
  }
  if (rule.message_fields !== undefined) {
    const fields = object(
      rule.message_fields,
      `${f}.message_fields`,
      Object.keys(isObj(rule.message_fields) ? rule.message_fields : {}),
    )
    for (const key of Object.keys(fields)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
        throw new RouteMapError(`${f}.message_fields.${key}`, 'bad key')
      source(fields, key, `${f}.message_fields.${key}`, plain, false)
    }
  }
  if (rule.async_job !== undefined) {
    const g = `${f}.async_job`
    const job = object(rule.async_job, g, [
      'job_id',
      'poll_path',
      'resource_id',
      'resource_name',
      'fan_out',
    ])
    source(job, 'job_id', `${g}.job_id`, { vars, only: ['resp', 'header'] }, false)
    template(text(job, 'poll_path', `${g}.poll_path`) ?? '', `${g}.poll_path`, [
      ...vars,
      'project_id',
      'job_id',
    ])
    source(job, 'resource_id', `${g}.resource_id`, { vars, job: true }, false)
    source(job, 'resource_name', `${g}.resource_name`, { vars, job: true })
    source(job, 'fan_out', `${g}.fan_out`, { vars, job: true, each: true })
  }
  if (rule.lookup !== undefined) {
    const g = `${f}.lookup`
    const lookup = object(rule.lookup, g, ['path', 'name', 'before'])
    template(text(lookup, 'path', `${g}.path`) ?? '', `${g}.path`, [...vars, 'project_id'])
    source(lookup, 'name', `${g}.name`, { vars, only: ['resp'] }, false)
    if (typeof lookup.before !== 'boolean')
      throw new RouteMapError(`${g}.before`, 'must be a boolean')
  }
  return `${method} ${path.replace(/\{[^}]*\}/g, '{}').replace(/(.)\/$/, '$1')} ?${query} !${header.toLowerCase()}`
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

/** Validates a route map; throws RouteMapError naming the field. Returns a deep-frozen copy. */
export function parseRouteMap(json: unknown): RouteMap {
  const map = object(json, '', ['name', 'service_type', 'trace_type', 'routes', 'redact'])
  text(map, 'name', 'name', /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
  text(map, 'service_type', 'service_type', SERVICE_TYPE_PATTERN)
  if (map.trace_type !== undefined && !(TRACE_TYPES as readonly unknown[]).includes(map.trace_type))
    throw new RouteMapError('trace_type', `must be one of ${TRACE_TYPES.join(', ')}`)
  if (map.redact !== undefined) {
    if (!Array.isArray(map.redact) || !map.redact.every((k) => typeof k === 'string' && k !== ''))
      throw new RouteMapError('redact', 'must be an array of non-empty strings')
  }
  if (!Array.isArray(map.routes) || map.routes.length === 0)
    throw new RouteMapError('routes', 'must be a non-empty array')
  const seen = new Map<string, number>()
  map.routes.forEach((rule: unknown, index) => {
    const key = checkRule(rule, `routes[${index}]`)
    const first = seen.get(key)
    if (first !== undefined)
      throw new RouteMapError(
        `routes[${index}]`,
        `same method, path and discriminators as routes[${first}]`,
      )
    seen.set(key, index)
  })
  return deepFreeze(structuredClone(map) as unknown as RouteMap)
}

/**
 * Test helper: generates fuzz requests for every operation of `/openapi.json` (so new routes are
 * fuzzed without touching the test): valid-ish values from the published schemas, then mutations of
 * path parameters, query strings, bodies, content types and credentials. Pure: randomness comes from
 * the seeded `Random`, so a seed replays a run.
 */
import type { Random } from './fuzz-random.js'

/** How a request is authenticated when it is sent. */
export type AuthMode =
  'none' | 'bad-token' | 'bad-signature' | 'token' | 'signed' | 'signed-other-project'

export interface FuzzRequest {
  /** Operation (`GET /v3/{project_id}/traces`) or transport case name: groups failures. */
  readonly label: string
  readonly method: string
  /** The request target exactly as sent (ASCII). */
  readonly target: string
  readonly headers: readonly (readonly [string, string])[]
  readonly body?: Buffer
  readonly auth: AuthMode
  /** What was mutated, for the failure report. */
  readonly note: string
}

interface Schema {
  type?: string | string[]
  enum?: unknown[]
  properties?: Record<string, Schema>
  required?: string[]
  items?: Schema
}

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  schema?: Schema
}

export interface Operation {
  readonly method: string
  readonly path: string
  readonly parameters: readonly Parameter[]
  readonly bodySchema?: Schema
}

/** Objects created before fuzzing, so that lookups, updates, deletions and proofs find them. */
export interface Fixtures {
  /** The management tracker (tags act on it). */
  readonly trackerId: string
  /** Kept: updated, never deleted by the fuzz. */
  readonly notificationId: string
  readonly traceId: string
  /** Kept topic with subscriptions (never deleted by the fuzz). */
  readonly topicName: string
  /** A delivery (to an unreachable subscription) to redeliver. */
  readonly deliveryId: string
  /**
   * Disposable objects, each deleted at most once: the first one of each list by the canonical
   * request of its delete operation, the others by chance.
   */
  readonly doomedTopics: readonly string[]
  readonly doomedSubscriptionIds: readonly string[]
  readonly doomedFunctionUrns: readonly string[]
  readonly doomedNotificationIds: readonly string[]
  readonly doomedDataTrackers: readonly string[]
  /** Kept alarm rule (shown, updated, its history listed; never deleted by the fuzz). */
  readonly alarmId: string
  readonly doomedAlarmIds: readonly string[]
}

/** Identifiers of the fuzzed server. */
export interface FuzzContext {
  readonly projectId: string
  readonly domainId: string
  /** A project of no account on this server. */
  readonly otherProjectId: string
  /** The administrator's password (the canonical sign-in). */
  readonly password: string
  readonly existing: Fixtures
}

/** Every operation of an OpenAPI document. */
export function operations(document: unknown): Operation[] {
  const paths = (document as { paths: Record<string, Record<string, unknown>> }).paths
  const out: Operation[] = []
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, raw] of Object.entries(item)) {
      const op = raw as {
        parameters?: Parameter[]
        requestBody?: { content?: Record<string, { schema?: Schema }> }
      }
      const bodySchema = op.requestBody?.content?.['application/json']?.schema
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        ...(bodySchema === undefined ? {} : { bodySchema }),
      })
    }
  }
  return out
}

const BAD_SEGMENTS = [
  '..',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '.',
  '%00',
  '%',
  '%ZZ',
  '%E0%A4',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '%C3%A9t%C3%A9',
  'a%2Fb',
  '%20',
  '~',
  '*',
  '0',
  '-1',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%5B%5D',
  "'%20OR%201=1--",
]

const BAD_QUERY_VALUES = [
  '',
  '-1',
  '0',
  '1.5',
  '1e3',
  '0x10',
  'NaN',
  'Infinity',
  '99999999999999999999999999',
  '-99999999999999999999',
  '9007199254740993',
  'true',
  'null',
  '%',
  '%ZZ',
  '%E0%A4',
  '%ED%A0%80',
  '%00',
  '%0D%0AX-Injected:%201',
  '%F0%9F%92%A9%E2%80%AE',
  '..%2F..%2Fetc%2Fpasswd',
  '%5B%5D',
  '%7B%22a%22%3A1%7D',
  '+',
  "'%20OR%201=1--",
]

/** A valid path segment; `canonical`: the one value the operation succeeds with. */
function validSegment(
  name: string,
  op: Operation,
  ctx: FuzzContext,
  r: Random,
  canonical: boolean,
): string {
  const fix = ctx.existing
  const deletes = op.method === 'DELETE'
  switch (name) {
    case 'topic_name':
      // Deleting the kept topic would end its subscriptions' success paths.
      if (deletes && op.path.endsWith('{topic_name}'))
        return canonical
          ? first(fix.doomedTopics)
          : r.pick([...fix.doomedTopics.slice(1), 'nope', `t-${r.hex(4)}`])
      return canonical || r.chance(0.8) ? fix.topicName : 'nope'
    case 'subscription_id':
      return canonical
        ? first(fix.doomedSubscriptionIds)
        : r.chance(0.5)
          ? r.pick(fix.doomedSubscriptionIds.slice(1))
          : uuid(r)
    case 'delivery_id':
      return canonical || r.chance(0.6) ? fix.deliveryId : r.hex(32)
    case 'alarm_id':
      if (deletes)
        return canonical
          ? first(fix.doomedAlarmIds)
          : r.chance(0.5)
            ? r.pick(fix.doomedAlarmIds.slice(1))
            : uuid(r)
      return canonical || r.chance(0.8) ? fix.alarmId : r.pick([uuid(r), r.hex(32)])
  }
  if (canonical) {
    const value = CANONICAL_SEGMENTS[name]?.(ctx)
    if (value !== undefined) return value
  }
  switch (name) {
    case 'project_id':
      return r.chance(0.8) ? ctx.projectId : r.pick([ctx.otherProjectId, r.hex(32)])
    case 'domain_id':
      return r.chance(0.8) ? ctx.domainId : r.hex(32)
    case 'version':
      return r.pick(['v1.0', 'v2.0', 'v3', 'v4'])
    case 'tracker_name':
      return r.pick(['system', 'system', 'data-fuzz', 'nope'])
    case 'notification_type':
      return r.pick(['smn', 'fun', 'other'])
    case 'resource_type':
      return r.pick(['cts-tracker', 'cts-tracker', 'cts-notification', 'other'])
    case 'resource_id':
      return r.chance(0.7) ? ctx.existing.trackerId : r.hex(32)
    case 'topic_name':
      return r.pick(['fuzz-topic', 'nope'])
    default:
      return r.chance(0.5) ? r.hex(32) : `fuzz-${r.hex(6)}`
  }
}

const CANONICAL_SEGMENTS: Readonly<Record<string, (ctx: FuzzContext) => string>> = {
  project_id: (ctx) => ctx.projectId,
  domain_id: (ctx) => ctx.domainId,
  version: () => 'v3',
  tracker_name: () => 'system',
  notification_type: () => 'smn',
  resource_type: () => 'cts-tracker',
  resource_id: (ctx) => ctx.existing.trackerId,
}

function first(items: readonly string[]): string {
  const item = items[0]
  if (item === undefined) throw new Error('no fixture left')
  return item
}

/** A function URN of the fuzz (`name` starts with a letter). */
export function functionUrn(ctx: { projectId: string }, name: string): string {
  return `urn:fss:fuzz-1:${ctx.projectId}:function:default:${name}`
}

function validQueryValue(name: string, op: Operation, ctx: FuzzContext, r: Random): string {
  const now = Date.now()
  const fix = ctx.existing
  if (op.method === 'DELETE') {
    // Deletions pick disposable objects (or unknown ones), never the kept fixtures.
    if (name === 'function_urn')
      return r.chance(0.6)
        ? r.pick(fix.doomedFunctionUrns.slice(1))
        : functionUrn(ctx, `f${r.hex(4)}`)
    if (name === 'notification_id')
      return r.chance(0.6) ? r.pick(fix.doomedNotificationIds.slice(1)) : r.hex(32)
  }
  switch (name) {
    case 'limit':
    case 'top':
      return String(r.pick([1, 10, 200, 201]))
    case 'from':
      return String(now - r.int(0, 8 * 86_400_000))
    case 'to':
      return String(now + r.int(-3_600_000, 3_600_000))
    case 'tree_size':
    case 'first':
    case 'second':
    case 'after_size':
      return String(r.int(0, 20))
    case 'trace_id':
      return r.chance(0.5) ? ctx.existing.traceId : uuid(r)
    case 'notification_id':
      return r.chance(0.7) ? ctx.existing.notificationId : r.hex(32)
    case 'next':
    case 'marker':
      return r.hex(32)
    case 'tracker_name':
      return r.pick(['system', 'data-fuzz'])
    case 'tracker_type':
      return r.pick(['system', 'data'])
    case 'trace_rating':
      return r.pick(['normal', 'warning', 'incident'])
    case 'trace_type':
      return r.pick(['ConsoleAction', 'ApiCall', 'SystemAction'])
    case 'format':
      return r.pick(['csv', 'json', 'xml'])
    case 'interval':
      return r.pick(['minute', 'hour', 'day', 'week'])
    case 'status':
      return r.pick(['pending', 'delivered', 'failed', 'dead'])
    case 'enterprise_project_id':
    case 'access_key_id':
      return ctx.projectId
    default:
      return `fuzz-${r.hex(4)}`
  }
}

/** The query of an operation's canonical request (none for the others). */
const CANONICAL_QUERIES: Readonly<Record<string, (ctx: FuzzContext) => string>> = {
  'DELETE /v3/{project_id}/functions': (ctx) =>
    `function_urn=${encodeURIComponent(first(ctx.existing.doomedFunctionUrns))}`,
  'DELETE /v3/{project_id}/notifications': (ctx) =>
    `notification_id=${first(ctx.existing.doomedNotificationIds)}`,
  'GET /v3/{project_id}/log/inclusion-proof': (ctx) => `trace_id=${ctx.existing.traceId}`,
  'GET /v3/{project_id}/log/consistency-proof': () => 'first=1',
  'GET /v3/{project_id}/resources/history': () => 'resource_id=img-1',
  'GET /v3/{project_id}/traces/statistics': () =>
    'group_by=service_type,code&distinct=user&interval=600000',
  'GET /v3/{project_id}/alarms/{alarm_id}/history': () => 'limit=10',
  'GET /v3/{project_id}/insights': () => 'insight_type=ApiCallRateInsight&state=start&limit=5',
  'DELETE /v3/{project_id}/trackers': (ctx) =>
    `tracker_name=${first(ctx.existing.doomedDataTrackers)}&tracker_type=data`,
}

/** A schema-valid value (best effort) for `schema`. */
function validValue(schema: Schema | undefined, name: string, r: Random, depth = 0): unknown {
  if (schema === undefined) return `fuzz-${r.hex(4)}`
  if (schema.enum !== undefined && schema.enum.length > 0) return r.pick(schema.enum)
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'integer':
    case 'number':
      return name === 'time' || name === 'record_time'
        ? Date.now() - r.int(0, 60_000)
        : r.int(0, 60)
    case 'boolean':
      return r.chance(0.5)
    case 'array':
      return depth > 4
        ? []
        : Array.from({ length: r.int(1, 3) }, () => validValue(schema.items, name, r, depth + 1))
    case 'object': {
      const out: Record<string, unknown> = {}
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) === true || r.chance(0.5))
          out[key] = validValue(sub, key, r, depth + 1)
      }
      return out
    }
    default:
      if (name === 'tracker_name') return r.pick(['system', 'data-fuzz'])
      if (name === 'trace_id') return uuid(r)
      if (name.endsWith('_id')) return r.hex(32)
      if (name === 'bucket_name') return `fuzz-${r.hex(6)}`
      if (name.endsWith('url') || name === 'endpoint') return `http://127.0.0.1:9/${r.hex(4)}`
      return `fuzz-${r.hex(6)}`
  }
}

function uuid(r: Random): string {
  const h = r.hex(32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`
}

/** Stands for the administrator's token in a header value; replaced when the request is sent. */
export const TOKEN_PLACEHOLDER = '<admin-token>'
/** Stands for a second token of the administrator, which the fuzz does not use: revoked once. */
export const SPARE_TOKEN_PLACEHOLDER = '<spare-token>'

/**
 * Bodies known to be accepted, so that mutations reach the handlers behind validation. Sign-in
 * bodies are rare: each one costs a password hash.
 */
const EXAMPLES: Readonly<
  Record<string, (ctx: FuzzContext, r: Random, canonical: boolean) => unknown>
> = {
  'POST /v3/{project_id}/alarms': (_ctx, r) => ({
    alarm_name: `a-${r.hex(8)}`,
    filter: { service_type: 'IMS', trace_name: 'deleteImage' },
    condition: {
      comparison: r.pick(['>', '>=', '<', '<=']),
      threshold: r.int(0, 100),
      period: 300,
    },
  }),
  'PUT /v3/{project_id}/alarms/{alarm_id}': (_ctx, r) => ({
    description: `fuzz ${r.hex(4)}`,
    condition: { threshold: r.int(0, 100) },
    enabled: r.chance(0.5),
  }),
  'POST /v3/{project_id}/traces': (_ctx, r) => ({
    traces: Array.from({ length: r.int(1, 3) }, () => ({
      trace_id: uuid(r),
      trace_name: 'createImage',
      trace_rating: 'normal',
      trace_type: 'ApiCall',
      service_type: 'IMS',
      resource_type: 'image',
      resource_id: r.hex(32),
      resource_name: `image-${r.hex(4)}`,
      source_ip: '10.0.0.1',
      code: '201',
      api_version: 'v2',
      request: '{"name":"x"}',
      response: '{"id":"y"}',
      time: Date.now() - r.int(0, 60_000),
      user: { name: 'fuzz', id: r.hex(32), domain: { name: 'opencts', id: r.hex(32) } },
    })),
  }),
  'POST /v3/{project_id}/notifications': (_ctx, r) => ({
    notification_name: `n_${r.hex(6)}`,
    operation_type: r.pick(['complete', 'customized']),
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['createImage'] }],
    filter: { is_support_filter: true, condition: 'OR', rule: ['code != 200', 'resource_id = x'] },
  }),
  'POST /v3/{project_id}/{resource_type}/resource-instances/filter': (_ctx, r) => ({
    tags: [{ key: `k${r.hex(2)}`, values: ['v'] }],
    limit: r.int(1, 100),
    offset: 0,
  }),
  'PUT /v3/{project_id}/notifications': (ctx, r) => ({
    notification_id: ctx.existing.notificationId,
    notification_name: 'fuzz_existing',
    operation_type: r.pick(['complete', 'customized']),
    // Enabled needs a topic_id: deliveries of every fuzz trace would keep the worker busy.
    status: 'disabled',
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['createImage'] }],
  }),
  // Random names, or deleted topics' names again (so that they can be deleted again).
  'POST /v3/{project_id}/topics': (ctx, r, canonical) => ({
    name: canonical
      ? `t-${r.hex(8)}`
      : r.pick([ctx.existing.topicName, ...ctx.existing.doomedTopics, `t-${r.hex(4)}`]),
  }),
  'POST /v3/{project_id}/topics/{topic_name}/subscriptions': (_ctx, r) =>
    r.chance(0.8)
      ? { protocol: 'http', endpoint: `http://127.0.0.1:9/hook-${r.hex(4)}` }
      : { protocol: 'email', endpoint: `fuzz-${r.hex(4)}@example.invalid` },
  'POST /v3/{project_id}/functions': (ctx, r, canonical) => ({
    function_urn:
      canonical || r.chance(0.7)
        ? functionUrn(ctx, `f${r.hex(6)}`)
        : r.pick(ctx.existing.doomedFunctionUrns),
    endpoint: `http://127.0.0.1:9/fn-${r.hex(4)}`,
  }),
  'POST /v3/{project_id}/tracker': (_ctx, r) => ({
    tracker_type: 'data',
    tracker_name: `d_${r.hex(8)}`,
    data_bucket: { data_bucket_name: `fuzz-tracked-${r.hex(8)}`, data_event: ['READ', 'WRITE'] },
    ...(r.chance(0.5)
      ? { obs_info: { bucket_name: `fuzz-transfer-${r.hex(8)}`, is_obs_created: true } }
      : {}),
  }),
  'PUT /v1.0/{project_id}/tracker/{tracker_name}': (_ctx, r) => ({
    status: r.pick(['enabled', 'disabled']),
  }),
  'POST /v1.0/{project_id}/tracker': (_ctx, r) => ({
    bucket_name: `fuzz-v1-${r.hex(8)}`,
    is_obs_created: true,
  }),
  // The canonical delete removes the tag the canonical create added.
  'POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create': (_ctx, r, canonical) => ({
    tags: [{ key: canonical ? 'fuzz_canonical' : `k${r.hex(2)}`, value: 'v' }],
  }),
  'DELETE /v3/{project_id}/{resource_type}/{resource_id}/tags/delete': (_ctx, r, canonical) => ({
    tags: [canonical ? { key: 'fuzz_canonical', value: 'v' } : { key: `k${r.hex(2)}` }],
  }),
  'PUT /v3/{project_id}/tracker': (_ctx, r) => ({
    tracker_type: 'system',
    tracker_name: 'system',
    status: r.pick(['enabled', 'disabled']),
  }),
  // Random sign-ins fail (each one costs a password hash); the canonical one succeeds.
  'POST /v3/auth/tokens': (ctx, r, canonical) => ({
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: 'admin',
            password: canonical ? ctx.password : r.pick(['wrong', 'x'.repeat(100)]),
            domain: { name: 'opencts' },
          },
        },
      },
      scope: { project: { id: ctx.projectId } },
    },
  }),
}

const HUGE = 'x'.repeat(200_000)

/** Values that replace one node of a JSON body: wrong types, extremes, unicode. JSON text. */
function mutantJson(r: Random): { text: string; note: string } {
  return r.pick([
    { text: '123', note: 'number' },
    { text: '-1', note: 'negative' },
    { text: '1e308', note: 'huge float' },
    { text: '99999999999999999999999999', note: 'huge integer' },
    { text: '1e999999', note: 'overflowing number' },
    { text: '0.5', note: 'fraction' },
    { text: 'true', note: 'boolean' },
    { text: 'null', note: 'null' },
    { text: '[]', note: 'empty array' },
    { text: '{}', note: 'empty object' },
    { text: '""', note: 'empty string' },
    { text: '"\\ud800"', note: 'lone surrogate' },
    { text: '"\\udfff\\ud800x"', note: 'reversed surrogates' },
    { text: '"\\u0000\\u001f\\u007f"', note: 'control characters' },
    { text: JSON.stringify('𝔘ñíçødé ☃ \u202e ﷽ 🂡'), note: 'unicode' },
    { text: JSON.stringify(HUGE), note: 'oversize string' },
    { text: `${'['.repeat(5000)}${']'.repeat(5000)}`, note: 'deep array nesting' },
    { text: `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, note: 'deep object nesting' },
    {
      text: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}',
      note: 'proto keys',
    },
    { text: JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)), note: 'long array' },
    { text: '"../../../../etc/passwd"', note: 'path traversal' },
    { text: '"2026-12-06T00:00:00Z"', note: 'date string' },
  ])
}

/** Whole bodies that are not what the route wants. */
function mutantBody(r: Random): { body: Buffer; type: string | undefined; note: string } {
  const json = 'application/json'
  const choice = r.pick<[string | Buffer, string | undefined, string]>([
    ['', json, 'empty body'],
    ['', undefined, 'empty body, no type'],
    ['{', json, 'truncated JSON'],
    ['{"a":1,"a":2}', json, 'duplicate keys'],
    ['null', json, 'null body'],
    ['[]', json, 'array body'],
    ['"text"', json, 'string body'],
    ['12', json, 'number body'],
    ['{"a":1}', 'text/plain', 'text/plain'],
    ['a=1&b=2', 'application/x-www-form-urlencoded', 'form body'],
    ['--x\r\n\r\n--x--', 'multipart/form-data', 'multipart without boundary'],
    ['<a/>', 'application/xml', 'xml'],
    ['{"a":1}', 'application/json; charset=utf-16', 'utf-16 charset'],
    ['{"a":1}', 'application/json;;;;', 'odd media type'],
    ['{"a":1}', 'APPLICATION/JSON', 'upper-case type'],
    ['{"a":1}', '', 'empty type'],
    [Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), json, 'invalid UTF-8'],
    [Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), json, 'BOM'],
    [Buffer.from('{"a":"\u0000"}'), json, 'NUL in string'],
    [`{"a":${'1'.repeat(5000)}}`, json, '5000-digit number'],
    [`${'['.repeat(100_000)}`, json, 'unterminated deep nesting'],
  ])
  const [body, type, note] = choice
  return { body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), type, note }
}

/** Replaces one randomly chosen node of `value` (JSON) with `text`; returns the JSON text. */
function replaceNode(value: unknown, text: string, r: Random): { json: string; at: string } {
  const marker = `"__FUZZ_${r.hex(8)}__"`
  let at = '$'
  const walk = (node: unknown, path: string): unknown => {
    if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node)
      if (keys.length > 0 && r.chance(0.7)) {
        const key = r.pick(keys)
        const copy = (
          Array.isArray(node) ? [...(node as unknown[])] : { ...(node as Record<string, unknown>) }
        ) as Record<string, unknown>
        copy[key] = walk((node as Record<string, unknown>)[key], `${path}.${key}`)
        return copy
      }
      if (!Array.isArray(node) && r.chance(0.3)) {
        at = `${path}.fuzz_extra`
        return { ...(node as Record<string, unknown>), fuzz_extra: JSON.parse(marker) as string }
      }
    }
    at = path
    return JSON.parse(marker) as string
  }
  const replaced = walk(value, '$')
  return { json: JSON.stringify(replaced).replace(marker, text), at }
}

function authMode(r: Random): AuthMode {
  const x = r.next()
  if (x < 0.35) return 'signed'
  if (x < 0.6) return 'token'
  if (x < 0.72) return 'none'
  if (x < 0.82) return 'bad-token'
  if (x < 0.94) return 'bad-signature'
  return 'signed-other-project'
}

/**
 * One fuzz request for `op`; about a quarter are left valid-ish, the rest mutated. `canonical`:
 * the request the operation succeeds with (no mutation, signed, example body, fixtures' ids).
 */
export function fuzzRequest(
  op: Operation,
  ctx: FuzzContext,
  r: Random,
  canonical = false,
): FuzzRequest {
  const notes: string[] = []
  const key = `${op.method} ${op.path}`
  const mutate = !canonical && r.chance(0.75)
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  const mutatedPath = mutate && pathParams.length > 0 && r.chance(0.25)
  const target = op.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    if (mutatedPath && r.chance(0.6)) {
      const bad = r.chance(0.1) ? 'x'.repeat(r.pick([65, 300, 5000])) : r.pick(BAD_SEGMENTS)
      notes.push(`path ${name}=${bad.slice(0, 40)}`)
      return bad
    }
    return validSegment(name, op, ctx, r, canonical)
  })
  const query: string[] = []
  const canonicalQuery = CANONICAL_QUERIES[key]
  if (canonical) {
    if (canonicalQuery !== undefined) query.push(canonicalQuery(ctx))
  } else {
    for (const p of op.parameters.filter((q) => q.in === 'query')) {
      if (!r.chance(0.4)) continue
      const value = validQueryValue(p.name, op, ctx, r)
      query.push(`${p.name}=${encodeURIComponent(value)}`)
    }
  }
  if (mutate && r.chance(0.35)) {
    const names = op.parameters.filter((q) => q.in === 'query').map((q) => q.name)
    const name = names.length > 0 && r.chance(0.8) ? r.pick(names) : r.pick(['x', '__proto__'])
    const kind = r.int(0, 4)
    if (kind === 0) {
      query.push(`${name}=1`, `${name}=2`)
      notes.push(`duplicate query ${name}`)
    } else if (kind === 1) {
      query.push(name)
      notes.push(`query ${name} without =`)
    } else if (kind === 2) {
      query.push(`${name}[]=1`, `${name}[a][b]=2`)
      notes.push(`bracket query ${name}`)
    } else if (kind === 3) {
      const long = 'x'.repeat(r.pick([300, 5000, 12_000]))
      query.push(`${name}=${long}`)
      notes.push(`long query ${name}`)
    } else {
      const bad = r.pick(BAD_QUERY_VALUES)
      query.push(`${name}=${bad}`)
      notes.push(`query ${name}=${bad}`)
    }
  }
  if (mutate && r.chance(0.05)) {
    query.push('%=1', '&&', '=')
    notes.push('empty/odd query keys')
  }
  let method = op.method
  if (mutate && r.chance(0.04)) {
    method = r.pick(['PATCH', 'OPTIONS', 'PUT', 'POST', 'DELETE', 'GET'])
    notes.push(`method ${method}`)
  }
  const headers: [string, string][] = []
  let body: Buffer | undefined
  const wantsBody = op.bodySchema !== undefined
  if (wantsBody || (mutate && r.chance(0.1))) {
    if (mutate && r.chance(0.45)) {
      const mutant = mutantBody(r)
      body = mutant.body
      if (mutant.type !== undefined) headers.push(['Content-Type', mutant.type])
      notes.push(mutant.note)
    } else {
      const example = EXAMPLES[key]
      const value =
        example !== undefined && (canonical || r.chance(op.path === '/v3/auth/tokens' ? 0.1 : 0.6))
          ? example(ctx, r, canonical)
          : validValue(op.bodySchema ?? { type: 'object' }, '', r)
      let json = JSON.stringify(value)
      if (mutate && r.chance(0.8)) {
        const mutant = mutantJson(r)
        const replaced = replaceNode(value, mutant.text, r)
        json = replaced.json
        notes.push(`${mutant.note} at ${replaced.at}`)
      }
      body = Buffer.from(json, 'utf8')
      headers.push(['Content-Type', 'application/json'])
    }
  } else if (op.method === 'DELETE' && r.chance(0.2)) {
    body = Buffer.alloc(0)
    headers.push(['Content-Type', 'application/json'])
    notes.push('empty JSON body on DELETE')
  }
  if (op.path === '/v3/auth/tokens' && op.method !== 'POST') {
    // Never the fuzz's own token to DELETE, even when the method was mutated (sign-out would end
    // the authenticated requests); the canonical DELETE revokes the spare token.
    const subject =
      op.method === 'DELETE' && canonical
        ? SPARE_TOKEN_PLACEHOLDER
        : method === 'GET' && (canonical || r.chance(0.7))
          ? TOKEN_PLACEHOLDER
          : `octs1_${r.hex(43)}`
    headers.push(['X-Subject-Token', subject])
  }
  if (mutate && r.chance(0.05)) {
    headers.push(['X-Request-Id', r.pick(['', 'x'.repeat(500), 'a b', '../..'])])
    notes.push('odd x-request-id')
  }
  if (mutate && r.chance(0.04)) {
    headers.push(['Accept', r.pick(['text/html', 'application/xml', '*/*;q=x', ''])])
    notes.push('odd accept')
  }
  return {
    label: `${op.method} ${op.path}`,
    method,
    target: query.length > 0 ? `${target}?${query.join('&')}` : target,
    headers,
    ...(body === undefined ? {} : { body }),
    auth: canonical ? 'signed' : authMode(r),
    note: canonical ? 'canonical' : notes.length > 0 ? notes.join('; ') : 'valid-ish',
  }
}

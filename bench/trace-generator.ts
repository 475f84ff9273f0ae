/**
 * @module bench/trace-generator
 * Realistic, reproducible traces for the benchmark (seeded PRNG): 20 services, 60 resource types,
 * 4 operations per type, 10,000 resources, 200 users (skewed: a few services and users make most
 * traces), ~94% normal / 5% warning / 1% incident, request and response bodies of a few hundred
 * bytes, so a stored trace is about 1 KB like real CTS traces.
 */
import { randomUUID } from 'node:crypto'

/** Deterministic PRNG (mulberry32) returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SERVICE_TYPES: Readonly<Record<string, readonly string[]>> = {
  ECS: ['ecs', 'keypair', 'server_group'],
  EVS: ['volume', 'snapshot', 'backup'],
  VPC: ['vpc', 'subnet', 'eip'],
  IMS: ['image', 'member', 'tag'],
  OBS: ['bucket', 'object', 'policy'],
  IAM: ['user', 'group', 'agency'],
  RDS: ['instance', 'backup', 'parameter_group'],
  CCE: ['cluster', 'node', 'nodepool'],
  ELB: ['loadbalancer', 'listener', 'pool'],
  DNS: ['zone', 'recordset', 'ptr'],
  KMS: ['cmk', 'grant', 'datakey'],
  CTS: ['tracker', 'notification', 'trace'],
  SMN: ['topic', 'subscription', 'template'],
  FunctionGraph: ['function', 'trigger', 'version'],
  DCS: ['redis', 'memcached', 'config'],
  DMS: ['kafka', 'rabbitmq', 'topic'],
  CBR: ['vault', 'policy', 'checkpoint'],
  AS: ['scaling_group', 'scaling_policy', 'scaling_config'],
  NAT: ['nat_gateway', 'snat_rule', 'dnat_rule'],
  WAF: ['instance', 'policy', 'certificate'],
}

const VERBS = ['create', 'delete', 'update', 'attach'] as const

function capitalize(text: string): string {
  return text.replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase())
}

export interface Vocabulary {
  readonly services: readonly string[]
  /** [service, resource type] pairs (60). */
  readonly types: readonly (readonly [string, string])[]
  /** Resource k has type `types[k % 60]`; its name is `names[k]`. */
  readonly resourceIds: readonly string[]
  readonly resourceNames: readonly string[]
  readonly traceNames: readonly string[]
  readonly users: readonly string[]
}

export function vocabulary(resources = 10_000, users = 200): Vocabulary {
  const random = seededRandom(7)
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('')
  const types = Object.entries(SERVICE_TYPES).flatMap(([s, list]) =>
    list.map((t) => [s, t] as const),
  )
  const resourceIds = Array.from(
    { length: resources },
    () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
  )
  return {
    services: Object.keys(SERVICE_TYPES),
    types,
    resourceIds,
    resourceNames: resourceIds.map((_, k) => `${types[k % types.length]?.[1] ?? 'r'}-${k}`),
    traceNames: types.flatMap(([, t]) => VERBS.map((v) => `${v}${capitalize(t)}`)),
    users: Array.from({ length: users }, (_, k) => `user-${String(k).padStart(3, '0')}`),
  }
}

/** A reported trace (the API body form), for resource chosen with skew, at `time`. */
export type ReportedTrace = Record<string, unknown>

export class TraceGenerator {
  readonly vocab: Vocabulary
  readonly #random: () => number

  constructor(seed: number, vocab: Vocabulary = vocabulary()) {
    this.vocab = vocab
    this.#random = seededRandom(seed)
  }

  /** An index in [0, n), skewed towards low indexes when `skew` > 1. */
  pick(n: number, skew = 1): number {
    return Math.min(n - 1, Math.floor(n * this.#random() ** skew))
  }

  next(time: number): ReportedTrace {
    const v = this.vocab
    // Skew resources by type so a few services dominate, like real clouds (ECS, OBS, VPC ...).
    const typeIndex = this.pick(v.types.length, 1.6)
    const perType = Math.ceil(v.resourceIds.length / v.types.length)
    const k = Math.min(v.resourceIds.length - 1, typeIndex + v.types.length * this.pick(perType))
    const [service, resourceType] = v.types[k % v.types.length] ?? ['ECS', 'ecs']
    const verb = VERBS[this.pick(VERBS.length, 1.4)] ?? 'create'
    const roll = this.#random()
    const rating = roll < 0.94 ? 'normal' : roll < 0.99 ? 'warning' : 'incident'
    const codes =
      rating === 'normal'
        ? [200, 201, 202, 204]
        : rating === 'warning'
          ? [400, 403, 404, 409]
          : [500, 503]
    const code = codes[this.pick(codes.length)] ?? 200
    const typeRoll = this.#random()
    const traceType =
      typeRoll < 0.6 ? 'ApiCall' : typeRoll < 0.95 ? 'ConsoleAction' : 'SystemAction'
    const userIndex = this.pick(v.users.length, 2)
    const name = v.users[userIndex] ?? 'user-000'
    const resourceId = v.resourceIds[k] ?? ''
    const trace: ReportedTrace = {
      trace_id: randomUUID(),
      time,
      service_type: service,
      resource_type: resourceType,
      resource_id: resourceId,
      resource_name: v.resourceNames[k] ?? '',
      trace_name: `${verb}${capitalize(resourceType)}`,
      trace_type: traceType,
      trace_rating: rating,
      code,
      api_version: this.#random() < 0.5 ? 'v2' : 'v1',
      source_ip: `10.${userIndex % 256}.${this.pick(256)}.${this.pick(256)}`,
      request_id: randomUUID(),
      enterprise_project_id: '0',
      request: {
        [resourceType]: {
          name: v.resourceNames[k],
          description: 'x'.repeat(40 + this.pick(200)),
          metadata: { owner: name, env: this.#random() < 0.5 ? 'prod' : 'test' },
        },
      },
      response:
        code < 400
          ? { id: resourceId, status: 'ACTIVE', job_id: randomUUID() }
          : { error: { code: `${service}.0${code}`, message: 'The request cannot be completed.' } },
    }
    if (traceType !== 'SystemAction') {
      trace.user = {
        id: `u${String(userIndex).padStart(31, '0')}`,
        name,
        domain: { id: 'd0123456789abcdef0123456789abcd', name: 'acme' },
        ...(traceType === 'ApiCall'
          ? { access_key_id: `AK${String(userIndex).padStart(18, '0')}` }
          : {}),
      }
      trace.user_agent =
        traceType === 'ApiCall' ? 'huaweicloud-sdk-go/3.1' : 'Mozilla/5.0 (console)'
    }
    return trace
  }
}

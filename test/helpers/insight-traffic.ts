/**
 * Test helper: synthetic traffic for the insight detectors, reproducible from a seed: a steady
 * baseline of several operations (counts per minute drawn around fixed levels, a few errors and
 * denials), and injected anomalies (a call-rate burst, an error burst, a burst of denied calls,
 * first-time deletes). Traces are in the API representation producers send, with trace ids
 * derived from the seed, so two runs give the same traces.
 */
import { createHash } from 'node:crypto'
import { Random } from './fuzz-random.js'

export const MINUTE = 60_000

export interface Traffic {
  /** Traces by minute start (ms), each minute's traces in time order. */
  readonly byMinute: Map<number, Record<string, unknown>[]>
}

function uuid(text: string): string {
  const h = createHash('sha256').update(text).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

export interface TraceSpec {
  readonly time: number
  readonly service: string
  readonly name: string
  readonly user: string
  readonly ip: string
  readonly code: number
}

export class TrafficBuilder {
  readonly #random: Random
  readonly #seed: number
  readonly #traces: TraceSpec[] = []

  constructor(seed: number) {
    this.#seed = seed
    this.#random = new Random(seed)
  }

  /**
   * Steady traffic in [from, to): per minute, IMS createImage 4–6 (alice, bob), ECS listServers
   * 8–12 (carol), EVS createVolume 4–6 (dave) with a 404 now and then, and a denied IAM call of bob
   * now and then.
   */
  steady(from: number, to: number): this {
    const users = ['alice', 'bob']
    for (let minute = from; minute < to; minute += MINUTE) {
      const add = (n: number, spec: Omit<TraceSpec, 'time'>): void => {
        for (let i = 0; i < n; i++)
          this.add({ ...spec, time: minute + this.#random.int(0, MINUTE - 1) })
      }
      for (let i = this.#random.int(4, 6); i > 0; i--) {
        const user = users[this.#random.int(0, 1)] as string
        add(1, {
          service: 'IMS',
          name: 'createImage',
          user,
          ip: user === 'alice' ? '192.0.2.10' : '192.0.2.11',
          code: 201,
        })
      }
      add(this.#random.int(8, 12), {
        service: 'ECS',
        name: 'listServers',
        user: 'carol',
        ip: '192.0.2.12',
        code: 200,
      })
      add(this.#random.int(4, 6), {
        service: 'EVS',
        name: 'createVolume',
        user: 'dave',
        ip: '192.0.2.13',
        code: 200,
      })
      if (this.#random.chance(0.1))
        add(1, { service: 'EVS', name: 'createVolume', user: 'dave', ip: '192.0.2.13', code: 404 })
      if (this.#random.chance(0.2))
        add(1, { service: 'IAM', name: 'listUsers', user: 'bob', ip: '192.0.2.11', code: 403 })
    }
    return this
  }

  /** `n` traces like `spec`, spread evenly over [start, start + spanMs). */
  burst(start: number, spanMs: number, n: number, spec: Omit<TraceSpec, 'time'>): this {
    for (let i = 0; i < n; i++) this.add({ ...spec, time: start + Math.floor((i * spanMs) / n) })
    return this
  }

  add(spec: TraceSpec): this {
    this.#traces.push(spec)
    return this
  }

  build(): Traffic {
    const byMinute = new Map<number, Record<string, unknown>[]>()
    const sorted = [...this.#traces].sort((a, b) => a.time - b.time)
    sorted.forEach((spec, index) => {
      const minute = Math.floor(spec.time / MINUTE) * MINUTE
      const list = byMinute.get(minute) ?? []
      list.push({
        trace_id: uuid(`${this.#seed}:${index}`),
        time: spec.time,
        service_type: spec.service,
        resource_type: spec.service === 'IMS' ? 'image' : 'resource',
        resource_id: `r-${index}`,
        trace_name: spec.name,
        trace_type: 'ApiCall',
        code: spec.code,
        source_ip: spec.ip,
        user: { id: `id-${spec.user}`, name: spec.user, domain: { id: 'd1', name: 'acme' } },
      })
      byMinute.set(minute, list)
    })
    return { byMinute }
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TraceRecord } from '../../model/index.js'
import { InsightDetectors } from './insight-detectors.js'
import type { InsightDraft } from './observed-trace.js'
import { DEFAULT_DETECTOR_SETTINGS, type DetectorSettings } from './settings.js'

const T0 = Date.UTC(2026, 10, 21, 10, 0, 0)
const MIN = 60_000
let seq = 0
/** Each trace's place in commit order (as the job reads it with the trace). */
const seqOf = new WeakMap<TraceRecord, number>()

function trace(time: number, overrides: Partial<TraceRecord> = {}): TraceRecord {
  seq++
  const made: TraceRecord = {
    trace_id: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`,
    project_id: 'p1',
    domain_id: null,
    tracker_name: 'system',
    trace_name: 'createImage',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    event_type: 'system',
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: null,
    resource_name: null,
    request: null,
    response: null,
    code: '201',
    api_version: null,
    message: null,
    time,
    record_time: time,
    user: null,
    user_name: 'alice',
    access_key_id: null,
    source_ip: '192.0.2.1',
    request_id: null,
    location_info: null,
    endpoint: null,
    resource_url: null,
    enterprise_project_id: null,
    resource_account_id: null,
    read_only: null,
    operation_id: null,
    user_agent: null,
    content_length: null,
    total_time: null,
    ...overrides,
  }
  seqOf.set(made, seq)
  return made
}

function observe(detectors: InsightDetectors, t: TraceRecord): InsightDraft[] {
  return detectors.observe(t, seqOf.get(t) ?? Number.NaN)
}

const settings = (overrides: Partial<DetectorSettings> = {}): DetectorSettings => ({
  ...DEFAULT_DETECTOR_SETTINGS,
  warmupMinutes: 10,
  baselineMinutes: 20,
  ...overrides,
})

/** `n` traces per minute in minutes [from, to) (relative to T0), evenly spread. */
function steady(from: number, to: number, n: number, overrides: Partial<TraceRecord> = {}) {
  const out: TraceRecord[] = []
  for (let m = from; m < to; m++)
    for (let i = 0; i < n; i++) out.push(trace(T0 + m * MIN + (i * MIN) / n, overrides))
  return out
}

function feed(detectors: InsightDetectors, traces: readonly TraceRecord[]): InsightDraft[] {
  return traces.flatMap((t) => observe(detectors, t))
}

describe('rate insights', () => {
  it('says nothing before the warm-up, whatever the count', () => {
    const d = new InsightDetectors(settings())
    assert.deepEqual(feed(d, [...steady(0, 5, 3), ...steady(5, 6, 200)]), [])
  })

  it('starts at the trace that reaches the threshold and ends at the first quiet minute', () => {
    const d = new InsightDetectors(settings())
    assert.deepEqual(feed(d, steady(0, 20, 5)), [])
    const burst = steady(20, 22, 40, { user_name: 'mallory' })
    const found = feed(d, [...burst, ...steady(22, 24, 5)])
    const rate = found.filter((i) => i.insight_type === 'ApiCallRateInsight')
    assert.deepEqual(
      rate.map((i) => i.state),
      ['start', 'end'],
    )
    const [start, end] = rate as [InsightDraft, InsightDraft]
    const threshold = start.statistics?.threshold ?? 0
    // Baseline 5 per minute, no deviation: max(10, 5 + 4 × √5) ≈ 13.94, reached by the 14th call.
    assert.equal(Math.round(threshold * 100), 1394)
    assert.equal(start.time, burst[13]?.time)
    assert.equal(start.statistics?.baseline.average, 5)
    assert.equal(end.insight_id, start.insight_id)
    assert.notEqual(end.id, start.id)
    assert.equal(end.time, T0 + 22 * MIN)
    assert.deepEqual(end.statistics?.insight, { average: 40, peak: 40 })
    assert.equal(end.statistics?.insight_duration, 2)
    const users = end.attributions.find((a) => a.attribute === 'user')
    assert.deepEqual(users?.insight, [{ value: 'mallory', average: 40 }])
    assert.equal(users?.baseline[0]?.value, 'alice')
  })

  it('ends a burst that stops when the clock passes, and counts error rates on code >= 400', () => {
    const d = new InsightDetectors(settings({ latenessMs: 0 }))
    feed(d, steady(0, 20, 5))
    const started = feed(d, steady(20, 21, 12, { code: '500' }))
    assert.deepEqual(
      started.map((i) => `${i.insight_type} ${i.state}`),
      ['ApiErrorRateInsight start'],
      'the errors exceed the error baseline (0) but 12 calls stay under the call threshold',
    )
    assert.deepEqual(d.advance(T0 + 21 * MIN), [], 'the burst minute closes, still anomalous')
    assert.deepEqual(d.advance(T0 + 22 * MIN - 1), [], 'the quiet minute is not over')
    const ended = d.advance(T0 + 22 * MIN)
    assert.deepEqual(
      ended.map((i) => `${i.insight_type} ${i.state} ${i.time}`),
      [`ApiErrorRateInsight end ${T0 + 21 * MIN}`],
    )
  })

  it('ignores traces older than the current minute and its own insight traces', () => {
    const d = new InsightDetectors(settings())
    feed(d, steady(0, 20, 5))
    assert.deepEqual(feed(d, steady(0, 1, 100)), [], 'late traces are not counted')
    const own = steady(20, 21, 100, { service_type: 'CTS', resource_type: 'insight' })
    assert.deepEqual(feed(d, own), [])
  })

  it('continues from its drained state exactly as without the restart', () => {
    const traffic = [...steady(0, 20, 5), ...steady(20, 21, 30), ...steady(21, 23, 5)]
    const straight = new InsightDetectors(settings())
    const expected = feed(straight, traffic)
    let d = new InsightDetectors(settings())
    const state = new Map<string, string>()
    const got: InsightDraft[] = []
    traffic.forEach((t, i) => {
      got.push(...observe(d, t))
      if (i % 37 === 0) {
        const { upserts, deletes } = d.drain(seqOf.get(t) ?? 0)
        for (const [k, v] of upserts) state.set(k, v)
        for (const k of deletes) state.delete(k)
        d = new InsightDetectors(settings(), state)
      }
    })
    assert.ok(expected.length >= 2)
    assert.deepEqual(got, expected)
  })

  it('counts no trace twice after a checkpoint cut short between its parts', () => {
    // Minute 20 stays below the threshold (9 calls on a baseline of 5: threshold ~13.9), unless
    // the 7 calls before the cut were counted twice; minute 22 is a real anomaly.
    const traffic = [
      ...steady(0, 20, 5),
      ...steady(0, 25, 3, { trace_name: 'listImages', user_name: 'bob', source_ip: '192.0.2.7' }),
      ...steady(0, 25, 2, { trace_name: 'showImage', user_name: 'carol' }),
      ...steady(20, 21, 9),
      ...steady(21, 22, 5),
      ...steady(22, 23, 30),
      ...steady(23, 25, 5),
    ].sort((a, b) => a.time - b.time)
    const straight = new InsightDetectors(settings())
    const expected = feed(straight, traffic)
    assert.ok(expected.some((i) => i.state === 'start'))
    const state = new Map<string, string>()
    const apply = (part: { upserts: [string, string][]; deletes: string[] }): void => {
      for (const [k, v] of part.upserts) state.set(k, v)
      for (const k of part.deletes) state.delete(k)
    }
    const cut = traffic.findIndex((t) => t.time >= T0 + 20 * MIN) + 7
    const checkpointAt = cut - 9
    let d = new InsightDetectors(settings())
    const got = feed(d, traffic.slice(0, checkpointAt))
    apply(d.drain(seqOf.get(traffic[checkpointAt - 1] as TraceRecord) ?? 0))
    got.push(...feed(d, traffic.slice(checkpointAt, cut)))
    // A checkpoint in parts of one entry; every part but the last (the cursor's) is written.
    const parts = []
    for (let i = 0; i < 100; i++) {
      const part = d.drain(seqOf.get(traffic[cut - 1] as TraceRecord) ?? 0, 1)
      parts.push(part)
      if (part.done) break
    }
    assert.ok(parts.length >= 3 && parts.at(-1)?.done, `${parts.length} parts`)
    for (const part of parts.slice(0, -1)) apply(part)
    const written = JSON.parse(state.get('rate:["p1","IMS","createImage"]') ?? '{}') as {
      through?: number
    }
    assert.equal(written.through, seqOf.get(traffic[cut - 1] as TraceRecord), 'written in a part')
    // The replay from the stored cursor: the traces after the first checkpoint, again.
    d = new InsightDetectors(settings(), state)
    got.push(...feed(d, traffic.slice(checkpointAt)))
    const firstOfEach = [...new Map(got.reverse().map((i) => [i.id, i])).values()].reverse()
    assert.deepEqual(firstOfEach, expected)
  })

  it('learns the empty minutes of a gap as minutes without calls', () => {
    const d = new InsightDetectors(settings())
    feed(d, steady(0, 20, 5))
    const before = JSON.parse(
      d.drain(seq).upserts.find(([key]) => key.startsWith('rate:'))?.[1] ?? '{}',
    ) as { call: { base: { n: number; mean: number; variance: number } } }
    feed(d, steady(70, 71, 1))
    const after = JSON.parse(
      d.drain(seq).upserts.find(([key]) => key.startsWith('rate:'))?.[1] ?? '{}',
    ) as typeof before
    // Minute 19 (5 calls), then 50 empty minutes: 20 … 69.
    const alpha = 2 / (settings().baselineMinutes + 1)
    const base = { ...before.call.base }
    for (const count of [5, ...Array<number>(50).fill(0)]) {
      const delta = count - base.mean
      base.mean += alpha * delta
      base.variance = (1 - alpha) * (base.variance + alpha * delta * delta)
      base.n++
    }
    assert.deepEqual(after.call.base, base)
  })

  it('tracks at most maxSeries series, evicting the least recently used', () => {
    const d = new InsightDetectors(settings({ maxSeries: 100 }))
    for (let i = 0; i < 250; i++) observe(d, trace(T0, { trace_name: `op${i}` }))
    assert.equal(d.rate.series.size, 100)
    const { upserts, deletes } = d.drain(seq)
    assert.equal(upserts.filter(([key]) => key.startsWith('rate:')).length, 100)
    assert.equal(deletes.length, 0, 'evicted before ever written: nothing to delete')
    observe(d, trace(T0, { trace_name: 'newest' }))
    assert.equal(d.drain(seq).deletes.length, 1, 'a written series evicted is deleted')
  })
})

describe('denied bursts', () => {
  it('starts per user and per source IP at the threshold and ends after a quiet minute', () => {
    const d = new InsightDetectors(settings({ deniedThreshold: 5 }))
    const denied = steady(0, 1, 6, { code: '403', user_name: 'trudy', source_ip: '198.51.100.9' })
    const found = feed(d, denied)
    assert.deepEqual(
      found
        .filter((i) => i.insight_type === 'DeniedBurstInsight')
        .map((i) => [i.state, i.subject, i.time]),
      [
        ['start', { user: 'trudy' }, denied[4]?.time],
        ['start', { source_ip: '198.51.100.9' }, denied[4]?.time],
      ],
    )
    const ended = d.advance(T0 + 2 * MIN + DEFAULT_DETECTOR_SETTINGS.latenessMs)
    assert.deepEqual(
      ended.map((i) => [i.state, i.time, i.statistics?.insight.peak]),
      [
        ['end', T0 + MIN, 6],
        ['end', T0 + MIN, 6],
      ],
    )
    assert.deepEqual(feed(d, steady(3, 4, 4, { code: '401', user_name: 'trudy' })), [])
  })
})

describe('high-risk operations', () => {
  it('flags a first delete by a user, then one from a new source IP, never a failed one', () => {
    const d = new InsightDetectors(settings())
    feed(d, steady(0, 2, 3))
    const del = (m: number, ip: string, code = '204') =>
      trace(T0 + m * MIN, { trace_name: 'deleteImage', source_ip: ip, code })
    const reasons = (t: TraceRecord) =>
      observe(d, t)
        .filter((i) => i.insight_type === 'HighRiskOperationInsight')
        .map((i) => i.reasons)
    assert.deepEqual(reasons(del(3, '192.0.2.1', '403')), [], 'a failed delete is not performed')
    assert.deepEqual(reasons(del(3, '192.0.2.1')), [['first_operation']])
    assert.deepEqual(reasons(del(4, '192.0.2.1')), [])
    assert.deepEqual(reasons(del(5, '203.0.113.5')), [['new_source_ip']])
    assert.deepEqual(reasons(del(6, '203.0.113.5')), [])
    const bob = trace(T0 + 7 * MIN, { trace_name: 'deleteImage', user_name: 'bob' })
    assert.deepEqual(reasons(bob), [['first_operation']], 'a user never seen: first only')
  })
})

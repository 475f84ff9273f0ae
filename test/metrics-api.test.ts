/**
 * `GET /metrics` end to end: scraped without a credential, in the Prometheus text format, with
 * counters, histograms and the transfer lag reflecting what the API and the transfer did.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { MasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { OPENCTS_VERSION, buildApp } from '../src/http/app.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { createServices } from '../src/services.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { MemoryObjectSink } from './helpers/memory-object-sink.js'
import { reportedTrace } from './helpers/make-trace.js'
import {
  TEST_NOW,
  TEST_PROJECTS,
  TEST_SCRYPT_COST,
  buildTestApp,
  call,
} from './helpers/test-app.js'

const [P] = TEST_PROJECTS

interface Scrape {
  readonly status: number
  readonly contentType: unknown
  readonly text: string
  /** `# TYPE` of each metric. */
  readonly types: Map<string, string>
  /** Value of each sample line, by `name{labels}` as written. */
  readonly samples: Map<string, number>
}

/** Scrapes like Prometheus: no credential. */
async function scrape(app: FastifyInstance): Promise<Scrape> {
  const response = await app.inject({ method: 'GET', url: '/metrics' })
  const types = new Map<string, string>()
  const samples = new Map<string, number>()
  for (const line of response.body.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) types.set(type[1] ?? '', type[2] ?? '')
    else if (line !== '' && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ')
      samples.set(line.slice(0, at), Number(line.slice(at + 1)))
    }
  }
  return {
    status: response.statusCode,
    contentType: response.headers['content-type'],
    text: response.body,
    types,
    samples,
  }
}

function ingested(service: string, name: string, rating: string): string {
  return `opencts_traces_ingested_total{service="${service}",trace_name="${name}",rating="${rating}"}`
}

describe('GET /metrics', () => {
  it('answers without a credential in the Prometheus text format with every OpenCTS metric', async (t) => {
    const { app } = await buildTestApp(t)
    const s = await scrape(app)
    assert.equal(s.status, 200)
    assert.equal(s.contentType, 'text/plain; version=0.0.4; charset=utf-8')
    assert.deepEqual([...s.types].sort(), [
      ['opencts_build_info', 'gauge'],
      ['opencts_deliveries_total', 'counter'],
      ['opencts_ingest_duration_seconds', 'histogram'],
      ['opencts_ingest_step_microseconds_per_trace', 'gauge'],
      ['opencts_lease_held', 'gauge'],
      ['opencts_log_stream_records_total', 'counter'],
      ['opencts_metrics_callback_errors_total', 'counter'],
      ['opencts_outbox_depth', 'gauge'],
      ['opencts_query_duration_seconds', 'histogram'],
      ['opencts_storage_full', 'gauge'],
      ['opencts_storage_full_errors_total', 'counter'],
      ['opencts_store_pool_connections', 'gauge'],
      ['opencts_traces_ingested_total', 'counter'],
      ['opencts_transfer_lag_seconds', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
    ])
    assert.equal(s.samples.get(`opencts_build_info{version="${OPENCTS_VERSION}"}`), 1)
    assert.ok((s.samples.get('process_start_time_seconds') ?? 0) > 1.6e9)
    assert.equal(s.samples.get('opencts_outbox_depth'), 0)
    assert.equal(s.samples.get('opencts_deliveries_total{outcome="dead"}'), 0)
    const helps = s.text.split('\n').filter((line) => line.startsWith('# HELP ')).length
    assert.equal(helps, s.types.size, 'one # HELP per metric')
  })

  it('counts committed traces by service, trace name and rating, and times ingest and queries', async (t) => {
    const { app } = await buildTestApp(t)
    const before = await scrape(app)
    const count = (s: Scrape, series: string): number => s.samples.get(series) ?? 0
    const secret = 'a-request-body-secret-4711'
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({ time: TEST_NOW - 60_000, service_type: 'ECS', trace_name: 'createServer' }),
        reportedTrace({
          time: TEST_NOW - 50_000,
          service_type: 'ECS',
          trace_name: 'createServer',
          request: { password: secret },
        }),
        reportedTrace({
          time: TEST_NOW - 40_000,
          service_type: 'VPC',
          trace_name: 'deleteEip',
          trace_rating: 'warning',
        }),
      ],
    })
    assert.equal(posted.status, 201)
    // A re-report of stored ids stores nothing and counts nothing; an invalid batch fails whole.
    const traceIds: string[] = posted.body.trace_ids
    const again = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({
          trace_id: traceIds[0],
          time: TEST_NOW - 60_000,
          service_type: 'ECS',
          trace_name: 'createServer',
        }),
      ],
    })
    assert.equal(again.status, 201)
    const invalid = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ service_type: 'ECS', trace_name: '9bad' })],
    })
    assert.equal(invalid.status, 400)
    assert.equal((await call(app, 'GET', `/v3/${P}/traces?service_type=ECS`)).status, 200)
    assert.equal((await call(app, 'GET', `/v1.0/${P}/system/trace`)).status, 200)
    assert.equal((await call(app, 'GET', `/health`, undefined, { auth: false })).status, 200)

    const after = await scrape(app)
    assert.equal(count(after, ingested('ECS', 'createServer', 'normal')), 2)
    assert.equal(count(after, ingested('VPC', 'deleteEip', 'warning')), 1)
    assert.doesNotMatch(after.text, new RegExp(secret), 'no trace content')
    const delta = (series: string): number => count(after, series) - count(before, series)
    assert.equal(delta('opencts_ingest_duration_seconds_count'), 3, 'success, re-report and 400')
    assert.equal(delta('opencts_ingest_duration_seconds_bucket{le="+Inf"}'), 3)
    assert.ok(delta('opencts_ingest_duration_seconds_sum') > 0)
    for (const step of ['parse', 'normalise'])
      assert.ok(
        count(after, `opencts_ingest_step_microseconds_per_trace{step="${step}"}`) > 0,
        `${step} time per trace`,
      )
    assert.equal(delta('opencts_query_duration_seconds_count{api="v3"}'), 1)
    assert.equal(delta('opencts_query_duration_seconds_count{api="v1.0"}'), 1)
    assert.equal(delta('opencts_query_duration_seconds_count{api="v2.0"}'), 0)
  })

  it('reports transfer lag per tracker with a bucket, back to 0 once the transfer caught up', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-metrics-'))
    const store = openSqliteStore({ path: join(dir, 'opencts.db') })
    const clock = new FakeClock(TEST_NOW)
    const sink = new MemoryObjectSink()
    const services = createServices({
      config: loadConfig({}, { dataDir: dir }),
      store,
      clock,
      ids: randomIds,
      masterKey: MasterKey.generate(),
      passwordCost: TEST_SCRYPT_COST,
      objectSink: sink,
    })
    const app = await buildApp(services, { logLevel: false })
    t.after(async () => {
      await app.close()
      await store.close()
    })
    const lagOf = async (tracker: string): Promise<number | undefined> =>
      (await scrape(app)).samples.get(
        `opencts_transfer_lag_seconds{project="${P}",tracker="${tracker}"}`,
      )
    await sink.createBucket('audit-bucket')
    const base = { now: TEST_NOW, projectId: P, domainId: 'd1' }
    const system = newTracker({ ...base, id: 'a'.repeat(32), type: 'system', name: 'system' })
    await store.config.insertTracker(
      { ...system, obs_info: { ...system.obs_info, bucket_name: 'audit-bucket' } },
      [],
    )
    const unbucketed = newTracker({ ...base, id: 'b'.repeat(32), type: 'data', name: 'nobucket' })
    await store.config.insertTracker(unbucketed, [])

    assert.equal(await lagOf('system'), 0, 'nothing to transfer')
    await services.ingestor.ingest(P, { traces: [reportedTrace({ time: TEST_NOW - 1000 })] })
    clock.advance(90_000)
    await services.ingestor.ingest(P, { traces: [reportedTrace({ time: TEST_NOW })] })
    clock.advance(10_000)
    assert.equal(await lagOf('system'), 100, 'age of the oldest trace not yet transferred')
    assert.equal(await lagOf('nobucket'), undefined, 'no bucket, no transfer, no lag')
    const report = await services.transfer?.runCycle()
    assert.equal(report?.traces, 2)
    assert.equal(await lagOf('system'), 0)
  })
})

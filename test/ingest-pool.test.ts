/**
 * The ingest worker pool (src/ingest/prepare-pool.ts) and the raw ingest route: NDJSON batches end
 * to end over HTTP, the same error answers from the threads as from the event loop, no batch lost
 * when a thread dies, and a store preparer's path (documents and leaf hashes made in the threads).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Ingestor, Publisher, type PublishedTrace } from '../src/ingest/index.js'
import { PreparePool } from '../src/ingest/prepare-pool.js'
import type { PrepareJob } from '../src/ingest/prepare-batch.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { openStore } from '../src/store/open-store.js'
import { withJsonPreparer, type PreparedLog } from './helpers/json-preparer.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, adminToken, buildTestApp } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'
const RETENTION_MS = 7 * 86_400_000

/** A reported trace of the test clock's time. */
const trace = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
  reportedTrace({ time: TEST_NOW - 1000, ...overrides })

interface Answer {
  readonly status: number
  readonly body: { error_code?: string; error_msg?: string; trace_ids?: string[] } & Record<
    string,
    unknown
  >
}

/** Listens on 127.0.0.1 and posts `payload` to the ingest route with the admin's token. */
async function post(
  app: FastifyInstance,
  payload: string,
  type = 'application/json',
): Promise<Answer> {
  const address = app.server.listening
    ? app.server.address()
    : (await app.listen({ host: '127.0.0.1', port: 0 }), app.server.address())
  if (address === null || typeof address === 'string') throw new Error('not listening')
  const response = await fetch(`http://127.0.0.1:${address.port}/v3/${P}/traces`, {
    method: 'POST',
    headers: { 'content-type': type, 'x-auth-token': await adminToken(app, P) },
    body: payload,
    signal: AbortSignal.timeout(30_000),
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

async function appWith(t: TestContext, workers: number): Promise<FastifyInstance> {
  return (await buildTestApp(t, { ingestWorkers: String(workers) })).app
}

const tooMany = JSON.stringify({ traces: Array.from({ length: 1001 }, () => trace()) })

/** Bad batches, each as JSON text and content type; every one must be refused with a 4xx. */
const BAD_BATCHES: readonly { name: string; payload: string; type?: string }[] = [
  { name: 'syntax error', payload: '{"traces": [' },
  { name: 'trailing garbage', payload: '{"traces": []} x' },
  { name: 'proto key', payload: `{"traces": [], "__proto__": {"x": 1}}` },
  { name: 'constructor.prototype', payload: '{"constructor": {"prototype": {}}}' },
  { name: 'not an object', payload: '[1, 2]' },
  { name: 'null', payload: 'null' },
  { name: 'no traces', payload: '{"trace": []}' },
  { name: 'empty traces', payload: '{"traces": []}' },
  { name: 'too many traces', payload: tooMany },
  { name: 'bad field', payload: JSON.stringify({ traces: [trace(), trace({ time: 'x' })] }) },
  { name: 'unknown field', payload: JSON.stringify({ traces: [trace({ colour: 'red' })] }) },
  { name: 'trace not an object', payload: '{"traces": [7]}' },
  { name: 'bad id', payload: JSON.stringify({ traces: [trace({ trace_id: 'nope' })] }) },
  {
    name: 'too deep',
    payload: JSON.stringify({ traces: [trace({ request: 0 })] }).replace(
      '"request":0',
      `"request":${'['.repeat(5000)}${']'.repeat(5000)}`,
    ),
  },
  { name: 'ndjson bad line', payload: `${JSON.stringify(trace())}\n{oops\n`, type: 'ndjson' },
  { name: 'ndjson empty', payload: '\n\n  \n', type: 'ndjson' },
  {
    name: 'ndjson too many',
    payload: Array.from({ length: 1001 }, () => JSON.stringify(trace())).join('\n'),
    type: 'ndjson',
  },
  { name: 'ndjson bad field', payload: `${JSON.stringify(trace({ code: -1 }))}\n`, type: 'ndjson' },
  {
    name: 'ndjson too deep',
    payload: `${JSON.stringify(trace())}\n${'['.repeat(100)}${']'.repeat(100)}\n`,
    type: 'ndjson',
  },
]

const mediaType = (type: string | undefined): string =>
  type === 'ndjson' ? 'application/x-ndjson' : 'application/json'

describe('raw ingest route', () => {
  for (const workers of [0, 2]) {
    it(`stores an NDJSON batch and answers its ids (ingestWorkers ${workers})`, async (t) => {
      const app = await appWith(t, workers)
      const ids = [randomUUID(), randomUUID(), randomUUID()]
      const lines = ids.map((id, i) =>
        JSON.stringify(trace({ trace_id: id, trace_name: `op${i}` })),
      )
      // CRLF, blank lines and a trace without an id (the server makes one).
      const payload = `${lines[0]}\r\n\n${lines[1]}\n   \n${lines[2]}\n${JSON.stringify(trace())}\n`
      const answer = await post(app, payload, 'application/x-ndjson; charset=utf-8')
      assert.equal(answer.status, 201, JSON.stringify(answer.body))
      const returned = answer.body.trace_ids ?? []
      assert.equal(returned.length, 4)
      assert.deepEqual(returned.slice(0, 3), ids)
      assert.match(returned[3] ?? '', /^[0-9a-f-]{36}$/)
      assert.equal((answer.body.leaf_indexes as unknown[]).length, 4)
      const listed = await app.inject({
        method: 'GET',
        url: `/v3/${P}/traces?trace_type=system&service_type=IMS&limit=10`,
        headers: { 'x-auth-token': await adminToken(app, P) },
      })
      const stored = (JSON.parse(listed.body) as { traces: { trace_id: string }[] }).traces
      assert.deepEqual(stored.map((t) => t.trace_id).sort(), [...returned].sort())
      // A re-report stores nothing new and answers the same ids.
      const again = await post(
        app,
        payload.replace(lines[0] ?? '', lines[0] ?? ''),
        'application/x-ndjson',
      )
      assert.equal(again.status, 201)
      assert.deepEqual(again.body.trace_ids?.slice(0, 3), ids)
    })
  }

  it('answers every bad batch alike with and without threads, as the event loop validates it', async (t) => {
    const inline = await appWith(t, 0)
    const threads = await appWith(t, 2)
    const { services } = await buildTestApp(t)
    for (const bad of BAD_BATCHES) {
      const type = mediaType(bad.type)
      const a = await post(inline, bad.payload, type)
      const b = await post(threads, bad.payload, type)
      assert.ok(a.status >= 400 && a.status < 500, `${bad.name}: ${a.status}`)
      assert.deepEqual(b, a, bad.name)
      assert.equal(typeof a.body.error_msg, 'string', bad.name)
      // A JSON body that parses: the same answer as the event loop's validateBatch.
      if (bad.type === undefined) {
        let parsed: unknown
        try {
          parsed = JSON.parse(bad.payload)
        } catch {
          continue
        }
        if (bad.name.includes('proto') || bad.name.includes('deep')) continue
        assert.throws(
          () => services.ingestor.validateBatch(P, parsed),
          (error: Error) => error.message === a.body.error_msg,
          bad.name,
        )
      }
    }
    const syntax = await post(threads, '{"traces": [')
    assert.deepEqual(syntax, {
      status: 400,
      body: { error_code: 'CTS.0003', error_msg: 'The message body is not valid JSON.' },
    })
    const deep = await post(
      threads,
      BAD_BATCHES.find((b) => b.name === 'ndjson too deep')?.payload ?? '',
      'application/x-ndjson',
    )
    assert.equal(
      deep.body.error_msg,
      'traces[1]: JSON nested deeper than 64 levels of arrays/objects (the limit of a request body)',
    )
    const many = await post(threads, tooMany)
    assert.deepEqual(many, {
      status: 413,
      body: { error_code: 'OCTS.0101', error_msg: 'The batch has 1001 traces, max 1000.' },
    })
  })
})

/** A pool job of `count` fresh traces as JSON. */
function job(count: number, ids: string[] = []): PrepareJob {
  const traces = Array.from({ length: count }, () => {
    const id = randomUUID()
    ids.push(id)
    return trace({ trace_id: id })
  })
  return {
    projectId: P,
    bytes: new TextEncoder().encode(JSON.stringify({ traces })),
    format: 'json',
    now: TEST_NOW,
    retentionMs: RETENTION_MS,
    merkle: true,
  }
}

describe('PreparePool', () => {
  it('loses no batch when a thread is killed, prepares it inline and restarts the thread', async (t) => {
    const pool = new PreparePool({ workers: 1, newId: () => randomUUID() })
    t.after(() => pool.close())
    const warm = await pool.run(job(3))
    assert.equal(warm.traceIds.length, 3)
    assert.equal(pool.stats().onEventLoop, 0, 'the thread prepared the first batch')
    const expected: string[][] = []
    const runs = Array.from({ length: 5 }, () => {
      const ids: string[] = []
      expected.push(ids)
      return pool.run(job(200, ids))
    })
    await pool.terminateWorker(0)
    const results = await Promise.all(runs)
    results.forEach((result, i) => assert.deepEqual(result.traceIds, expected[i]))
    const stats = pool.stats()
    assert.equal(stats.workerFailures, 1)
    assert.ok(stats.onEventLoop >= 1, `prepared inline: ${stats.onEventLoop}`)
    assert.equal(pool.liveWorkers, 0)
    // Restarted after its backoff (250 ms): a later batch runs on a thread again.
    const deadline = Date.now() + 20_000
    let before = pool.stats().onEventLoop
    for (;;) {
      await pool.run(job(1))
      const now = pool.stats().onEventLoop
      if (now === before) break
      before = now
      assert.ok(Date.now() < deadline, 'the thread came back')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.equal(pool.liveWorkers, 1)
    assert.ok(pool.stats().traces >= 1003)
  })

  it('stops a thread left without a batch, and starts it again for the next one', async (t) => {
    const pool = new PreparePool({ workers: 1, newId: () => randomUUID(), idleStopMs: 300 })
    t.after(() => pool.close())
    const ids: string[] = []
    assert.deepEqual((await pool.run(job(5, ids))).traceIds, ids)
    assert.equal(pool.liveWorkers, 1)
    // Batches closer together than the idle time keep the thread.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150))
      await pool.run(job(1))
      assert.equal(pool.liveWorkers, 1, `still running after batch ${i}`)
    }
    const deadline = Date.now() + 10_000
    while (pool.liveWorkers > 0) {
      assert.ok(Date.now() < deadline, 'the idle thread stopped')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const again: string[] = []
    assert.deepEqual((await pool.run(job(4, again))).traceIds, again)
    assert.equal(pool.liveWorkers, 1)
    const stats = pool.stats()
    assert.equal(stats.workerFailures, 0, 'stopping an idle thread is no failure')
    assert.equal(stats.onEventLoop, 0, 'every batch ran on a thread')
  })

  it('commits every batch of an ingestor whose thread is killed mid-way', async (t) => {
    const store = await openStore({ url: 'sqlite::memory:', merkle: TRACE_LOG_HASHING })
    t.after(() => store.close())
    const pool = new PreparePool({ workers: 2, newId: () => randomUUID() })
    t.after(() => pool.close())
    const publisher = new Publisher()
    const heard: PublishedTrace[] = []
    publisher.subscribe((traces) => heard.push(...traces))
    const ingestor = new Ingestor({
      traces: store.traces,
      clock: new FakeClock(TEST_NOW),
      ids: randomIds,
      publisher,
      retentionMs: RETENTION_MS,
      merkleLog: true,
      pool,
    })
    const all: string[] = []
    const batches = Array.from({ length: 6 }, () => job(100, all))
    const done = batches.map((b) => ingestor.ingestRaw(P, b.bytes, 'json'))
    await Promise.all([pool.terminateWorker(0), pool.terminateWorker(1)])
    const results = await Promise.all(done)
    assert.deepEqual(
      results.flatMap((r) => r.trace_ids),
      all,
    )
    assert.equal(
      results.reduce((n, r) => n + r.stored, 0),
      600,
    )
    for (const id of all) assert.ok(await store.traces.get(P, id), id)
    assert.deepEqual(heard.map((h) => h.trace_id).sort(), [...all].sort())
    assert.deepEqual(Object.keys(heard[0] ?? {}).sort(), [
      'project_id',
      'resource_type',
      'service_type',
      'time',
      'trace_id',
      'trace_name',
      'trace_rating',
      'user_name',
    ])
  })

  it('hands a store preparer documents and leaf hashes made in the threads', async (t) => {
    const store = await openStore({ url: 'sqlite::memory:', merkle: TRACE_LOG_HASHING })
    t.after(() => store.close())
    const log: PreparedLog = { batches: 0, mismatches: [] }
    for (const workers of [2, 0]) {
      const pool = new PreparePool({ workers, newId: () => randomUUID() })
      t.after(() => pool.close())
      const ingestor = new Ingestor({
        traces: withJsonPreparer(store.traces, log),
        clock: new FakeClock(TEST_NOW),
        ids: randomIds,
        publisher: new Publisher(),
        retentionMs: RETENTION_MS,
        merkleLog: true,
        pool,
      })
      const ids: string[] = []
      const first = job(50, ids)
      const result = await ingestor.ingestRaw(P, first.bytes, 'json')
      assert.deepEqual(result.trace_ids, ids)
      assert.equal(result.stored, 50)
      assert.ok(result.leaf_indexes.every((i) => typeof i === 'number'))
      const stats = pool.stats()
      assert.equal(stats.traces, 50)
      assert.ok(stats.document > 0 && stats.hash > 0 && stats.prepare > 0, JSON.stringify(stats))
      assert.equal(stats.onEventLoop, workers === 0 ? 1 : 0)
    }
    assert.equal(log.batches, 2)
    assert.deepEqual(log.mismatches, [])
  })
})

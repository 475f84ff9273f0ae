/**
 * A full disk under the store, with the real engine: SQLite's `max_page_count` (SqliteStore.capPages)
 * makes every write that needs a new page fail with SQLITE_FULL, as ENOSPC does. Ingest answers 503
 * OCTS.0505 with Retry-After and stores nothing (no 201 for an uncommitted trace); `/health` and the
 * metrics report it; once space is back both recover without a restart.
 */
import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { it } from 'node:test'
import { SqliteStore } from '../src/store/sqlite/index.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, buildTestApp, call } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'

function batch(size: number): Record<string, unknown>[] {
  return Array.from({ length: size }, (_, i) =>
    reportedTrace({
      trace_id: randomUUID(),
      time: TEST_NOW - 60_000 + i,
      // Random, so that it does not compress away: a batch needs new pages of the file.
      request: { padding: randomBytes(1_000).toString('hex'), i },
    }),
  )
}

function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

it('disk full: 503 OCTS.0505 with Retry-After, nothing stored, health and metrics report it, then recovery', async (t) => {
  const { app, services } = await buildTestApp(t)
  const store = services.store
  assert.ok(store instanceof SqliteStore)
  assert.equal((await call(app, 'POST', `/v3/${P}/traces`, { traces: batch(2) })).status, 201)

  store.capPages(0) // the file may not grow any more: the disk is "full"
  const refused = batch(50)
  const posted = await call(app, 'POST', `/v3/${P}/traces`, { traces: refused })
  assert.equal(posted.status, 503, JSON.stringify(posted.body))
  assert.equal(posted.body.error_code, 'OCTS.0505')
  assert.match(posted.body.error_msg, /full/)
  assert.ok(Number(posted.headers['retry-after']) > 0, 'Retry-After')
  for (const trace of refused.slice(0, 3)) {
    const found = await call(app, 'GET', `/v3/${P}/traces?trace_id=${String(trace.trace_id)}`)
    assert.equal(found.body.traces.length, 0, 'a refused batch is not stored')
  }

  const health = await call(app, 'GET', '/health', undefined, { auth: false })
  assert.equal(health.status, 503)
  assert.equal(health.body.error_code, 'OCTS.0505')
  assert.ok(Number(health.headers['retry-after']) > 0)
  const full = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.equal(metric(full, 'opencts_storage_full{store="database"}'), 1)
  assert.ok((metric(full, 'opencts_storage_full_errors_total{store="database"}') ?? 0) >= 1)

  store.capPages(1_000_000_000) // space is back
  const healed = await call(app, 'GET', '/health', undefined, { auth: false })
  assert.equal(healed.status, 200, JSON.stringify(healed.body))
  assert.deepEqual(healed.body.storage, { database: 'ok' })
  const after = (await app.inject({ method: 'GET', url: '/metrics' })).body
  assert.equal(metric(after, 'opencts_storage_full{store="database"}'), 0)

  const retried = await call(app, 'POST', `/v3/${P}/traces`, { traces: refused })
  assert.equal(retried.status, 201)
  assert.equal(retried.body.trace_ids.length, 50)
  const found = await call(app, 'GET', `/v3/${P}/traces?trace_id=${String(refused[0]?.trace_id)}`)
  assert.equal(found.body.traces.length, 1)
})

it('a batch that needs space clears the condition by itself, without a health probe', async (t) => {
  const { app, services } = await buildTestApp(t)
  const store = services.store
  assert.ok(store instanceof SqliteStore)
  assert.equal((await call(app, 'POST', `/v3/${P}/traces`, { traces: batch(1) })).status, 201)
  store.capPages(0)
  assert.equal((await call(app, 'POST', `/v3/${P}/traces`, { traces: batch(50) })).status, 503)
  assert.equal(store.storage.full, true)
  store.capPages(1_000_000_000)
  assert.equal((await call(app, 'POST', `/v3/${P}/traces`, { traces: batch(50) })).status, 201)
  assert.equal(store.storage.full, false)
})

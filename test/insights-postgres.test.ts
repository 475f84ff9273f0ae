/**
 * Insights end to end on PostgreSQL: the same injected anomalies as test/insights.test.ts, ingested
 * minute by minute through the Ingestor into a PostgreSQL store, the detectors' job run after each
 * minute, the job's memory dropped now and then (a restart), and the insights read back through
 * the list query. Skipped when `STORES` leaves PostgreSQL out.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { MasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { createServices } from '../src/services.js'
import type { InsightRecord } from '../src/store/index.js'
import { openStore } from '../src/store/open-store.js'
import { MINUTE, TrafficBuilder } from './helpers/insight-traffic.js'
import { createTestDatabase, testEngines } from './helpers/postgres.js'
import { TEST_NOW, TEST_SCRYPT_COST } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'
const BASE = TEST_NOW - 120 * MINUTE
const BURST = BASE + 70 * MINUTE + 20_000

it(
  'finds injected bursts on PostgreSQL, across restarts of the job',
  { skip: testEngines().includes('postgres') ? false : 'STORES leaves postgres out' },
  async (t) => {
    const database = await createTestDatabase('insights')
    t.after(() => database.drop())
    const store = await openStore({ url: database.url })
    const clock = new FakeClock(BASE)
    const services = createServices({
      config: loadConfig({}, { dataDir: mkdtempSync(join(tmpdir(), 'opencts-insights-pg-')) }),
      store,
      clock,
      ids: randomIds,
      masterKey: MasterKey.generate(),
      passwordCost: TEST_SCRYPT_COST,
    })
    t.after(async () => {
      await services.ingestor.close()
      await store.close()
    })
    const traffic = new TrafficBuilder(31)
      .steady(BASE, BASE + 80 * MINUTE)
      .burst(BURST, 60_000, 80, {
        service: 'IMS',
        name: 'createImage',
        user: 'mallory',
        ip: '203.0.113.7',
        code: 201,
      })
      .burst(BURST, 40_000, 30, {
        service: 'IAM',
        name: 'deleteUser',
        user: 'trudy',
        ip: '198.51.100.9',
        code: 401,
      })
      .add({
        time: BURST + 30_000,
        service: 'CTS',
        name: 'deleteTracker',
        user: 'bob',
        ip: '192.0.2.11',
        code: 200,
      })
      .build()
    const minutes = [...traffic.byMinute.keys()].sort((a, b) => a - b)
    for (const [index, minute] of minutes.entries()) {
      clock.set(minute + MINUTE + 1000)
      await services.ingestor.ingest(P, { traces: traffic.byMinute.get(minute) ?? [] })
      if (index % 9 === 8) await services.insightJob.stop()
      assert.ok((await services.insightJob.runCycle()).caughtUp)
    }
    clock.set((minutes.at(-1) ?? BASE) + 4 * MINUTE)
    await services.insightJob.runCycle()

    const listed = await services.insights.list(P, { limit: '200' })
    const insights: InsightRecord[] = listed.insights
    const kinds = insights.map((i) => `${i.insight_type} ${i.state} ${i.service_type}`).sort()
    assert.deepEqual(kinds, [
      'ApiCallRateInsight end IMS',
      'ApiCallRateInsight start IMS',
      'DeniedBurstInsight end null',
      'DeniedBurstInsight end null',
      'DeniedBurstInsight start null',
      'DeniedBurstInsight start null',
      'HighRiskOperationInsight start CTS',
    ])
    for (const i of insights) {
      assert.ok(i.time >= BURST, JSON.stringify(i))
      if (i.state === 'start') assert.ok(i.detected_at - BURST <= 2 * MINUTE, JSON.stringify(i))
    }
    const callStart = insights.find(
      (i) => i.insight_type === 'ApiCallRateInsight' && i.state === 'start',
    )
    const users = callStart?.attributions.find((a) => a.attribute === 'user')
    assert.equal(users?.insight[0]?.value, 'mallory')
    // Each insight event is a trace of the project too, stored once.
    const traces = await store.traces.page(
      {
        projectId: P,
        from: BASE,
        to: clock.now() + 1,
        category: 'system',
        serviceType: 'CTS',
        resourceType: 'insight',
      },
      null,
      200,
    )
    assert.equal(traces.traces.length, insights.length)
  },
)

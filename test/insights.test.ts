/**
 * Insights end to end on the SQLite store, with injected anomalies: traces go in through the ingest
 * API minute by minute on the app's fake clock, the detectors' job runs after each minute (as its
 * timer would), insights are read back through `GET /v3/{project_id}/insights`, and a key-event
 * notification on the insight operations delivers them to a webhook receiver on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { detectorSettings } from '../src/insights/detector-settings.js'
import { InsightJob } from '../src/insights/insight-job.js'
import { commitTraces } from '../src/ingest/index.js'
import type { InsightRecord, InsightStore } from '../src/store/index.js'
import { MINUTE, TrafficBuilder, type Traffic } from './helpers/insight-traffic.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]
/** The baseline starts two hours before TEST_NOW (a minute boundary). */
const BASE = TEST_NOW - 120 * MINUTE

async function ingest(app: TestApp, traces: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < traces.length; i += 500) {
    const posted = await call(app.app, 'POST', `/v3/${P}/traces`, {
      traces: traces.slice(i, i + 500),
    })
    assert.equal(posted.status, 201, JSON.stringify(posted.body))
  }
}

/**
 * Ingests the traffic minute by minute, the clock one second past each minute, and runs a detector
 * cycle after each; then lets three quiet minutes pass. `restartEvery`: drops the job's memory
 * every that many minutes (it reloads its state from the store, as after a restart).
 */
async function stream(app: TestApp, traffic: Traffic, restartEvery = 0): Promise<number> {
  const minutes = [...traffic.byMinute.keys()].sort((a, b) => a - b)
  let read = 0
  for (const [index, minute] of minutes.entries()) {
    app.clock.set(minute + MINUTE + 1000)
    await ingest(app, traffic.byMinute.get(minute) ?? [])
    if (restartEvery > 0 && index % restartEvery === restartEvery - 1)
      await app.services.insightJob.stop()
    const report = await app.services.insightJob.runCycle()
    assert.ok(report.caughtUp)
    read += report.read
  }
  app.clock.set((minutes.at(-1) ?? BASE) + 4 * MINUTE)
  read += (await app.services.insightJob.runCycle()).read
  return read
}

async function listAll(app: TestApp, query = ''): Promise<InsightRecord[]> {
  const out: InsightRecord[] = []
  let next: string | null = null
  for (let page = 0; page < 50; page++) {
    const url: string = `/v3/${P}/insights?limit=7${query}${next === null ? '' : `&next=${next}`}`
    const listed = await call(app.app, 'GET', url)
    assert.equal(listed.status, 200, JSON.stringify(listed.body))
    out.push(...(listed.body.insights as InsightRecord[]))
    next = listed.body.meta_data.marker as string | null
    if (next === null) return out
  }
  throw new Error('more than 50 pages')
}

async function receiver(t: TestContext): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'))
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies }
}

/** Minute at which the anomalies start (plus 20 s), after 70 minutes of baseline. */
const BURST = BASE + 70 * MINUTE + 20_000

function anomalies(seed: number): Traffic {
  return new TrafficBuilder(seed)
    .steady(BASE, BASE + 90 * MINUTE)
    .burst(BURST, 60_000, 80, {
      service: 'IMS',
      name: 'createImage',
      user: 'mallory',
      ip: '203.0.113.7',
      code: 201,
    })
    .burst(BURST, 50_000, 25, {
      service: 'EVS',
      name: 'createVolume',
      user: 'dave',
      ip: '192.0.2.13',
      code: 500,
    })
    .burst(BURST + 5_000, 40_000, 30, {
      service: 'IAM',
      name: 'listUsers',
      user: 'trudy',
      ip: '198.51.100.9',
      code: 403,
    })
    .add({
      time: BURST + 30_000,
      service: 'IMS',
      name: 'deleteImage',
      user: 'alice',
      ip: '192.0.2.10',
      code: 204,
    })
    .add({
      time: BURST + 5 * MINUTE,
      service: 'IMS',
      name: 'deleteImage',
      user: 'alice',
      ip: '192.0.2.99',
      code: 204,
    })
    .build()
}

it('finds no insight in a steady baseline of 90 minutes', async (t) => {
  const app = await buildTestApp(t)
  const traffic = new TrafficBuilder(7).steady(BASE, BASE + 90 * MINUTE).build()
  const sent = [...traffic.byMinute.values()].reduce((n, list) => n + list.length, 0)
  const read = await stream(app, traffic)
  assert.ok(read >= sent, `the detectors read ${read} traces, ${sent} were sent`)
  assert.deepEqual(await listAll(app), [])
})

it('finds injected bursts within 2 minutes, attributed, with start and end; notifies them', async (t) => {
  const app = await buildTestApp(t)
  app.services.delivery.start(app.services.publisher)
  t.after(() => app.services.delivery.stop())
  const hook = await receiver(t)
  app.clock.set(BASE)
  const topic = await call(app.app, 'POST', `/v3/${P}/topics`, { name: 'insights' })
  assert.equal(topic.status, 201, JSON.stringify(topic.body))
  const sub = await call(app.app, 'POST', `/v3/${P}/topics/insights/subscriptions`, {
    protocol: 'http',
    endpoint: hook.url,
  })
  assert.equal(sub.status, 201, JSON.stringify(sub.body))
  const notification = await call(app.app, 'POST', `/v3/${P}/notifications`, {
    notification_name: 'insight_alerts',
    operation_type: 'customized',
    operations: [
      {
        service_type: 'CTS',
        resource_type: 'insight',
        trace_names: ['ApiCallRateInsight', 'DeniedBurstInsight', 'HighRiskOperationInsight'],
      },
    ],
    topic_id: topic.body.topic_urn,
  })
  assert.equal(notification.status, 201, JSON.stringify(notification.body))

  await stream(app, anomalies(11))
  const insights = await listAll(app)
  const find = (type: string, state: string, match: (i: InsightRecord) => boolean) =>
    insights.filter((i) => i.insight_type === type && i.state === state && match(i))

  // Call rate: IMS createImage, by mallory from 203.0.113.7; a start and an end of one insight.
  const [callStart, ...moreStarts] = find(
    'ApiCallRateInsight',
    'start',
    (i) => i.service_type === 'IMS',
  )
  assert.ok(callStart !== undefined && moreStarts.length === 0, JSON.stringify(insights, null, 1))
  assert.ok(callStart.time >= BURST && callStart.time - BURST <= 2 * MINUTE)
  assert.ok(callStart.detected_at - BURST <= 2 * MINUTE, 'found within 2 minutes')
  assert.equal(callStart.trace_name, 'createImage')
  const byAttr = (i: InsightRecord, a: string) => i.attributions.find((x) => x.attribute === a)
  assert.equal(byAttr(callStart, 'user')?.insight[0]?.value, 'mallory')
  assert.equal(byAttr(callStart, 'source_ip')?.insight[0]?.value, '203.0.113.7')
  assert.deepEqual(
    byAttr(callStart, 'user')
      ?.baseline.map((v) => v.value)
      .sort(),
    ['alice', 'bob'],
    'the baseline attribution holds the usual users',
  )
  const baseline = callStart.statistics?.baseline.average ?? 0
  assert.ok(baseline >= 4 && baseline <= 6, `baseline ${baseline}`)
  const [callEnd] = find('ApiCallRateInsight', 'end', (i) => i.insight_id === callStart.insight_id)
  assert.ok(callEnd !== undefined, 'the call-rate insight ends')
  assert.ok(callEnd.time > callStart.time && callEnd.time <= BURST + 3 * MINUTE)
  assert.ok((callEnd.statistics?.insight.peak ?? 0) >= 40, JSON.stringify(callEnd.statistics))
  assert.equal(byAttr(callEnd, 'user')?.insight[0]?.value, 'mallory')

  // Error rate: EVS createVolume, code 500.
  const [errorStart] = find('ApiErrorRateInsight', 'start', (i) => i.service_type === 'EVS')
  assert.ok(errorStart !== undefined, 'an error-rate insight')
  assert.ok(errorStart.detected_at - BURST <= 2 * MINUTE)
  assert.equal(byAttr(errorStart, 'code')?.insight[0]?.value, '500')
  assert.equal(
    find('ApiErrorRateInsight', 'end', (i) => i.insight_id === errorStart.insight_id).length,
    1,
  )

  // Denied burst: user trudy and source IP 198.51.100.9, each a start and an end.
  for (const subject of [{ user: 'trudy' }, { source_ip: '198.51.100.9' }]) {
    const [start] = find('DeniedBurstInsight', 'start', (i) =>
      Object.entries(subject).every(([k, v]) => i.subject[k] === v),
    )
    assert.ok(start !== undefined, `a denied burst of ${JSON.stringify(subject)}`)
    assert.ok(start.detected_at - BURST <= 2 * MINUTE)
    assert.equal(byAttr(start, 'code')?.insight[0]?.value, '403')
    assert.equal(byAttr(start, 'operation')?.insight[0]?.value, 'IAM:listUsers')
    assert.equal(
      find('DeniedBurstInsight', 'end', (i) => i.insight_id === start.insight_id).length,
      1,
    )
  }

  // First-time delete by alice, then one from a new source IP.
  const risky = find('HighRiskOperationInsight', 'start', () => true).sort(
    (a, b) => a.time - b.time,
  )
  assert.deepEqual(
    risky.map((i) => [i.subject.user, i.subject.source_ip, i.reasons]),
    [
      ['alice', '192.0.2.10', ['first_operation']],
      ['alice', '192.0.2.99', ['new_source_ip']],
    ],
  )
  assert.ok((risky[0]?.detected_at ?? Infinity) - (BURST + 30_000) <= 2 * MINUTE)

  // Nothing else: no insight before the bursts, none about the steady operations (ECS). The
  // denied calls are also an unusual call and error rate of IAM listUsers (bob is denied now and
  // then in the baseline), and the EVS errors an unusual call rate.
  const expected = new Set([
    'ApiCallRateInsight IMS',
    'ApiCallRateInsight EVS',
    'ApiErrorRateInsight EVS',
    'ApiCallRateInsight IAM',
    'ApiErrorRateInsight IAM',
    'DeniedBurstInsight null',
    'HighRiskOperationInsight IMS',
  ])
  for (const i of insights) {
    assert.ok(expected.has(`${i.insight_type} ${i.service_type}`), JSON.stringify(i))
    assert.ok(i.time >= BURST, `no insight before the bursts: ${JSON.stringify(i)}`)
  }

  // Filters.
  const ends = await listAll(app, '&state=end&insight_type=DeniedBurstInsight')
  assert.equal(ends.length, 2)
  assert.equal((await listAll(app, '&service_type=EVS')).length, 4)

  // Notified: the insight traces of the chosen operations reach the webhook.
  const notified = (): Map<string, string> => {
    const ids = new Map<string, string>()
    for (const body of hook.bodies) {
      const trace = (JSON.parse(body) as { trace: { trace_name: string; response: string } }).trace
      const insight = JSON.parse(trace.response) as InsightRecord
      ids.set(insight.id, trace.trace_name)
    }
    return ids
  }
  const wanted = insights.filter((i) => i.insight_type !== 'ApiErrorRateInsight')
  const deadline = Date.now() + 10_000
  while (wanted.some((i) => !notified().has(i.id))) {
    assert.ok(Date.now() < deadline, 'timed out waiting for the insight notifications')
    app.clock.advance(100)
    app.services.delivery.wake()
    await sleep(20)
  }
  assert.equal(notified().get(callStart.id), 'ApiCallRateInsight')
  assert.ok(
    [...notified().values()].every((name) => name !== 'ApiErrorRateInsight'),
    'only the chosen operations are notified',
  )
})

it('a restart neither loses nor repeats an insight', async (t) => {
  const straight = await buildTestApp(t)
  await stream(straight, anomalies(23))
  const restarted = await buildTestApp(t)
  await stream(restarted, anomalies(23), 7)
  const ids = async (app: TestApp) => (await listAll(app)).map((i) => i.id).sort()
  const once = await ids(straight)
  assert.ok(once.length >= 10, `${once.length} insights`)
  assert.deepEqual(await ids(restarted), once)
  // The insight traces are stored once each too.
  const traces = await call(
    restarted.app,
    'GET',
    `/v3/${P}/traces?service_type=CTS&resource_type=insight&limit=200&from=${BASE}`,
  )
  assert.equal(traces.body.traces.length, once.length)
})

/** The app's insight store with `commitDetectors` replaced (the rest pass through). */
function withCommit(app: TestApp, commitDetectors: InsightStore['commitDetectors']): InsightStore {
  const insights = app.services.store.insights
  return {
    loadDetectors: () => insights.loadDetectors(),
    listInsights: (...args) => insights.listInsights(...args),
    purgeInsights: (time) => insights.purgeInsights(time),
    commitDetectors,
  }
}

/** A job of the app's services over another insight store (a wrapper of the real one). */
function jobOver(app: TestApp, insights: InsightStore, checkpointPart?: number): InsightJob {
  const { store, publisher, audit, clock, config } = app.services
  return new InsightJob({
    traces: store.traces,
    insights,
    commitTraces: (traces) => commitTraces({ traces: store.traces, publisher }, traces),
    audit,
    clock,
    settings: detectorSettings(config),
    intervalMs: 1000,
    ...(checkpointPart === undefined ? {} : { checkpointPart }),
  })
}

it('a failure between recording the insight traces and committing the state stores each once', async (t) => {
  const app = await buildTestApp(t)
  const { store } = app.services
  let failures = 0
  // The real store, whose state commit fails once after insights were found (the job's traces
  // are committed by then): what a crash between the job's two writes leaves behind.
  const flaky = withCommit(app, async (commit) => {
    if (commit.insights.length > 0 && failures === 0) {
      failures++
      throw new Error('the state commit failed')
    }
    return store.insights.commitDetectors(commit)
  })
  const job = jobOver(app, flaky)
  const traffic = anomalies(41)
  const minutes = [...traffic.byMinute.keys()].sort((a, b) => a - b)
  let failed = 0
  for (const minute of minutes) {
    app.clock.set(minute + MINUTE + 1000)
    await ingest(app, traffic.byMinute.get(minute) ?? [])
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await job.runCycle()
        break
      } catch (error) {
        assert.match(String(error), /the state commit failed/)
        failed++
      }
    }
  }
  assert.equal(failed, 1, 'the commit failed once, and the next cycle replayed')
  const insights = await listAll(app)
  assert.ok(insights.length >= 8, `${insights.length} insights`)
  assert.equal(new Set(insights.map((i) => i.id)).size, insights.length)
  const traces = await call(
    app.app,
    'GET',
    `/v3/${P}/traces?service_type=CTS&resource_type=insight&limit=200&from=${BASE}`,
  )
  assert.equal(traces.body.traces.length, insights.length, 'each insight trace stored once')
})

it('a checkpoint cut short between its parts stores what a straight run stores', async (t) => {
  const straight = await buildTestApp(t)
  await stream(straight, anomalies(29))
  const app = await buildTestApp(t)
  const { store } = app.services
  // The real store, whose checkpoint fails once at its last part (the cursor's) after the burst's
  // minute was read: every other part of it is written, with entries newer than the cursor.
  let armed = false
  let storedCursor: number | undefined
  let failures = 0
  const flaky = withCommit(app, async (commit) => {
    if (armed && commit.upserts.length > 0 && commit.cursor !== storedCursor) {
      armed = false
      failures++
      throw new Error('the checkpoint failed')
    }
    const stored = await store.insights.commitDetectors(commit)
    storedCursor = commit.cursor
    return stored
  })
  const job = jobOver(app, flaky, 1)
  const traffic = anomalies(29)
  const minutes = [...traffic.byMinute.keys()].sort((a, b) => a - b)
  for (const minute of [...minutes, (minutes.at(-1) ?? BASE) + 3 * MINUTE]) {
    app.clock.set(minute + MINUTE + 1000)
    await ingest(app, traffic.byMinute.get(minute) ?? [])
    armed = minute === BURST - 20_000
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        assert.ok((await job.runCycle()).caughtUp)
        break
      } catch (error) {
        assert.match(String(error), /the checkpoint failed/)
      }
    }
  }
  assert.equal(failures, 1)
  const seen = (insights: InsightRecord[]) =>
    insights.map(({ detected_at: _, ...rest }) => JSON.stringify(rest)).sort()
  const expected = seen(await listAll(straight))
  assert.ok(expected.length >= 10, `${expected.length} insights`)
  assert.deepEqual(seen(await listAll(app)), expected)
})

it('answers bad queries with CTS error bodies', async (t) => {
  const app = await buildTestApp(t)
  for (const query of [
    'limit=0',
    'limit=201',
    'limit=x',
    'from=12',
    `from=${TEST_NOW}&to=${TEST_NOW - 1}`,
    'insight_type=Nope',
    'state=middle',
    'next=not-a-marker',
    `next=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
    'limit=1&limit=2',
  ]) {
    const listed = await call(app.app, 'GET', `/v3/${P}/insights?${query}`)
    assert.equal(listed.status, 400, query)
    assert.equal(listed.body.error_code, 'CTS.0300', query)
    assert.equal(typeof listed.body.error_msg, 'string')
  }
  const other = await call(app.app, 'GET', `/v3/${TEST_PROJECTS[1]}/insights`)
  assert.equal(other.status, 200)
  assert.deepEqual(other.body, { insights: [], meta_data: { count: 0, marker: null } })
})

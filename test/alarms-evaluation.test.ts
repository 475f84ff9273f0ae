/**
 * Alarm evaluation end to end on a real store of every engine of `STORES` (SQLite file,
 * PostgreSQL database), with an injected clock: a new rule is in insufficient_data for one
 * period, then ok, alarm when the count of its window crosses the threshold, ok again when the
 * traces leave the window; re-enabling restarts it. Each transition is in the history and reaches
 * a real webhook on 127.0.0.1 through the topic's subscription, signed, in order, exactly once.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, type TestContext } from 'node:test'
import { MasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { verifyDelivery } from '../src/delivery/delivery-signature.js'
import type { Caller } from '../src/ingest/index.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { createServices, type Services } from '../src/services.js'
import { engineFactory } from './contract/engines.js'
import { makeTrace } from './helpers/make-trace.js'
import { testEngines } from './helpers/postgres.js'
import { TEST_NOW, TEST_SCRYPT_COST } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'
const CALLER: Caller = {
  sourceIp: '127.0.0.1',
  user: { id: 'u-test', name: 'tester', domain: { id: 'd1', name: 'acme' } },
  requestId: null,
  userAgent: 'alarms-evaluation.test',
  traceType: 'ApiCall',
}
const PERIOD_S = 300

interface Hook {
  readonly url: string
  readonly bodies: { body: string; timestamp: string; signature: string }[]
}

async function webhook(t: TestContext): Promise<Hook> {
  const bodies: Hook['bodies'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      bodies.push({
        body: Buffer.concat(chunks).toString('utf8'),
        timestamp: String(req.headers['x-opencts-timestamp']),
        signature: String(req.headers['x-opencts-signature']),
      })
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

/** Waits (bounded) for `n` webhook calls, waking the delivery service. */
async function received(services: Services, hook: Hook, n: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (hook.bodies.length < n) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${n} notifications`)
    services.delivery.wake()
    await sleep(20)
  }
}

for (const engine of testEngines()) {
  describe(`alarm evaluation on ${engine}`, () => {
    const factory = engineFactory(engine)
    it('moves insufficient_data → ok → alarm → ok and notifies every transition', async (t) => {
      t.after(() => factory.dropAll())
      const store = await factory.open()
      t.after(() => store.close())
      const clock = new FakeClock(TEST_NOW)
      const config = loadConfig({}, { dataDir: mkdtempSync(join(tmpdir(), 'opencts-alarms-')) })
      const services = createServices({
        config,
        store,
        clock,
        ids: randomIds,
        masterKey: MasterKey.generate(),
        passwordCost: TEST_SCRYPT_COST,
      })
      services.delivery.start(services.publisher)
      t.after(() => services.delivery.stop())
      const hook = await webhook(t)
      const topic = await services.topics.createTopic(P, { name: 'ops' })
      const sub = await services.topics.subscribe(P, 'ops', {
        protocol: 'http',
        endpoint: hook.url,
      })
      const created = await services.alarms.create(
        P,
        {
          alarm_name: 'image-deletes',
          filter: { service_type: 'IMS', trace_name: 'deleteImage' },
          condition: { comparison: '>', threshold: 2, period: PERIOD_S },
          topic_urn: topic.topic_urn,
        },
        CALLER,
      )
      assert.equal(created.status, 201)
      const id = (created.body as { alarm_id: string }).alarm_id
      const state = async (): Promise<Record<string, unknown>> =>
        (await services.alarms.get(P, id)).body as Record<string, unknown>
      const deletes = async (n: number, name = 'deleteImage'): Promise<void> => {
        await store.traces.append(
          Array.from({ length: n }, () =>
            makeTrace({ project_id: P, trace_name: name, time: clock.now() - 1000 }),
          ),
        )
      }
      const evaluator = services.alarmEvaluator

      // Younger than one period: nothing is counted, whatever is stored.
      await deletes(5)
      clock.advance(PERIOD_S * 1000 - 1)
      assert.deepEqual(await evaluator.runOnce(), { evaluated: 1, transitions: 0, failed: 0 })
      assert.equal((await state()).state, 'insufficient_data')
      assert.equal((await state()).last_count, null)

      // One period on: those traces have left the window; 2 new ones (and other operations) do not
      // exceed 2.
      clock.advance(1000)
      await deletes(2)
      await deletes(4, 'createImage')
      assert.deepEqual(await evaluator.runOnce(), { evaluated: 1, transitions: 1, failed: 0 })
      assert.equal((await state()).state, 'ok')
      assert.equal((await state()).last_count, 2)

      // A third delete crosses the threshold.
      clock.advance(10_000)
      await deletes(1)
      assert.equal((await evaluator.runOnce()).transitions, 1)
      const alarmed = await state()
      assert.equal(alarmed.state, 'alarm')
      assert.equal(alarmed.last_count, 3)
      assert.equal(alarmed.state_changed_time, clock.now())
      // Still 3: no new transition.
      clock.advance(60_000)
      assert.equal((await evaluator.runOnce()).transitions, 0)

      // The deletes leave the window.
      clock.advance(PERIOD_S * 1000)
      assert.equal((await evaluator.runOnce()).transitions, 1)
      assert.equal((await state()).state, 'ok')
      assert.equal((await state()).last_count, 0)

      // Disabled: not evaluated; re-enabled: insufficient_data again for one period.
      clock.advance(1000)
      await services.alarms.update(P, id, { enabled: false }, CALLER)
      await deletes(10)
      assert.deepEqual(await evaluator.runOnce(), { evaluated: 0, transitions: 0, failed: 0 })
      assert.equal((await state()).state, 'ok')
      await services.alarms.update(P, id, { enabled: true }, CALLER)
      assert.equal((await state()).state, 'insufficient_data')
      assert.equal((await evaluator.runOnce()).transitions, 0)

      const history = (await services.alarms.history(P, id, {})).body as {
        history: Record<string, unknown>[]
      }
      assert.deepEqual(
        history.history.map((h) => [h.old_state, h.new_state, h.count, h.notified]),
        [
          ['ok', 'insufficient_data', null, 1],
          ['alarm', 'ok', 0, 1],
          ['ok', 'alarm', 3, 1],
          ['insufficient_data', 'ok', 2, 1],
        ],
      )

      await received(services, hook, 4)
      await sleep(100)
      assert.equal(hook.bodies.length, 4, 'each transition once')
      const notices = hook.bodies.map((b) => {
        assert.equal(
          verifyDelivery(
            String(sub.secret),
            { timestamp: b.timestamp, signature: b.signature },
            b.body,
            clock.now(),
            86_400,
          ),
          true,
          'signed with the subscription secret',
        )
        return JSON.parse(b.body) as Record<string, unknown>
      })
      // Sent as they fall due, a few at a time: compared in the order of the transitions.
      notices.sort((a, b) => Number(a.time) - Number(b.time))
      assert.deepEqual(
        notices.map((n) => [n.old_state, n.new_state, n.count]),
        [
          ['insufficient_data', 'ok', 2],
          ['ok', 'alarm', 3],
          ['alarm', 'ok', 0],
          ['ok', 'insufficient_data', null],
        ],
      )
      const alarm = notices[1] ?? {}
      assert.equal(alarm.type, 'opencts.alarm')
      assert.equal(alarm.alarm_id, id)
      assert.equal(alarm.alarm_name, 'image-deletes')
      assert.equal(alarm.topic_urn, topic.topic_urn)
      assert.deepEqual(alarm.condition, { comparison: '>', threshold: 2, period: PERIOD_S })
      const window = alarm.window as { start: number; end: number }
      assert.equal(window.end - window.start, PERIOD_S * 1000)
      assert.equal(alarm.time, window.end)
    })
  })
}

/**
 * The AlarmStore contract (src/store/ports/alarms.ts): rules unique by name per project, each
 * change committed with its audit traces only; the evaluator's walk over enabled rules; an
 * evaluation written only at the version evaluated, with its transition and deliveries in one
 * transaction; the history newest first with paging and its cap. Every engine passes it.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { AlarmRule, AlarmTransition, DeliveryRecord, Store } from '../../src/store/index.js'
import { ALARM_HISTORY_KEEP } from '../../src/store/rows.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'
import { NOW, withStore } from './fixtures.js'

function rule(projectId: string, name: string, overrides: Partial<AlarmRule> = {}): AlarmRule {
  return {
    id: randomUUID(),
    projectId,
    name,
    description: `rule ${name}`,
    filter: { trace_type: 'system', service_type: 'IMS' },
    comparison: '>',
    threshold: 10,
    periodSeconds: 300,
    enabled: true,
    topicUrn: null,
    state: 'insufficient_data',
    stateReason: 'new',
    stateChangedAt: NOW,
    lastCount: null,
    lastEvaluatedAt: null,
    enabledAt: NOW,
    createdAt: NOW,
    updatedAt: NOW,
    version: 1,
    ...overrides,
  }
}

function transition(r: AlarmRule, time: number, id = randomUUID()): AlarmTransition {
  return {
    id,
    projectId: r.projectId,
    alarmId: r.id,
    alarmName: r.name,
    oldState: 'ok',
    newState: 'alarm',
    reason: '11 > 10',
    count: 11,
    comparison: r.comparison,
    threshold: r.threshold,
    periodSeconds: r.periodSeconds,
    windowStart: time - 300_000,
    windowEnd: time,
    time,
    notified: 1,
  }
}

function delivery(t: AlarmTransition, id = randomUUID()): DeliveryRecord {
  return {
    id,
    projectId: t.projectId,
    notificationId: t.alarmId,
    traceId: t.id,
    targetKind: 'subscription',
    targetId: 'sub-1',
    protocol: 'http',
    endpoint: 'http://127.0.0.1/hook',
    payload: JSON.stringify({ type: 'opencts.alarm', transition_id: t.id }),
    status: 'pending',
    attempts: 0,
    nextAttemptAt: t.time,
    lastError: null,
    createdAt: t.time,
    deliveredAt: null,
  }
}

const audit = (time = NOW - 1) => [
  makeTrace({ time, service_type: 'CTS', trace_name: 'createAlarm' }),
]

function code(expected: string): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === expected
}

async function evaluate(
  store: Store,
  r: AlarmRule,
  t: AlarmTransition | null,
  deliveries: DeliveryRecord[] = [],
): Promise<boolean> {
  return store.alarms.recordEvaluation({
    projectId: r.projectId,
    alarmId: r.id,
    version: r.version,
    status: {
      state: t?.newState ?? r.state,
      stateReason: t?.reason ?? 'unchanged',
      stateChangedAt: t?.time ?? r.stateChangedAt,
      lastCount: 7,
      lastEvaluatedAt: NOW + 60_000,
    },
    transition: t,
    deliveries,
  })
}

export function alarmStoreContract(name: string, factory: StoreFactory): void {
  describe(`AlarmStore contract: ${name}`, () => {
    it('stores rules unique by name per project, sorted by name, with their audit traces', () =>
      withStore(factory, async (store) => {
        const b = rule('p1', 'b-rule')
        const a = rule('p1', 'a-rule', { filter: { trace_type: 'data', tracker_name: 'dt' } })
        const first = audit()
        await store.alarms.insertAlarm(b, first)
        await store.alarms.insertAlarm(a, audit())
        await store.alarms.insertAlarm(rule('p2', 'b-rule'), audit())
        const refused = audit()
        await assert.rejects(
          store.alarms.insertAlarm(rule('p1', 'b-rule'), refused),
          code('OCTS_ERR_CONFLICT'),
        )
        assert.ok(await store.traces.get('p1', first[0]?.trace_id ?? ''))
        assert.equal(await store.traces.get('p1', refused[0]?.trace_id ?? ''), undefined)
        assert.deepEqual(
          (await store.alarms.listAlarms('p1')).map((r) => r.name),
          ['a-rule', 'b-rule'],
        )
        assert.deepEqual(await store.alarms.getAlarm('p1', a.id), a)
        assert.equal(await store.alarms.getAlarm('p2', a.id), undefined)
        assert.equal(await store.alarms.countAlarms('p1'), 2)
        assert.equal(await store.alarms.countAlarms('p3'), 0)
      }))

    it('updates a rule with its transition and deliveries, or refuses a gone rule or a taken name', () =>
      withStore(factory, async (store) => {
        const r = rule('p1', 'r1', { state: 'alarm' })
        await store.alarms.insertAlarm(r, audit())
        await store.alarms.insertAlarm(rule('p1', 'r2'), audit())
        const changed = { ...r, threshold: 20, version: 2, state: 'insufficient_data' as const }
        const t = { ...transition(r, NOW + 1000), oldState: 'alarm' as const }
        const d = delivery(t)
        await store.alarms.updateAlarm(changed, audit(), t, [d])
        assert.deepEqual(await store.alarms.getAlarm('p1', r.id), changed)
        assert.deepEqual(await store.alarms.history('p1', r.id, null, 10), [t])
        const due = await store.delivery.dueDeliveries(NOW + 2000, 10)
        assert.deepEqual(
          due.map((x) => x.id),
          [d.id],
        )
        await assert.rejects(
          store.alarms.updateAlarm({ ...changed, name: 'r2', version: 3 }, audit(), null, []),
          code('OCTS_ERR_CONFLICT'),
        )
        await assert.rejects(
          store.alarms.updateAlarm(rule('p1', 'gone'), audit(), null, []),
          code('OCTS_ERR_ALARM_NOT_FOUND'),
        )
        await assert.rejects(
          store.alarms.updateAlarm({ ...changed, projectId: 'p2' }, audit(), null, []),
          code('OCTS_ERR_ALARM_NOT_FOUND'),
        )
        assert.equal((await store.alarms.getAlarm('p1', r.id))?.version, 2)
      }))

    it('deletes a rule with its history, once', () =>
      withStore(factory, async (store) => {
        const r = rule('p1', 'r1')
        await store.alarms.insertAlarm(r, audit())
        assert.equal(await evaluate(store, r, transition(r, NOW + 60_000)), true)
        assert.equal(await store.alarms.deleteAlarm('p2', r.id, audit()), false)
        assert.equal(await store.alarms.deleteAlarm('p1', r.id, audit()), true)
        assert.equal(await store.alarms.deleteAlarm('p1', r.id, audit()), false)
        assert.equal(await store.alarms.getAlarm('p1', r.id), undefined)
        assert.deepEqual(await store.alarms.history('p1', r.id, null, 10), [])
      }))

    it('walks the enabled rules of every project in (project, id) order, page by page', () =>
      withStore(factory, async (store) => {
        const rules: AlarmRule[] = []
        for (const projectId of ['p2', 'p1', 'p3'])
          for (let i = 0; i < 3; i++) {
            const r = rule(projectId, `r${i}`, { enabled: !(projectId === 'p3' && i === 1) })
            await store.alarms.insertAlarm(r, [])
            rules.push(r)
          }
        const want = rules
          .filter((r) => r.enabled)
          .map((r) => `${r.projectId}/${r.id}`)
          .sort()
        const got: string[] = []
        let after = null
        for (let page = 0; page < 10; page++) {
          const list = await store.alarms.enabledAlarms(after, 3)
          got.push(...list.map((r) => `${r.projectId}/${r.id}`))
          const last = list.at(-1)
          if (last === undefined) break
          after = { projectId: last.projectId, id: last.id }
        }
        assert.deepEqual(got, want)
        const disabled = rules.find((r) => !r.enabled)
        assert.ok(disabled)
        await store.alarms.updateAlarm({ ...disabled, enabled: true, version: 2 }, [], null, [])
        assert.equal((await store.alarms.enabledAlarms(null, 100)).length, want.length + 1)
      }))

    it('writes an evaluation only at the version evaluated, with its transition and deliveries', () =>
      withStore(factory, async (store) => {
        const r = rule('p1', 'r1')
        await store.alarms.insertAlarm(r, [])
        const t = transition(r, NOW + 60_000)
        const d = delivery(t)
        assert.equal(await evaluate(store, r, t, [d, d]), true)
        const stored = await store.alarms.getAlarm('p1', r.id)
        assert.equal(stored?.state, 'alarm')
        assert.equal(stored?.lastCount, 7)
        assert.equal(stored?.lastEvaluatedAt, NOW + 60_000)
        assert.equal(stored?.threshold, r.threshold, 'the definition is kept')
        assert.deepEqual(await store.alarms.history('p1', r.id, null, 10), [t])
        assert.deepEqual(
          (await store.delivery.listDeliveries('p1', 'pending', 10)).map((x) => x.id),
          [d.id],
        )
        // The same deliveries again (a retried write) are not stored twice.
        assert.equal(await evaluate(store, r, null, [d]), true)
        assert.equal((await store.delivery.listDeliveries('p1', undefined, 10)).length, 1)
        // Changed through the API meanwhile: the older evaluation writes nothing.
        await store.alarms.updateAlarm({ ...r, threshold: 99, version: 2 }, [], null, [])
        const late = transition(r, NOW + 120_000)
        assert.equal(await evaluate(store, r, late, [delivery(late)]), false)
        assert.deepEqual(await store.alarms.history('p1', r.id, null, 10), [t])
        assert.equal((await store.delivery.listDeliveries('p1', undefined, 10)).length, 1)
        assert.equal((await store.alarms.getAlarm('p1', r.id))?.threshold, 99)
        assert.equal(await evaluate(store, rule('p1', 'gone'), late), false)
      }))

    it('lists the history newest first, ties by id, in pages after a cursor', () =>
      withStore(factory, async (store) => {
        const r = rule('p1', 'r1')
        await store.alarms.insertAlarm(r, [])
        const other = rule('p1', 'r2')
        await store.alarms.insertAlarm(other, [])
        const made: AlarmTransition[] = []
        for (let i = 0; i < 7; i++) {
          // Two transitions share each time: the id breaks the tie.
          const t = transition(r, NOW + Math.floor(i / 2) * 1000)
          made.push(t)
          assert.equal(await evaluate(store, r, t), true)
        }
        await evaluate(store, other, transition(other, NOW + 500))
        const want = [...made].sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1))
        const got: AlarmTransition[] = []
        let before = null
        for (let page = 0; page < 10; page++) {
          const list = await store.alarms.history('p1', r.id, before, 3)
          got.push(...list)
          const last = list.at(-1)
          if (last === undefined) break
          before = { time: last.time, id: last.id }
        }
        assert.deepEqual(got, want)
        assert.deepEqual(await store.alarms.history('p2', r.id, null, 10), [])
      }))

    it(`keeps the newest ${ALARM_HISTORY_KEEP} transitions of a rule`, () =>
      withStore(factory, async (store) => {
        const r = rule('p1', 'r1')
        await store.alarms.insertAlarm(r, [])
        const extra = 3
        for (let i = 0; i < ALARM_HISTORY_KEEP + extra; i++)
          await evaluate(store, r, transition(r, NOW + i))
        const kept: AlarmTransition[] = []
        let before = null
        for (let page = 0; page < 20; page++) {
          const list = await store.alarms.history('p1', r.id, before, 200)
          kept.push(...list)
          const last = list.at(-1)
          if (last === undefined) break
          before = { time: last.time, id: last.id }
        }
        assert.equal(kept.length, ALARM_HISTORY_KEEP)
        assert.equal(kept.at(-1)?.time, NOW + extra)
        assert.equal(kept[0]?.time, NOW + ALARM_HISTORY_KEEP + extra - 1)
      }))

    it('keeps rules, state and history across a reopen', async () => {
      let store = await factory.open()
      try {
        const r = rule('p1', 'r1')
        await store.alarms.insertAlarm(r, [])
        const t = transition(r, NOW + 60_000)
        await evaluate(store, r, t)
        if (factory.reopen !== undefined) store = await factory.reopen(store)
        assert.equal((await store.alarms.getAlarm('p1', r.id))?.state, 'alarm')
        assert.deepEqual(await store.alarms.history('p1', r.id, null, 10), [t])
      } finally {
        await store.close()
      }
    })
  })
}

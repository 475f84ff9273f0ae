/**
 * The notification matcher's cursor over a real SQLite store: a cursor set on an empty store (0)
 * is kept across a restart, so traces committed before the matcher ran again are still matched;
 * only a cursor never set starts at the head.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it, type TestContext } from 'node:test'
import type { Notification } from '../model/index.js'
import { FakeClock } from '../platform/clock.js'
import type { Store } from '../store/index.js'
import { openStore } from '../store/open-store.js'
import { makeTrace } from '../../test/helpers/make-trace.js'
import { NotificationMatcher } from './notification-matcher.js'

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0)
const P = '0123456789abcdef0123456789abcdef'

async function open(t: TestContext): Promise<Store> {
  const store = await openStore({
    url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'opencts-match-')), 'db')}`,
  })
  t.after(() => store.close())
  return store
}

function matcher(store: Store): NotificationMatcher {
  return new NotificationMatcher({
    traces: store.traces,
    config: store.config,
    delivery: store.delivery,
    clock: new FakeClock(NOW),
  })
}

const enabled: Notification = {
  notification_id: randomUUID(),
  notification_name: 'everything',
  operation_type: 'complete',
  operations: [],
  notify_user_list: [],
  status: 'enabled',
  notification_type: 'smn',
  project_id: P,
  topic_id: `urn:smn:local-1:${P}:nowhere`,
  create_time: NOW,
}

it('keeps a cursor set on an empty store across a restart; a new matcher starts at the head', async (t) => {
  const store = await open(t)
  await store.config.insertNotification(enabled, [])
  assert.equal((await matcher(store).runOnce()).traces, 0, 'a fresh install: nothing yet')
  assert.equal(await store.delivery.deliveryCursor(), 0)
  // Committed, then the process stops before the matcher runs again.
  await store.traces.append([makeTrace({ project_id: P, time: NOW - 1000 })])
  const report = await matcher(store).runOnce()
  assert.equal(report.traces, 1, 'the trace is matched after the restart, not skipped')
  assert.equal(await store.delivery.deliveryCursor(), await store.traces.headSeq())

  const other = await open(t)
  await other.config.insertNotification(enabled, [])
  await other.traces.append([makeTrace({ project_id: P, time: NOW - 1000 })])
  assert.equal((await matcher(other).runOnce()).traces, 0, 'a first run skips the stored days')
})

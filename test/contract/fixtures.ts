/**
 * What the contract suites of the traces, config, transfer and delivery ports share: the fixed
 * clock, a query window, tracker and notification fixtures, and `withStore` (a fresh store of the
 * factory, closed after the test whatever happens).
 */
import { randomUUID } from 'node:crypto'
import type { Notification, Tracker } from '../../src/model/index.js'
import type { Store, TraceFilter } from '../../src/store/index.js'
import { newTracker } from '../../src/trackers/new-tracker.js'
import type { StoreFactory } from './engines.js'

/** The suites' clock: fixed, so that windows and retention cut-offs are exact. */
export const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

/** The management traces of a project in the hour up to `NOW` (bounds exclusive, `NOW` in). */
export function window(projectId = 'p1'): TraceFilter {
  return { projectId, from: NOW - 3_600_000, to: NOW + 1, category: 'system' }
}

export function tracker(
  projectId: string,
  name: string,
  type: 'system' | 'data' = 'data',
): Tracker {
  return newTracker({ id: randomUUID(), now: NOW, projectId, domainId: 'd1', type, name })
}

export function notification(projectId: string, name: string): Notification {
  return {
    notification_id: randomUUID(),
    notification_name: name,
    operation_type: 'complete',
    operations: [],
    notify_user_list: [],
    status: 'disabled',
    notification_type: 'smn',
    project_id: projectId,
    create_time: NOW,
  }
}

/** Runs `fn` on a fresh store of `factory` and closes the store afterwards. */
export async function withStore(
  factory: StoreFactory,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  const store = await factory.open()
  try {
    await fn(store)
  } finally {
    await store.close()
  }
}

/**
 * Test helpers shared by the capability-service tests: a real in-memory SQLite store with a fake
 * clock, deterministic ids, the self-audit builder and a publisher that records what it publishes;
 * and assertions on catalogue error codes.
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import { Publisher, SelfAudit, type PublishedTrace } from '../../src/ingest/index.js'
import type { TraceRecord } from '../../src/model/index.js'
import { FakeClock, type IdSource } from '../../src/platform/clock.js'
import type { Store } from '../../src/store/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'

export interface ServiceHarness {
  readonly store: Store
  readonly clock: FakeClock
  readonly ids: IdSource
  readonly audit: SelfAudit
  readonly publisher: Publisher
  /** Every trace published so far, in order. */
  readonly published: PublishedTrace[]
}

export function serviceHarness(t: TestContext): ServiceHarness {
  const store = openSqliteStore({ path: ':memory:' })
  t.after(() => store.close())
  const clock = new FakeClock(Date.UTC(2026, 0, 1))
  let n = 0
  const ids: IdSource = { uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}` }
  const publisher = new Publisher()
  const published: PublishedTrace[] = []
  publisher.subscribe((traces) => published.push(...traces))
  return { store, clock, ids, audit: new SelfAudit(clock, ids), publisher, published }
}

/** The project's CTS self-audit traces, oldest first. */
export async function auditTrail(store: Store, projectId: string): Promise<TraceRecord[]> {
  const page = await store.traces.page(
    { projectId, from: 0, to: Number.MAX_SAFE_INTEGER, category: 'system', serviceType: 'CTS' },
    null,
    200,
  )
  return [...page.traces].reverse()
}

/** The CTS error code `fn` throws, or 'no error'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isOpenCtsError(error)) return error.errorCode
    throw error
  }
  return 'no error'
}

/** Asserts that `promise` rejects with a catalogue error of body code `errorCode`. */
export async function rejectsWith(promise: Promise<unknown>, errorCode: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { errorCode?: unknown }).errorCode, errorCode)
    return true
  })
}

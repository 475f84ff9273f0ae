/**
 * The Coordination contract (src/store/ports/coordination.ts) for what one node does alone: a lease
 * named is acquired once, naming it twice throws, `held()` lists the held leases sorted, `close`
 * gives each up (awaiting its `lost`). Every coordination passes it (LocalCoordination,
 * PgCoordination); elections between nodes are tested per engine.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it } from 'node:test'
import type { Coordination, LeaseHandlers } from '../../src/store/index.js'

export interface CoordinationFactory {
  /** A node's coordination, started. */
  open(): Promise<Coordination>
  /** How long the coordination may take to acquire a free lease (ms). */
  readonly acquireMs: number
}

/** Handlers that count their calls. */
export class LeaseProbe implements LeaseHandlers {
  acquiredCount = 0
  lostCount = 0
  /** Ms `lost` takes to resolve (to check that it is awaited). */
  lostDelayMs = 0
  lostDone = 0

  acquired(): void {
    this.acquiredCount++
  }

  async lost(): Promise<void> {
    this.lostCount++
    if (this.lostDelayMs > 0) await sleep(this.lostDelayMs)
    this.lostDone++
  }

  get holding(): boolean {
    return this.acquiredCount > this.lostCount
  }
}

/** Waits until `condition` holds, checking every 10 ms; fails after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const start = Date.now()
  for (let i = 0; i < Math.ceil(timeoutMs / 10) + 1; i++) {
    if (condition()) return Date.now() - start
    if (Date.now() - start > timeoutMs) break
    await sleep(10)
  }
  if (condition()) return Date.now() - start
  throw new Error(`${what}: not within ${timeoutMs} ms`)
}

/** A lease name unique to one test (nodes of other tests share the database). */
function leaseName(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`
}

export function coordinationContract(name: string, factory: CoordinationFactory): void {
  describe(`coordination contract: ${name}`, () => {
    it('acquires a lease named alone, exactly once, and lists it', async () => {
      const c = await factory.open()
      try {
        const lease = leaseName('transfer')
        const probe = new LeaseProbe()
        c.hold(lease, probe)
        await waitUntil(() => probe.acquiredCount > 0, factory.acquireMs, 'acquired')
        assert.deepEqual(c.held(), [lease])
        await sleep(Math.min(factory.acquireMs, 1000))
        assert.equal(probe.acquiredCount, 1, 'acquired once')
        assert.equal(probe.lostCount, 0)
        assert.deepEqual(c.held(), [lease])
      } finally {
        await c.close()
      }
    })

    it('throws when a lease is named twice on one node', async () => {
      const c = await factory.open()
      try {
        const lease = leaseName('deliveries')
        const probe = new LeaseProbe()
        c.hold(lease, probe)
        assert.throws(() => c.hold(lease, new LeaseProbe()), /already/)
        await waitUntil(() => probe.acquiredCount > 0, factory.acquireMs, 'acquired')
        assert.throws(() => c.hold(lease, new LeaseProbe()), /already/)
        assert.equal(probe.acquiredCount, 1)
      } finally {
        await c.close()
      }
    })

    it('lists the held leases sorted', async () => {
      const c = await factory.open()
      try {
        const suffix = randomUUID().slice(0, 8)
        const names = ['retention', 'Checkpoints', 'log-streams', 'deliveries'].map(
          (n) => `${n}-${suffix}`,
        )
        const probes = names.map(() => new LeaseProbe())
        for (const [i, n] of names.entries()) c.hold(n, probes[i] as LeaseProbe)
        await waitUntil(
          () => probes.every((p) => p.acquiredCount === 1),
          factory.acquireMs,
          'all acquired',
        )
        assert.deepEqual(c.held(), [...names].sort())
      } finally {
        await c.close()
      }
    })

    it('gives every lease up at close, awaiting each lost, and acquires none after', async () => {
      const c = await factory.open()
      const [a, b] = [new LeaseProbe(), new LeaseProbe()]
      a.lostDelayMs = 50
      b.lostDelayMs = 50
      c.hold(leaseName('a'), a)
      c.hold(leaseName('b'), b)
      await waitUntil(() => a.acquiredCount + b.acquiredCount === 2, factory.acquireMs, 'acquired')
      await c.close()
      assert.deepEqual([a.lostCount, a.lostDone, b.lostCount, b.lostDone], [1, 1, 1, 1])
      assert.deepEqual(c.held(), [])
      const late = new LeaseProbe()
      c.hold(leaseName('late'), late)
      await sleep(Math.min(factory.acquireMs, 500))
      assert.equal(late.acquiredCount, 0, 'nothing is acquired after close')
      assert.deepEqual(c.held(), [])
      await c.close()
      assert.equal(a.lostCount, 1, 'a second close gives nothing up again')
    })

    it('subscribes and unsubscribes remote-commit listeners', async () => {
      const c = await factory.open()
      try {
        let calls = 0
        const unsubscribe = c.onRemoteCommit(() => calls++)
        assert.equal(typeof unsubscribe, 'function')
        unsubscribe()
        unsubscribe()
        await sleep(50)
        assert.equal(calls, 0, 'no other node committed')
      } finally {
        await c.close()
      }
    })
  })
}

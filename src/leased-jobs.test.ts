import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Coordination, LeaseHandlers } from './store/index.js'
import { LocalCoordination } from './store/local-coordination.js'
import { LeasedJobs, type LeasedJob } from './leased-jobs.js'

/** Leases granted and taken away by the test, as another node taking them over would. */
class ManualCoordination implements Coordination {
  readonly handlers = new Map<string, LeaseHandlers>()
  readonly #held = new Set<string>()

  hold(name: string, handlers: LeaseHandlers): void {
    this.handlers.set(name, handlers)
  }

  grant(name: string): void {
    this.#held.add(name)
    this.handlers.get(name)?.acquired()
  }

  async revoke(name: string): Promise<void> {
    this.#held.delete(name)
    await this.handlers.get(name)?.lost()
  }

  held(): readonly string[] {
    return [...this.#held].sort()
  }

  onRemoteCommit(): () => void {
    return () => undefined
  }

  async close(): Promise<void> {
    for (const name of [...this.#held]) await this.revoke(name)
  }
}

/** A job that records its starts and stops. */
function job(name: string, log: string[]): LeasedJob {
  return {
    name,
    start: () => log.push(`start ${name}`),
    stop: () => {
      log.push(`stop ${name}`)
    },
  }
}

describe('LeasedJobs', () => {
  it('runs a job only while its lease is held, again when it comes back', async () => {
    const coordination = new ManualCoordination()
    const jobs = new LeasedJobs(coordination)
    const log: string[] = []
    jobs.add(job('transfer', log))
    jobs.add(job('delivery', log))
    assert.deepEqual(log, [], 'nothing runs before a lease is taken')
    coordination.grant('delivery')
    assert.deepEqual(log, ['start delivery'])
    assert.deepEqual(jobs.leases(), [
      { lease: 'delivery', held: true },
      { lease: 'transfer', held: false },
    ])
    await coordination.revoke('delivery')
    coordination.grant('transfer')
    coordination.grant('delivery')
    assert.deepEqual(log, ['start delivery', 'stop delivery', 'start transfer', 'start delivery'])
  })

  it('stops every job at stop and starts none for a lease taken afterwards', async () => {
    const coordination = new ManualCoordination()
    const jobs = new LeasedJobs(coordination)
    const log: string[] = []
    jobs.add(job('retention', log))
    jobs.add(job('transfer', log))
    jobs.report('setup')
    coordination.grant('retention')
    await jobs.stop()
    coordination.grant('transfer')
    assert.deepEqual(log, ['start retention', 'stop retention', 'stop transfer'])
    assert.deepEqual(
      jobs.leases().map((l) => l.lease),
      ['retention', 'setup', 'transfer'],
    )
  })

  it('with one node (LocalCoordination) every job starts at once and stops at close', async () => {
    const coordination = new LocalCoordination()
    const jobs = new LeasedJobs(coordination)
    const log: string[] = []
    jobs.add(job('retention', log))
    jobs.add(job('checkpointer', log))
    assert.deepEqual(log, ['start retention', 'start checkpointer'])
    assert.ok(jobs.leases().every((l) => l.held))
    await coordination.close()
    assert.deepEqual(log.slice(2).sort(), ['stop checkpointer', 'stop retention'])
  })
})

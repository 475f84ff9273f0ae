/**
 * @module leased-jobs
 * The server's background jobs (retention, transfer, deliveries, log streams, checkpoints, alarms), each
 * under its own lease of `store.coordination`, so that each runs on exactly one of the nodes sharing
 * a store: a job starts on the node that takes its lease, stops when that node loses it, and starts
 * again on the node that takes it over. With one node (the embedded store) every lease is held from
 * the start, so every job runs at once, as before leases existed.
 */
import type { Coordination } from './store/index.js'

export interface LeasedJob {
  /** The lease's name, unique among a server's jobs (`transfer`, `delivery`, …). */
  readonly name: string
  /** Starts the work (returns at once); called again after a `stop` when the lease comes back. */
  start(): void
  /** Stops the work and waits for a run in progress. Idempotent. */
  stop(): Promise<void> | void
}

/** Whether this node holds a lease it competes for (metrics `opencts_lease_held`). */
export interface LeaseState {
  readonly lease: string
  readonly held: boolean
}

export class LeasedJobs {
  readonly #coordination: Coordination
  readonly #jobs: LeasedJob[] = []
  /** Leases held for other work (the store's set-up), reported with the jobs'. */
  readonly #others: string[] = []
  #stopped = false

  constructor(coordination: Coordination) {
    this.#coordination = coordination
  }

  /** Competes for the job's lease: the job runs while this node holds it. */
  add(job: LeasedJob): void {
    this.#jobs.push(job)
    this.#coordination.hold(job.name, {
      // A lease taken while the server closes starts nothing.
      acquired: () => {
        if (!this.#stopped) job.start()
      },
      lost: () => job.stop(),
    })
  }

  /** Reports `name`, a lease held for other work, with the jobs' leases. */
  report(name: string): void {
    this.#others.push(name)
  }

  /** Every lease of these jobs (and reported ones), sorted, and whether this node holds it now. */
  leases(): LeaseState[] {
    const held = new Set(this.#coordination.held())
    return [...this.#others, ...this.#jobs.map((job) => job.name)]
      .sort()
      .map((lease) => ({ lease, held: held.has(lease) }))
  }

  /**
   * Stops every job, whether or not its lease is held, and starts none afterwards. The leases are
   * given up when the store closes (`Coordination.close`), which another node then takes over.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const job of this.#jobs) await job.stop()
  }
}

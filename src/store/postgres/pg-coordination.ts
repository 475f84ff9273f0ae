/**
 * @module store/postgres/pg-coordination
 * Coordination of many OpenCTS nodes on one PostgreSQL database, over ONE dedicated connection per
 * node (never the pool):
 *
 * - A lease is a session advisory lock `pg_try_advisory_lock(k1, k2)`, the key a hash of the lease
 *   name. A node holds it as long as its session lives; when the holder dies (SIGKILL, crash) the
 *   OS closes its socket, PostgreSQL ends the session and releases the lock at once, and a live
 *   node takes it at its next try: failover within `pollMs` (default 1 s, plus up to 10% jitter).
 *   A vanished host (no FIN) is noticed by the server's `idle_session_timeout` (PostgreSQL 14+),
 *   set on the session to `sessionTimeoutMs` (the node runs a statement every `pollMs`, so only a
 *   dead or frozen node goes idle that long). The URL must reach PostgreSQL itself or a pooler in
 *   session mode: a transaction-mode pooler keeps neither session locks nor LISTEN.
 * - When the connection fails (server restart, `pg_terminate_backend`, a statement error), the node
 *   gives up every lease it held (awaiting each `lost`), reconnects with a bounded backoff, and
 *   competes again after `2 * pollMs`, so that a node that kept its connection takes the leases.
 * - Wake-ups: the session LISTENs on COMMIT_CHANNEL, where the trace store's append transaction
 *   signals `pg_notify(channel, nodeName)`. A notification of another node calls the
 *   `onRemoteCommit` listeners (bursts coalesced: at most one call per COALESCE_MS); after a
 *   reconnect they are called once, since commits may have been missed meanwhile.
 *
 * Every statement, lease callback and reconnect runs in one loop, so a lease is never acquired and
 * lost concurrently.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Coordination, LeaseHandlers } from '../store.js'
import { toStoreError } from './driver-errors.js'
import { COMMIT_CHANNEL } from './pg-database.js'
import { connectionConfig } from './pg-pool.js'

export interface PgCoordinationOptions {
  /** The store URL (`postgres://…`). */
  readonly url: string
  /** This node's name: the payload of its commit notifications (ignored by itself). */
  readonly nodeName: string
  /** How often a lease not held is tried (and the session checked). Default 1000 ms. */
  readonly pollMs?: number
  /** The server ends the session (releasing its leases) after this long without a statement. */
  readonly sessionTimeoutMs?: number
}

/** One lease as the metrics show it. */
export interface LeaseState {
  readonly name: string
  readonly held: boolean
}

/** Remote-commit listeners are called at most once per this many ms. */
export const COALESCE_MS = 20
/** Reconnect backoff: first delay, and the bound. */
const RECONNECT_MIN_MS = 100
const RECONNECT_MAX_MS = 5_000
/** How long ending the session may take before it is left to the server. */
const END_TIMEOUT_MS = 5_000

interface Lease {
  readonly name: string
  readonly handlers: LeaseHandlers
  /** The advisory lock key: two int4 from SHA-256 of the name. */
  readonly key: readonly [number, number]
  held: boolean
}

/** The advisory lock key of a lease name (two signed 32-bit integers). */
export function leaseKey(name: string): [number, number] {
  const digest = createHash('sha256').update(`opencts lease\n${name}`).digest()
  return [digest.readInt32BE(0), digest.readInt32BE(4)]
}

export class PgCoordination implements Coordination {
  readonly nodeName: string
  readonly #config: pg.ClientConfig
  readonly #pollMs: number
  readonly #sessionTimeoutMs: number
  readonly #leases = new Map<string, Lease>()
  readonly #listeners = new Set<() => void>()
  #client: pg.Client | undefined
  #connecting: pg.Client | undefined
  #broken = false
  #closed = false
  #loop: Promise<void> | undefined
  #wake: (() => void) | undefined
  #wakeRequested = false
  /** No lease is tried before this time (ms since epoch): the cool-down after a lost connection. */
  #competeAfter = 0
  #emitTimer: NodeJS.Timeout | undefined
  #emitPending = false
  #leaseChanges = 0
  #reconnects = 0
  #backendPid: number | undefined

  private constructor(options: PgCoordinationOptions) {
    this.nodeName = options.nodeName
    this.#pollMs = options.pollMs ?? 1000
    this.#sessionTimeoutMs = options.sessionTimeoutMs ?? Math.max(10_000, 10 * this.#pollMs)
    this.#config = {
      ...connectionConfig(options.url, `opencts-coordination ${options.nodeName}`.slice(0, 63)),
      // A statement that does not answer counts as a lost connection.
      query_timeout: Math.max(5_000, 5 * this.#pollMs),
    }
  }

  /**
   * Connects the dedicated session and starts competing. Throws OCTS_ERR_STORE_UNAVAILABLE when the
   * database cannot be reached.
   */
  static async start(options: PgCoordinationOptions): Promise<PgCoordination> {
    const coordination = new PgCoordination(options)
    try {
      await coordination.#connect()
    } catch (error) {
      throw toStoreError('read', error)
    }
    coordination.#loop = coordination.#run()
    return coordination
  }

  /** Whether the dedicated session is up now. */
  get connected(): boolean {
    return this.#client !== undefined && !this.#broken
  }

  /** Lease acquisitions and losses since start (a metric of churn). */
  get leaseChanges(): number {
    return this.#leaseChanges
  }

  /** Successful reconnects of the dedicated session since start. */
  get reconnects(): number {
    return this.#reconnects
  }

  /** The server process id of the dedicated session (pg_stat_activity.pid), while connected. */
  get backendPid(): number | undefined {
    return this.connected ? this.#backendPid : undefined
  }

  /** Every lease named on this node, by name, and whether it is held. */
  leases(): readonly LeaseState[] {
    return [...this.#leases.values()]
      .map((l) => ({ name: l.name, held: l.held }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  hold(name: string, handlers: LeaseHandlers): void {
    if (this.#leases.has(name)) throw new Error(`the lease ${name} is already held`)
    if (this.#closed) return
    this.#leases.set(name, { name, handlers, key: leaseKey(name), held: false })
    this.#wakeUp()
  }

  held(): readonly string[] {
    return this.leases()
      .filter((l) => l.held)
      .map((l) => l.name)
  }

  onRemoteCommit(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#loop
    this.#closed = true
    this.#connecting?.end().catch(() => undefined)
    if (this.#emitTimer !== undefined) clearTimeout(this.#emitTimer)
    this.#listeners.clear()
    this.#wakeUp()
    await this.#loop
  }

  /** The one loop: (re)connect, try the leases, check the session, sleep; gives up at close. */
  async #run(): Promise<void> {
    let failures = 0
    while (!this.#closed) {
      if (this.#client === undefined) {
        try {
          await this.#connect()
          failures = 0
          this.#reconnects++
          this.#emitRemoteCommit()
        } catch {
          failures++
          await this.#sleep(Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** (failures - 1)))
          continue
        }
      }
      try {
        if (!this.#broken) await this.#poll()
      } catch {
        this.#broken = true
      }
      if (this.#broken) {
        await this.#drop()
        continue
      }
      await this.#sleep(this.#pollMs * (1 + Math.random() * 0.1))
    }
    // The leases stay held until every `lost` has returned (work stopped): the session is kept
    // alive meanwhile, however long that takes, then ended.
    const heartbeat = setInterval(() => {
      this.#client?.query('SELECT 1').catch(() => undefined)
    }, this.#pollMs)
    try {
      await this.#giveUpAll()
    } finally {
      clearInterval(heartbeat)
    }
    await this.#endClient()
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#config)
    this.#connecting = client
    client.on('error', () => this.#markBroken(client))
    client.on('end', () => this.#markBroken(client))
    client.on('notification', (message) => {
      if (message.channel === COMMIT_CHANNEL && message.payload !== this.nodeName)
        this.#emitRemoteCommit()
    })
    try {
      await client.connect()
      if (this.#closed) throw new Error('closed')
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pg_backend_pid() AS pid, CASE WHEN current_setting('server_version_num')::integer
         >= 140000 THEN set_config('idle_session_timeout', $1, false) END AS timeout`,
        [String(this.#sessionTimeoutMs)],
      )
      await client.query(`LISTEN ${client.escapeIdentifier(COMMIT_CHANNEL)}`)
      this.#backendPid = rows[0]?.pid
    } catch (error) {
      await within(client.end(), END_TIMEOUT_MS)
      throw error
    } finally {
      this.#connecting = undefined
    }
    this.#client = client
    this.#broken = false
  }

  /** Tries every lease not held (one statement), or checks the session when all are held. */
  async #poll(): Promise<void> {
    const client = this.#client
    if (client === undefined) return
    const wanted = [...this.#leases.values()].filter((l) => !l.held)
    if (wanted.length === 0 || Date.now() < this.#competeAfter) {
      await client.query('SELECT 1')
      return
    }
    const { rows } = await client.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_lock(k1, k2) AS ok
       FROM unnest($1::integer[], $2::integer[]) WITH ORDINALITY AS u (k1, k2, n) ORDER BY n`,
      [wanted.map((l) => l.key[0]), wanted.map((l) => l.key[1])],
    )
    for (const [i, lease] of wanted.entries()) {
      // Taken but closing or broken: ending the session (next in the loop) releases it.
      if (rows[i]?.ok !== true || this.#closed || this.#broken) continue
      lease.held = true
      this.#leaseChanges++
      try {
        lease.handlers.acquired()
      } catch {
        // A handler that throws still holds the lease; its own errors are its own to report.
      }
    }
  }

  /** The session failed: gives up every lease, then ends the client and waits before competing. */
  async #drop(): Promise<void> {
    await this.#giveUpAll()
    await this.#endClient()
    this.#competeAfter = Date.now() + 2 * this.#pollMs
  }

  async #giveUpAll(): Promise<void> {
    for (const lease of this.#leases.values()) {
      if (!lease.held) continue
      lease.held = false
      this.#leaseChanges++
      try {
        await lease.handlers.lost()
      } catch {
        // The work is stopped as far as it goes; the lease is given up regardless.
      }
    }
  }

  async #endClient(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    this.#broken = false
    this.#backendPid = undefined
    // Ending the session releases its advisory locks. A goodbye that does not return in time
    // (a half-open socket) is not waited for: the server ends the session on its own.
    if (client !== undefined) await within(client.end(), END_TIMEOUT_MS)
  }

  #markBroken(client: pg.Client): void {
    if (client !== this.#client) return
    this.#broken = true
    this.#wakeUp()
  }

  #emitRemoteCommit(): void {
    if (this.#closed) return
    if (this.#emitTimer !== undefined) {
      this.#emitPending = true
      return
    }
    for (const listener of [...this.#listeners]) {
      try {
        listener()
      } catch {
        // A listener's failure is its own; the others still run.
      }
    }
    this.#emitTimer = setTimeout(() => {
      this.#emitTimer = undefined
      if (this.#emitPending) {
        this.#emitPending = false
        this.#emitRemoteCommit()
      }
    }, COALESCE_MS)
    this.#emitTimer.unref()
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakeRequested || this.#closed) {
      this.#wakeRequested = false
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.#wake = () => {
        clearTimeout(timer)
        resolve()
      }
    }).then(() => {
      this.#wake = undefined
      this.#wakeRequested = false
    })
  }

  #wakeUp(): void {
    if (this.#wake !== undefined) this.#wake()
    else this.#wakeRequested = true
  }
}

/** Waits for `promise` (its failure ignored), at most `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ])
  clearTimeout(timer)
}

/**
 * @module store/postgres/trace-partitions
 * The day partitions of `traces`: `traces_day_<n>` holds the traces of day n since the epoch (UTC),
 * `time` in [n * 86,400,000, (n + 1) * 86,400,000). A partition is created before the first append
 * that needs it, in its own short transaction (CREATE … PARTITION OF locks the parent table
 * exclusively, so never inside an append), serialised across nodes by an advisory lock and
 * idempotent; the days known to exist are cached. Retention drops whole days (see
 * PgTraceStore.purgeBefore).
 */
import { pgCode } from './driver-errors.js'
import type { PgDatabase } from './pg-database.js'

export const DAY_MS = 86_400_000

/** Advisory lock key (classid, objid) serialising partition DDL across nodes. */
const PARTITION_LOCK = [0x0c75, 2] as const

/** The partition of a day (names and bounds are computed integers, never user input). */
export function partitionName(day: number): string {
  if (!Number.isSafeInteger(day)) throw new RangeError(`bad day ${day}`)
  return day < 0 ? `traces_day_n${-day}` : `traces_day_${day}`
}

function dayOfName(name: string): number | undefined {
  const match = /^traces_day_(n?)(\d+)$/.exec(name)
  if (match === null) return undefined
  const n = Number(match[2])
  return match[1] === 'n' ? -n : n
}

export const dayOf = (time: number): number => Math.floor(time / DAY_MS)

/** 23514 "no partition of relation … found for row": a cached day was dropped by another node. */
export function isMissingPartition(error: unknown): boolean {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error
  return pgCode(cause) === '23514' && /no partition/i.test(String((cause as Error).message))
}

export class TracePartitions {
  readonly #db: PgDatabase
  /** Days whose partition exists; undefined until first listed. */
  #known: Set<number> | undefined

  constructor(db: PgDatabase) {
    this.#db = db
  }

  /** Every existing day partition, oldest first (read from the catalog; refreshes the cache). */
  async list(): Promise<number[]> {
    const rows = await this.#db.query<{ name: string }>(
      'read',
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'traces'::regclass`,
    )
    const days = rows.flatMap((r) => {
      const day = dayOfName(r.name)
      return day === undefined ? [] : [day]
    })
    this.#known = new Set(days)
    return days.sort((a, b) => a - b)
  }

  /** Creates the partitions of the days of `times` that do not exist yet. */
  async ensure(times: Iterable<number>): Promise<void> {
    const known = this.#known ?? new Set(await this.list())
    const missing = new Set<number>()
    for (const time of times) {
      const day = dayOf(time)
      if (!known.has(day)) missing.add(day)
    }
    for (const day of [...missing].sort((a, b) => a - b)) {
      try {
        await this.#db.transaction(async (tx) => {
          await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...PARTITION_LOCK])
          await tx.query(
            `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF traces
             FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
          )
        })
      } catch (error) {
        // 42P07: created concurrently by a node not holding the lock (an older one): it exists.
        const cause = error instanceof Error ? error.cause : undefined
        if (pgCode(cause) !== '42P07') throw error
      }
      known.add(day)
    }
  }

  /** Forgets the cache (after a partition was found missing: another node dropped it). */
  forget(): void {
    this.#known = undefined
  }

  /**
   * Deletes at most `maxRows` idempotency keys (`trace_keys`) of the traces of `day`; returns how
   * many. Once none is left, the day's partition is gone to them: `get` and markers no longer find
   * its traces, and `dropDay` removes the rows at once.
   */
  async deleteKeys(day: number, maxRows: number): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH d AS (
         DELETE FROM trace_keys WHERE ctid IN (
           SELECT ctid FROM trace_keys WHERE time >= $1 AND time < $2 LIMIT $3)
         RETURNING 1
       ) SELECT count(*)::int AS n FROM d`,
      [day * DAY_MS, (day + 1) * DAY_MS, maxRows],
    )
    return rows[0]?.n ?? 0
  }

  /**
   * Drops the partition of `day` at once, whatever its size (with any key of it left), in one
   * transaction that waits at most `lockTimeoutMs` for the parent table's lock (a long reader, e.g.
   * an audit, would otherwise queue every append behind the drop). Returns false when the lock was
   * not had in time (the next call tries again).
   */
  async dropDay(day: number, lockTimeoutMs = 2000): Promise<boolean> {
    const name = partitionName(day)
    try {
      await this.#db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...PARTITION_LOCK])
        await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`)
        const exists = await tx.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_class WHERE relname = $1 AND relkind = 'r'",
          [name],
        )
        if (exists.rows[0]?.n !== 1) return
        // The parent first, as appends and readers lock it.
        await tx.query('LOCK TABLE ONLY traces IN ACCESS EXCLUSIVE MODE')
        await tx.query('DELETE FROM trace_keys WHERE time >= $1 AND time < $2', [
          day * DAY_MS,
          (day + 1) * DAY_MS,
        ])
        await tx.query(`DROP TABLE ${name}`)
      })
      this.#known?.delete(day)
      return true
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined
      if (pgCode(cause) === '55P03') return false
      throw error
    }
  }
}

/**
 * @module store/postgres/migrations
 * Numbered schema migrations of the PostgreSQL engine, applied in order at start (and by `opencts
 * admin migrate`) under an advisory lock, so that nodes starting together apply each once. The
 * pending ones run in one transaction and are recorded in `opencts_schema`; a database of a newer version than this code knows
 * is refused (OCTS_ERR_STORE_SCHEMA) and left unchanged.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { PgDatabase } from './pg-database.js'
import { SCHEMA_1 } from './schema.js'
import { TRACE_EXTRAS_SQL } from './schema-traces.js'
import { ALARMS_SQL } from './schema-alarms.js'
import { INSIGHTS_SQL } from './schema-insights.js'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/** Every migration, in order; a release adds to the end and never edits one that shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: SCHEMA_1 },
  { version: 2, name: 'trace-extras', sql: TRACE_EXTRAS_SQL },
  { version: 3, name: 'alarms', sql: ALARMS_SQL },
  { version: 4, name: 'insights', sql: INSIGHTS_SQL },
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0

/** Advisory lock key (classid, objid) serialising migrations across nodes. */
const MIGRATE_LOCK = [0x0c75, 1] as const

/** The schema version of the database (0 when OpenCTS never ran on it). */
export async function schemaVersion(db: PgDatabase): Promise<number> {
  const exists = await db.query<{ present: boolean }>(
    'read',
    "SELECT to_regclass('opencts_schema') IS NOT NULL AS present",
  )
  if (exists[0]?.present !== true) return 0
  const rows = await db.query<{ v: number | null }>(
    'read',
    'SELECT max(version) AS v FROM opencts_schema',
  )
  return rows[0]?.v ?? 0
}

/**
 * Applies the migrations the database lacks, in one transaction, under the migration
 * lock. Returns the versions applied. Throws OCTS_ERR_STORE_SCHEMA when the database is newer.
 */
export async function migrate(db: PgDatabase, location: string): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [...MIGRATE_LOCK])
    await tx.query(`CREATE TABLE IF NOT EXISTS opencts_schema (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await tx.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM opencts_schema',
    )
    const current = rows[0]?.v ?? 0
    if (current > SCHEMA_VERSION)
      throw new OpenCtsError('OCTS_ERR_STORE_SCHEMA', {
        message: `the PostgreSQL store at ${location} has schema version ${current}, this OpenCTS supports up to ${SCHEMA_VERSION}: run the newer OpenCTS (or restore a backup)`,
      })
    const applied: number[] = []
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue
      await tx.query(migration.sql)
      await tx.query('INSERT INTO opencts_schema (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
      applied.push(migration.version)
    }
    return applied
  })
}

/** Refuses a database whose schema is not exactly this code's (read-only opens). */
export async function requireVersion(db: PgDatabase, location: string): Promise<void> {
  const version = await schemaVersion(db)
  if (version !== SCHEMA_VERSION)
    throw new OpenCtsError('OCTS_ERR_STORE_SCHEMA', {
      message:
        version === 0
          ? `${location} holds no OpenCTS store`
          : `the PostgreSQL store at ${location} has schema version ${version}, this OpenCTS reads ${SCHEMA_VERSION}`,
    })
}

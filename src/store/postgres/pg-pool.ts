/**
 * @module store/postgres/pg-pool
 * The connection pool of the PostgreSQL engine: `pg` with BIGINT read as a JS number (every counter
 * and time of the store stays below 2^53), the operating-system user when the URL names none (like
 * psql), and the application name `opencts` in `pg_stat_activity`.
 */
import { userInfo } from 'node:os'
import pg from 'pg'

// int8 (BIGINT): times in ms, seq, counts — all below 2^53.
pg.types.setTypeParser(20, (text) => Number(text))

export interface PoolOptions {
  readonly url: string
  /** Connections open at most. */
  readonly size: number
  /** Shown in `pg_stat_activity.application_name`. */
  readonly applicationName?: string
}

/** The connection settings of a store URL (the OS user when the URL names none). */
export function connectionConfig(url: string, applicationName = 'opencts'): pg.ClientConfig {
  const parsed = new URL(url)
  // In the URL itself: `pg` lets the connection string's (empty) user override a `user` option.
  if (parsed.username === '') parsed.username = encodeURIComponent(osUser())
  return {
    connectionString: parsed.toString(),
    application_name: applicationName,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  }
}

function osUser(): string {
  try {
    return userInfo().username
  } catch {
    return 'postgres'
  }
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...connectionConfig(options.url, options.applicationName),
    max: options.size,
    idleTimeoutMillis: 30_000,
  })
  // An idle client's connection dropping (server restart) must not end the process.
  pool.on('error', () => undefined)
  // Nor a checked-out one's (the pool listens only while a client is idle): its query fails
  // instead, and the transaction converts that error (OCTS_ERR_STORE_UNAVAILABLE).
  pool.on('connect', (client) => client.on('error', () => undefined))
  return pool
}

/** `postgres://host:port/database`, without user or password (logs, /health). */
export function safeLocation(url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.hostname}${parsed.port === '' ? '' : `:${parsed.port}`}${parsed.pathname}`
}

/**
 * @module bench/pg-bench-database
 * Fresh PostgreSQL databases for the benchmark: each run of the PostgreSQL section works in its own
 * database, created empty on the server of BENCH_POSTGRES and dropped afterwards (also when the run
 * is interrupted: `dropAll`). The user is the operating-system user when the URL names none, as
 * psql does; the databases' URLs name it, so the nodes connect as the same user.
 */
import { randomBytes } from 'node:crypto'
import { userInfo } from 'node:os'
import pg from 'pg'

export interface BenchDatabase {
  /** `postgres://…/opencts_bench_…` of the database. */
  readonly url: string
  readonly name: string
  /** One query on a short-lived connection to this database. */
  query<Row extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>
  /** `pg_database_size` of this database, bytes. */
  size(): Promise<number>
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>
}

/**
 * `url` naming the operating-system user when it names none. (In the URL itself: pg lets the
 * parsed connection string override a separate `user` setting with its absent user name.)
 */
export function withUser(url: string): string {
  const parsed = new URL(url)
  if (parsed.username === '') parsed.username = userInfo().username
  return parsed.toString()
}

export function clientConfig(url: string): pg.ClientConfig {
  return {
    connectionString: withUser(url),
    application_name: 'opencts-bench',
    connectionTimeoutMillis: 10_000,
  }
}

/** Runs `fn` with a connected client of `url`, closed afterwards. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(clientConfig(url))
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export interface ServerFacts {
  readonly version: string
  readonly maxConnections: number
  readonly sharedBuffers: string
  readonly synchronousCommit: string
  readonly autovacuum: string
}

/** The PostgreSQL server behind `adminUrl` (throws when it cannot be reached). */
export function serverFacts(adminUrl: string): Promise<ServerFacts> {
  return withClient(adminUrl, async (client) => {
    const setting = async (name: string): Promise<string> =>
      (await client.query<{ setting: string }>('SELECT current_setting($1) AS setting', [name]))
        .rows[0]?.setting ?? ''
    return {
      version: await setting('server_version'),
      maxConnections: Number(await setting('max_connections')),
      sharedBuffers: await setting('shared_buffers'),
      synchronousCommit: await setting('synchronous_commit'),
      autovacuum: await setting('autovacuum'),
    }
  })
}

/** Databases created and not yet dropped, for `dropAll`. */
const live = new Set<BenchDatabase>()

/** Creates an empty database on the server of `adminUrl`. */
export async function createBenchDatabase(adminUrl: string, label: string): Promise<BenchDatabase> {
  const name = `opencts_bench_${label.replace(/[^a-z0-9]/g, '').slice(0, 16)}_${randomBytes(4).toString('hex')}`
  // The name is generated above from [a-z0-9_] only; identifiers cannot be parameters.
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(withUser(adminUrl))
  url.pathname = `/${name}`
  const database: BenchDatabase = {
    url: url.toString(),
    name,
    query: <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      withClient(url.toString(), async (client) => (await client.query<Row>(sql, params)).rows),
    async size() {
      const rows = await database.query<{ size: number | string }>(
        'SELECT pg_database_size(current_database()) AS size',
      )
      return Number(rows[0]?.size ?? 0)
    },
    async drop() {
      live.delete(database)
      await withClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      )
    },
  }
  live.add(database)
  return database
}

/** Drops every database this process created and has not dropped yet (bounded by `timeoutMs`). */
export async function dropAll(timeoutMs = 15_000): Promise<void> {
  const drops = Promise.allSettled([...live].map((database) => database.drop()))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([drops, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
  clearTimeout(timer)
}

/**
 * PostgreSQL for tests: every test file works in its own fresh database on the machine's server
 * (`OPENCTS_TEST_POSTGRES`, default postgres://127.0.0.1/test, trust auth), dropped afterwards.
 * Which engines the engine-matrix suites run on comes from `STORES` (default `sqlite,postgres`);
 * a listed engine that cannot be reached fails the run, it is never skipped.
 */
import { randomBytes } from 'node:crypto'
import { userInfo } from 'node:os'
import pg from 'pg'

export const POSTGRES_ADMIN_URL = process.env.OPENCTS_TEST_POSTGRES ?? 'postgres://127.0.0.1/test'

export type EngineName = 'sqlite' | 'postgres'

/** The engines of this run, from `STORES` (default both). */
export function testEngines(): EngineName[] {
  const list = (process.env.STORES ?? 'sqlite,postgres')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const name of list)
    if (name !== 'sqlite' && name !== 'postgres') throw new Error(`STORES: unknown engine ${name}`)
  return list as EngineName[]
}

function adminClient(): pg.Client {
  // The user goes into the URL: pg lets a connection string's empty user override a `user`
  // option, and then falls back to $USER, which a container's shell may not set.
  const url = new URL(POSTGRES_ADMIN_URL)
  if (url.username === '') url.username = encodeURIComponent(userInfo().username)
  return new pg.Client({ connectionString: url.toString() })
}

export interface TestDatabase {
  /** `postgres://…/opencts_t_…` of the new, empty database. */
  readonly url: string
  readonly name: string
  /** Drops the database (closing any connection still open to it). */
  drop(): Promise<void>
}

export interface TestDatabaseOptions {
  /**
   * A copy of this database (one of ours, no session connected to it) instead of an empty one:
   * e.g. a database already migrated, cheaper to copy than to migrate again.
   */
  readonly template?: string
}

/** Creates an empty database (or a copy of `template`) for one test file or one test. */
export async function createTestDatabase(
  label = 't',
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const name = `opencts_${label.replace(/[^a-z0-9]/g, '').slice(0, 20)}_${process.pid}_${randomBytes(4).toString('hex')}`
  const template = options.template
  if (template !== undefined && !/^opencts_[a-z0-9_]+$/.test(template))
    throw new Error(`not a test database: ${template}`)
  const client = adminClient()
  await client.connect()
  try {
    await client.query(
      `CREATE DATABASE ${name}${template === undefined ? '' : ` TEMPLATE ${template}`}`,
    )
  } finally {
    await client.end()
  }
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const admin = adminClient()
      await admin.connect()
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await admin.end()
      }
    },
  }
}

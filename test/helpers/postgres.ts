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
  const url = new URL(POSTGRES_ADMIN_URL)
  // In the URL itself: `pg` lets the connection string's (empty) user override a `user` option.
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

/** Creates an empty database for one test file (or one test). */
export async function createTestDatabase(label = 't'): Promise<TestDatabase> {
  const name = `opencts_${label.replace(/[^a-z0-9]/g, '').slice(0, 20)}_${process.pid}_${randomBytes(4).toString('hex')}`
  const client = adminClient()
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
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

/**
 * Tests of the PostgreSQL section's helpers (not of timings): COPY text of awkward values reads
 * back unchanged through a real COPY, the benchmark's databases are created and dropped, and the
 * CPU meter finds a database's backend by its process title and reads growing CPU time from /proc.
 */
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { POSTGRES_ADMIN_URL } from '../test/helpers/postgres.js'
import { clientConfig, createBenchDatabase, type BenchDatabase } from './pg-bench-database.js'
import { copyText } from './pg-copy-baseline.js'
import { CpuMeter, postgresPids, processTicks } from './proc-cpu.js'

describe('PostgreSQL bench helpers', () => {
  let database: BenchDatabase
  let other: BenchDatabase

  before(async () => {
    database = await createBenchDatabase(POSTGRES_ADMIN_URL, 'test')
    other = await createBenchDatabase(POSTGRES_ADMIN_URL, 'other')
  })
  after(async () => {
    await database.drop()
    await other.drop()
  })

  it('COPY text of tabs, newlines, backslashes, JSON and null reads back unchanged', async () => {
    const values = ['a\tb', 'line\nnext\r\n', 'back\\slash \\N', '{"x":"\\"q\\"\\n"}', null, 42]
    const client = new pg.Client(clientConfig(database.url))
    await client.connect()
    try {
      await client.query('CREATE TABLE t (i int, v text)')
      const text = values.map((v, i) => `${i}\t${copyText(v)}\n`).join('')
      await pipeline(Readable.from([text]), client.query(copyFrom('COPY t (i, v) FROM STDIN')))
      const { rows } = await client.query<{ v: string | null }>('SELECT v FROM t ORDER BY i')
      assert.deepEqual(
        rows.map((r) => r.v),
        values.map((v) => (v === null ? null : String(v))),
      )
    } finally {
      await client.end()
    }
  })

  it('finds the backends of its database only, and measures their CPU time', async () => {
    const mine = new pg.Client(clientConfig(database.url))
    const theirs = new pg.Client(clientConfig(other.url))
    await mine.connect()
    await theirs.connect()
    try {
      const pid = async (client: pg.Client): Promise<number> =>
        (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0
      const minePid = await pid(mine)
      const theirPid = await pid(theirs)
      const found = postgresPids(database.name)
      assert.ok(found.includes(minePid), `backend ${minePid} of ${database.name} not found`)
      assert.ok(!found.includes(theirPid), `backend ${theirPid} of ${other.name} counted`)

      const meter = new CpuMeter({ nodePids: [process.pid], database: database.name })
      const before = processTicks(minePid) ?? 0
      meter.start()
      // About 0.3 s of CPU in the backend and some in this process: bounded work either way.
      await mine.query('SELECT count(*) FROM generate_series(1, 3000000) g WHERE g % 7 = 0')
      let spin = 0
      for (let i = 0; i < 20_000_000; i++) spin += i % 3
      assert.ok(spin > 0)
      meter.stop()
      const totals = meter.totals()
      assert.ok((processTicks(minePid) ?? 0) > before, 'the backend used no CPU time')
      assert.ok(totals.postgresSeconds > 0, `postgres CPU ${totals.postgresSeconds} s`)
      assert.ok(totals.nodeSeconds > 0, `node CPU ${totals.nodeSeconds} s`)
    } finally {
      await mine.end()
      await theirs.end()
    }
  })

  it('drops its databases', async () => {
    const scratch = await createBenchDatabase(POSTGRES_ADMIN_URL, 'scratch')
    await scratch.drop()
    const rows = await database.query<{ n: number | string }>(
      'SELECT count(*) AS n FROM pg_database WHERE datname = $1',
      [scratch.name],
    )
    assert.equal(Number(rows[0]?.n), 0)
  })
})

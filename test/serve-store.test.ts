/**
 * `opencts serve`, `admin` and `verify` on a store URL, as an operator meets them: a database that
 * cannot be reached and a database of a newer schema each stop the start with one line naming it
 * (no stack) and exit status 1; `admin migrate` applies the schema and reports its version; the
 * embedded store's single node holds every lease, which `/health` and `/metrics` report; a
 * PostgreSQL store that becomes unreachable turns `/health` to 503 until it is back.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import {
  connect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { loadConfig } from '../src/config/config.js'
import { startServer } from '../src/server.js'
import { SCHEMA_VERSIONS } from '../src/store/open-store.js'
import { runOpencts } from './helpers/cluster.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'

const dir = mkdtempSync(join(tmpdir(), 'opencts-serve-store-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Asserts a one-line failure (no stack trace) matching `pattern`, exit status 1. */
function assertOneLineFailure(
  run: { status: number | null; stdout: string; stderr: string },
  pattern: RegExp,
): void {
  assert.equal(run.status, 1, `${run.stdout} ${run.stderr}`)
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line: ${run.stderr}`)
  assert.match(lines[0] ?? '', pattern)
  assert.doesNotMatch(run.stderr, /^\s+at /m, 'no stack trace')
}

describe('store settings', () => {
  it('an invalid --store or --store-pool-size is a setting error naming flag and variable', async () => {
    const bad = await runCliInProcess(['serve', '--store', 'mysql://u:pw@127.0.0.1/x'], { env: {} })
    assert.equal(bad.status, 2)
    assert.match(
      bad.stderr,
      /store must be sqlite:PATH or postgres:\/\/.*\(set by --store or OPENCTS_STORE\)/,
    )
    assert.doesNotMatch(bad.stderr, /:pw@/, 'no password in the message')
    const pool = await runCliInProcess(['serve', '--store-pool-size', '0'], { env: {} })
    assert.equal(pool.status, 2)
    assert.match(
      pool.stderr,
      /storePoolSize must be an integer from 1 to 200.*\(set by --store-pool-size or OPENCTS_STORE_POOL_SIZE\)/,
    )
  })
})

describe('a store that cannot be used stops the start with one line', () => {
  const closed = 'postgres://opencts:secret-password@127.0.0.1:1/nothing'

  it('serve: the database cannot be reached (names the host, not the password)', async () => {
    const run = await runOpencts(
      ['serve', '--port', '0', '--data-dir', join(dir, 'closed'), '--store', closed],
      {},
      30_000,
    )
    assertOneLineFailure(
      run,
      /cannot reach the PostgreSQL store at postgres:\/\/127\.0\.0\.1:1\/nothing/,
    )
    assert.doesNotMatch(run.stdout + run.stderr, /secret-password/)
  })

  it('admin and verify --store: the same, exit status 1', async () => {
    const admin = await runOpencts(['admin', 'account', 'list', '--store', closed])
    assertOneLineFailure(admin, /cannot reach the PostgreSQL store at postgres:\/\/127\.0\.0\.1:1/)
    const verify = await runOpencts(['verify', '--store', closed])
    assertOneLineFailure(verify, /cannot reach the PostgreSQL store at postgres:\/\/127\.0\.0\.1:1/)
  })
})

describe('a PostgreSQL store of a newer schema', () => {
  let db: TestDatabase
  before(async () => {
    db = await createTestDatabase('newer')
  })
  after(async () => {
    await db.drop()
  })

  it('admin migrate applies the schema and reports its version; a newer one refuses serve and migrate', async () => {
    const migrated = await runOpencts(['admin', 'migrate', '--store', db.url, '--json'])
    assert.equal(migrated.status, 0, migrated.stderr)
    const report = JSON.parse(migrated.stdout) as { engine: string; schemaVersion: number }
    assert.deepEqual(report, {
      store: db.url.replace(/\/\/[^@/]*@/, '//'),
      engine: 'postgres',
      schemaVersion: SCHEMA_VERSIONS.postgres,
    })
    // The user in the URL: pg lets a connection string's empty user override a `user` option.
    const url = new URL(db.url)
    if (url.username === '') url.username = userInfo().username
    const client = new pg.Client({ connectionString: url.toString() })
    await client.connect()
    try {
      const { rows } = await client.query<{ v: number }>(
        'SELECT max(version) AS v FROM opencts_schema',
      )
      assert.equal(rows[0]?.v, SCHEMA_VERSIONS.postgres, 'migrate recorded the version')
      await client.query(
        "INSERT INTO opencts_schema (version, name) VALUES ($1, 'from the future')",
        [SCHEMA_VERSIONS.postgres + 1],
      )
    } finally {
      await client.end()
    }
    const newer = new RegExp(`schema version ${SCHEMA_VERSIONS.postgres + 1}`)
    const serve = await runOpencts(
      ['serve', '--port', '0', '--data-dir', join(dir, 'newer'), '--store', db.url],
      {},
      30_000,
    )
    assertOneLineFailure(serve, newer)
    assertOneLineFailure(await runOpencts(['admin', 'migrate', '--store', db.url]), newer)
  })
})

/** A TCP proxy on loopback to PostgreSQL that the test cuts (every connection) and restores. */
class Outage {
  readonly #sockets = new Set<Socket>()
  #server: NetServer | undefined
  port = 0

  async up(): Promise<void> {
    const server = createNetServer((client) => {
      const upstream = connect(5432, '127.0.0.1')
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('error', () => undefined)
        socket.on('close', () => {
          this.#sockets.delete(socket)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.#server = server
  }

  async down(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server !== undefined) await new Promise((resolve) => server.close(resolve))
  }
}

describe('a PostgreSQL store that goes away while the server runs', () => {
  let db: TestDatabase
  const outage = new Outage()
  before(async () => {
    db = await createTestDatabase('outage')
    await outage.up()
  })
  after(async () => {
    await outage.down()
    await db.drop()
  })

  it('/health answers 503 OCTS.0507 while it is unreachable, 200 with its leases once back', async () => {
    const url = new URL(db.url)
    url.port = String(outage.port)
    const config = loadConfig(
      { OPENCTS_STORE: url.toString(), OPENCTS_STORE_POOL_SIZE: '3' },
      { dataDir: join(dir, 'outage'), port: '0', logLevel: 'silent' },
    )
    const server = await startServer(config)
    try {
      assert.equal(server.dbPath, null)
      const healthy = await fetch(`${server.url}/health`)
      assert.equal(healthy.status, 200)
      const body = (await healthy.json()) as { database: Record<string, unknown> }
      assert.equal(body.database.engine, 'postgres')
      assert.equal(body.database.location, `postgres://127.0.0.1:${outage.port}/${db.name}`)
      assert.equal(body.database.reachable, true)
      assert.equal(typeof (body.database.pool as { size?: unknown }).size, 'number')
      const metrics = await (await fetch(`${server.url}/metrics`)).text()
      assert.match(metrics, /^opencts_store_pool_connections\{state="total"\} [1-3]$/m)

      await outage.down()
      const down = await fetch(`${server.url}/health`)
      assert.equal(down.status, 503)
      const error = (await down.json()) as Record<string, unknown>
      assert.equal(error.error_code, 'OCTS.0507')
      assert.match(String(error.error_msg), /cannot be reached/)
      assert.ok(Number(down.headers.get('retry-after')) > 0)

      await outage.up()
      // The pool reconnects, and the node takes its leases again (bounded wait).
      const deadline = Date.now() + 15_000
      for (let round = 0; ; round++) {
        const again = await fetch(`${server.url}/health`)
        const leases =
          again.status === 200 ? ((await again.json()) as { leases: string[] }).leases : []
        if (leases.includes('delivery')) break
        assert.ok(
          Date.now() < deadline && round < 1000,
          `health ${again.status}, leases ${leases.join(', ')}`,
        )
        await sleep(100)
      }
    } finally {
      await server.close()
    }
  })
})

describe('the banner of a PostgreSQL store', () => {
  let db: TestDatabase
  before(async () => {
    db = await createTestDatabase('banner')
  })
  after(async () => {
    await db.drop()
  })

  it('names the store without its password, and the pool size', async () => {
    const url = new URL(db.url)
    url.username = userInfo().username
    url.password = 'top-secret-pw' // trust auth: accepted, and must never be printed
    let stop: (signal: string) => void = () => undefined
    const stopped = new Promise<string>((resolve) => (stop = resolve))
    const timer = setTimeout(() => stop('SIGTERM'), 30_000)
    const run = await runCliInProcess(
      ['serve', '--port', '0', '--data-dir', join(dir, 'banner'), '--log-level', 'silent'],
      {
        env: { OPENCTS_STORE: url.toString(), OPENCTS_STORE_POOL_SIZE: '3' },
        untilShutdown: () => stopped,
        onStdout: (text) => {
          if (text.includes('Press Ctrl+C')) stop('SIGTERM')
        },
      },
    )
    clearTimeout(timer)
    assert.equal(run.status, 0, run.stderr)
    const shown = `postgres://${userInfo().username}:***@127.0.0.1${url.port === '' ? '' : `:${url.port}`}/${db.name}`
    assert.ok(
      run.stdout.includes(`\n  store           ${shown} (PostgreSQL, pool of 3)\n`),
      run.stdout,
    )
    assert.doesNotMatch(run.stdout + run.stderr, /top-secret-pw/)
    assert.doesNotMatch(run.stdout, /SQLite file/)
  })
})

describe('one node on the embedded store', () => {
  it('holds every lease from the start, reported by /health and /metrics', async () => {
    const config = loadConfig(
      { OPENCTS_MERKLE_LOG: 'true', OPENCTS_LOG_STREAM_FILE: join(dir, 'stream.jsonl') },
      { dataDir: join(dir, 'single'), port: '0', logLevel: 'silent' },
    )
    const server = await startServer(config)
    try {
      assert.equal(server.dbPath, join(dir, 'single', 'opencts.db'))
      assert.equal(server.storeUrl, `sqlite:${server.dbPath}`)
      const leases = [
        'alarms',
        'checkpointer',
        'delivery',
        'insights',
        'log-streams',
        'retention',
        'setup',
        'transfer',
      ]
      const health = await fetch(`${server.url}/health`)
      assert.equal(health.status, 200)
      const body = (await health.json()) as Record<string, unknown>
      assert.deepEqual(body.leases, leases)
      assert.deepEqual(body.database, {
        engine: 'sqlite',
        location: server.dbPath,
        reachable: true,
      })
      const metrics = await (await fetch(`${server.url}/metrics`)).text()
      for (const lease of leases)
        assert.match(metrics, new RegExp(`^opencts_lease_held\\{lease="${lease}"\\} 1$`, 'm'))
      assert.doesNotMatch(metrics, /^opencts_store_pool_connections\{/m, 'SQLite has no pool')
    } finally {
      await server.close()
    }
    // Closing gave every lease up (the jobs stopped).
    assert.deepEqual(
      server.jobs.leases().filter((l) => l.held),
      [],
    )
    const migrate = await runOpencts(['admin', 'migrate', '--data-dir', join(dir, 'single')])
    assert.equal(migrate.status, 0, migrate.stderr)
    assert.equal(
      migrate.stdout,
      `The SQLite store sqlite:${server.dbPath} is at schema version ${SCHEMA_VERSIONS.sqlite} (current).\n`,
    )
    // verify --store takes the data directory, the file, or a store URL.
    for (const store of [join(dir, 'single'), server.dbPath ?? '', server.storeUrl]) {
      const verify = await runOpencts(['verify', '--store', store])
      assert.equal(verify.status, 0, `${store}: ${verify.stdout} ${verify.stderr}`)
      assert.match(verify.stdout, /^Auditing the SQLite store \S+opencts\.db \(read-only/)
      assert.match(verify.stdout, /Result: valid/)
    }
  })
})

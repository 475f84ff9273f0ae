/**
 * PgCoordination on a real PostgreSQL (a fresh database): the coordination contract, and elections
 * between nodes — one holder at a time; failover when the holder closes, when its session is killed
 * (`pg_terminate_backend`) and when its process is SIGKILLed; commit wake-ups from another node only.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { isOpenCtsError } from '../src/errors/index.js'
import { openStore } from '../src/store/open-store.js'
import { LocalCoordination } from '../src/store/local-coordination.js'
import { connectionConfig } from '../src/store/postgres/pg-pool.js'
import { COMMIT_CHANNEL } from '../src/store/postgres/pg-database.js'
import { PgCoordination } from '../src/store/postgres/pg-coordination.js'
import { coordinationContract, LeaseProbe, waitUntil } from './contract/coordination.js'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { TcpProxy } from './helpers/tcp-proxy.js'

const POLL_MS = 250
const FAILOVER_MS = 3000

let database: TestDatabase
const opened: PgCoordination[] = []

async function node(name: string, pollMs = POLL_MS): Promise<PgCoordination> {
  const c = await PgCoordination.start({ url: database.url, nodeName: name, pollMs })
  opened.push(c)
  return c
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(connectionConfig(database.url, 'opencts-test-admin'))
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

before(async () => {
  database = await createTestDatabase('coordination')
})

after(async () => {
  for (const c of opened) await c.close()
  await database.drop()
})

coordinationContract('postgres', {
  open: () => node(`contract-${randomUUID().slice(0, 8)}`),
  acquireMs: 2000,
})

describe('PgCoordination between nodes', () => {
  it('gives a lease to exactly one of two nodes; the other takes it when the holder closes', async () => {
    const [a, b] = [await node('a'), await node('b')]
    const [pa, pb] = [new LeaseProbe(), new LeaseProbe()]
    a.hold('transfer', pa)
    b.hold('transfer', pb)
    await waitUntil(() => pa.acquiredCount + pb.acquiredCount > 0, 2000, 'one acquires')
    await sleep(3 * POLL_MS)
    assert.equal(pa.acquiredCount + pb.acquiredCount, 1, 'exactly one holder')
    const [holder, other, holderProbe, otherProbe] = pa.holding ? [a, b, pa, pb] : [b, a, pb, pa]
    assert.deepEqual(holder.held(), ['transfer'])
    assert.deepEqual(other.held(), [])
    assert.deepEqual(other.leases(), [{ name: 'transfer', held: false }])
    await holder.close()
    assert.equal(holderProbe.lostCount, 1)
    const took = await waitUntil(() => otherProbe.holding, FAILOVER_MS, 'the other acquires')
    assert.ok(took < FAILOVER_MS)
    assert.deepEqual(other.held(), ['transfer'])
    await other.close()
  })

  it('moves a lease when the holder’s session is killed: the holder gets lost(), reconnects, does not take it back', async () => {
    const [a, b] = [await node('ka'), await node('kb')]
    const [pa, pb] = [new LeaseProbe(), new LeaseProbe()]
    a.hold('deliveries', pa)
    await waitUntil(() => pa.holding, 2000, 'a acquires')
    b.hold('deliveries', pb)
    await sleep(2 * POLL_MS)
    assert.equal(pb.acquiredCount, 0, 'b waits while a holds')
    let remoteCalls = 0
    a.onRemoteCommit(() => remoteCalls++)
    const pid = a.backendPid
    assert.ok(pid !== undefined && a.connected)
    const changes = a.leaseChanges
    const killed = await admin(async (client) => {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_terminate_backend($1) AS ok',
        [pid],
      )
      return rows[0]?.ok
    })
    assert.equal(killed, true)
    await waitUntil(() => pa.lostCount === 1, 2000, 'a gets lost()')
    await waitUntil(() => pb.holding, FAILOVER_MS, 'b takes over')
    await waitUntil(() => a.connected && a.reconnects === 1, 5000, 'a reconnects')
    assert.notEqual(a.backendPid, pid, 'a new session')
    await waitUntil(() => remoteCalls === 1, 1000, 'listeners called once after the reconnect')
    await sleep(4 * POLL_MS)
    assert.deepEqual([pa.acquiredCount, pa.lostCount, pb.acquiredCount], [1, 1, 1])
    assert.deepEqual(a.held(), [])
    assert.deepEqual(b.held(), ['deliveries'])
    assert.equal(a.leaseChanges, changes + 1)
    await a.close()
    await b.close()
  })

  it('keeps a lease until the holder’s lost() has returned at close, however long it takes', async () => {
    // a's session would be ended by the server after 1 s idle: close keeps it alive meanwhile.
    const a = await PgCoordination.start({
      url: database.url,
      nodeName: 'slow',
      pollMs: POLL_MS,
      sessionTimeoutMs: 1000,
    })
    opened.push(a)
    const b = await node('waiting')
    const events: string[] = []
    a.hold('insights', {
      acquired: () => events.push('a acquired'),
      lost: async () => {
        events.push('a stopping')
        await sleep(2500)
        events.push('a stopped')
      },
    })
    await waitUntil(() => events.includes('a acquired'), 2000, 'a acquires')
    b.hold('insights', { acquired: () => events.push('b acquired'), lost: () => undefined })
    await sleep(2 * POLL_MS)
    await a.close()
    await waitUntil(() => events.includes('b acquired'), FAILOVER_MS, 'b takes over')
    assert.deepEqual(events, ['a acquired', 'a stopping', 'a stopped', 'b acquired'])
    await b.close()
  })

  it('calls remote-commit listeners for other nodes’ commits only, coalescing bursts', async () => {
    const [a, b] = [await node('na'), await node('nb')]
    let [callsA, callsB] = [0, 0]
    a.onRemoteCommit(() => callsA++)
    const unsubscribe = b.onRemoteCommit(() => callsB++)
    // What a's trace store does in its append transaction.
    await admin((client) => client.query('SELECT pg_notify($1, $2)', [COMMIT_CHANNEL, 'na']))
    await waitUntil(() => callsB === 1, 2000, 'b hears a')
    await sleep(200)
    assert.equal(callsA, 0, 'a does not hear itself')
    await sleep(50)
    callsB = 0
    await admin((client) =>
      client.query("SELECT pg_notify($1, 'other-' || i) FROM generate_series(1, 50) AS i", [
        COMMIT_CHANNEL,
      ]),
    )
    await waitUntil(() => callsB >= 1, 2000, 'b hears the burst')
    await sleep(200)
    assert.ok(callsB <= 3, `50 commits in a burst: ${callsB} calls`)
    assert.ok(callsA >= 1, 'a hears the other nodes')
    unsubscribe()
    callsB = 0
    await admin((client) => client.query('SELECT pg_notify($1, $2)', [COMMIT_CHANNEL, 'na']))
    await sleep(300)
    assert.equal(callsB, 0, 'unsubscribed')
    await a.close()
    await b.close()
  })

  it('takes a lease from a SIGKILLed holder process within 3 s (default poll)', async (t) => {
    const script = fileURLToPath(new URL('./helpers/coordination-node.js', import.meta.url))
    const child = spawn(process.execPath, [script, database.url, 'child', 'checkpoints'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(child, 'exit', { signal: AbortSignal.timeout(30_000) })
    try {
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      await waitUntil(() => output.includes('held\n'), 10_000, 'the child holds the lease')
      const parent = await node('parent', 1000)
      const probe = new LeaseProbe()
      parent.hold('checkpoints', probe)
      await sleep(1500)
      assert.equal(probe.acquiredCount, 0, 'held by the child')
      child.kill('SIGKILL')
      const [, signal] = (await exited) as [number | null, string | null]
      assert.equal(signal, 'SIGKILL')
      const took = await waitUntil(() => probe.holding, FAILOVER_MS, 'the parent acquires')
      assert.ok(took < FAILOVER_MS, `failover in ${took} ms`)
      t.diagnostic(`failover after SIGKILL: ${took} ms`)
      await parent.close()
      assert.equal(probe.lostCount, 1)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })

  it('reconnects after the network fails: leases lost then taken again, LISTEN renewed, listeners called once', async () => {
    const target = new URL(database.url)
    const proxy = new TcpProxy(target.hostname, Number(target.port === '' ? 5432 : target.port))
    await proxy.start()
    try {
      const url = new URL(database.url)
      url.port = String(proxy.port)
      const c = await PgCoordination.start({ url: url.toString(), nodeName: 'px', pollMs: POLL_MS })
      opened.push(c)
      const probe = new LeaseProbe()
      let calls = 0
      c.onRemoteCommit(() => calls++)
      c.hold('retention', probe)
      await waitUntil(() => probe.holding, 2000, 'acquired')
      await proxy.stop()
      await waitUntil(() => probe.lostCount === 1, 2000, 'lost() when the connection fails')
      assert.equal(c.connected, false)
      assert.deepEqual(c.held(), [])
      await sleep(1000) // several refused reconnects
      assert.equal(c.reconnects, 0)
      await proxy.start()
      await waitUntil(() => c.connected, 8000, 'reconnected')
      await waitUntil(() => calls === 1, 1000, 'listeners called once after the reconnect')
      await waitUntil(() => probe.acquiredCount === 2, FAILOVER_MS, 'the lease taken again')
      assert.equal(c.reconnects, 1)
      await admin((client) => client.query('SELECT pg_notify($1, $2)', [COMMIT_CHANNEL, 'other']))
      await waitUntil(() => calls === 2, 2000, 'LISTEN renewed')
      await c.close()
      assert.equal(probe.lostCount, 2)
    } finally {
      await proxy.stop()
    }
  })

  it('refuses to start when the database cannot be reached', async () => {
    await assert.rejects(
      PgCoordination.start({ url: 'postgres://127.0.0.1:1/none', nodeName: 'x' }),
      (error) => {
        assert.ok(isOpenCtsError(error))
        assert.equal(error.code, 'OCTS_ERR_STORE_UNAVAILABLE')
        return true
      },
    )
  })

  it('is the coordination of every store opened on the database; a read-only open is local', async () => {
    const [s1, s2] = [
      await openStore({ url: database.url, poolSize: 2, nodeName: 's1' }),
      await openStore({ url: database.url, poolSize: 2, nodeName: 's2' }),
    ]
    const readonly = await openStore({ url: database.url, poolSize: 1, readonly: true })
    let s1Open = true
    try {
      assert.ok(s1.coordination instanceof PgCoordination)
      assert.ok(readonly.coordination instanceof LocalCoordination)
      const [p1, p2] = [new LeaseProbe(), new LeaseProbe()]
      s1.coordination.hold('log-streams', p1)
      await waitUntil(() => p1.holding, 2000, 's1 acquires')
      s2.coordination.hold('log-streams', p2)
      await sleep(1500)
      assert.equal(p2.acquiredCount, 0, 's2 waits')
      s1Open = false
      await s1.close()
      assert.equal(p1.lostCount, 1, 'the store closes its coordination')
      await waitUntil(() => p2.holding, FAILOVER_MS, 's2 takes over')
    } finally {
      if (s1Open) await s1.close()
      await s2.close()
      await readonly.close()
    }
  })
})

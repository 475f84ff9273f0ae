/**
 * End to end: three `opencts serve` processes on one PostgreSQL database (a fresh one, dropped
 * afterwards), sharing one master key file and one object folder, each with its own data directory
 * and port. They start together on the empty database (one administrator, one signing key, each
 * lease held by one node); a trace acknowledged by one node is visible at once through the others;
 * concurrent ingest into one project from every node stores each acknowledged trace once in one
 * consistent tree (`opencts verify --store postgres://…`); notifications are delivered once each,
 * within a second when the delivering node is not the ingesting one; SIGKILL of the delivery lease
 * holder moves its work to a live node within 5 s and loses no notification; SIGKILL of a node with
 * ingest requests in flight loses no acknowledged trace; a node joining later creates nothing, and a
 * node stopped with SIGTERM gives its leases up at once; transfer writes every trace of the project
 * into exactly one trace file. The tests run in order on the same nodes; every wait is bounded.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import {
  cluster,
  clusterProject,
  getJson,
  health,
  holderOf,
  listedIds,
  postJson,
  runOpencts,
  type Cluster,
  type Node,
} from './helpers/cluster.js'
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { crash, killAllServers } from './helpers/server-process.js'

const BUCKET = 'multi-node-bucket'
const ENV = {
  OPENCTS_TRANSFER_INTERVAL_MS: '1000',
  OPENCTS_CHECKPOINT_INTERVAL_MS: '1000',
  OPENCTS_DELIVERY_BACKOFF_MS: '100',
  OPENCTS_DELIVERY_MAX_BACKOFF_MS: '300',
}
/** The failover time documented for a lease whose holder died (docs/postgres.md). */
const FAILOVER_MS = 5_000
const LEASES = ['alarms', 'checkpointer', 'delivery', 'insights', 'retention', 'setup', 'transfer']

interface Trace {
  readonly trace_id: string
  readonly [key: string]: unknown
}

function traces(count: number, service: string, traceName = 'updateThing'): Trace[] {
  const now = Date.now()
  return Array.from({ length: count }, (_, i) => ({
    trace_id: randomUUID(),
    time: now - 1000 + (i % 500),
    service_type: service,
    resource_type: 'thing',
    resource_id: `r-${i}`,
    trace_name: traceName,
    trace_type: 'ApiCall',
    code: 200,
    request: { i, padding: 'x'.repeat(300) },
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  }))
}

/** POSTs a batch; resolves with the acknowledged ids (201), or rejects. */
async function ingest(node: Node, project: string, batch: readonly Trace[]): Promise<string[]> {
  const { status, body } = await postJson(`${node.url}/v3/${project}/traces`, { traces: batch })
  assert.equal(status, 201, `${node.name}: ${JSON.stringify(body)}`)
  return body.trace_ids as string[]
}

/** Trace files (not digests) under a bucket folder, temporary files skipped. */
function traceFiles(folder: string): string[] {
  if (!existsSync(folder)) return []
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return []
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return entry.name === 'Digest' ? [] : traceFiles(path)
    return path.endsWith('.json.gz') ? [path] : []
  })
}

/** How many trace files hold each trace id. */
function transferred(folder: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const path of traceFiles(folder))
    for (const t of JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Trace[])
      counts.set(t.trace_id, (counts.get(t.trace_id) ?? 0) + 1)
  return counts
}

/** A webhook on loopback counting each trace id it receives, with the time of the first. */
class Webhook {
  readonly counts = new Map<string, number>()
  readonly firstAt = new Map<string, number>()
  readonly #server: Server

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const at = Date.now()
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          trace: { trace_id: string }
        }
        const id = body.trace.trace_id
        this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
        if (!this.firstAt.has(id)) this.firstAt.set(id, at)
        res.writeHead(204).end()
      })
    })
  }

  listen(): Promise<string> {
    return new Promise((resolve) =>
      this.#server.listen(0, '127.0.0.1', () =>
        resolve(`http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`),
      ),
    )
  }

  /** Resolves when every id arrived; fails after `ms`. */
  async received(ids: readonly string[], ms: number): Promise<void> {
    const deadline = Date.now() + ms
    for (let round = 0; ids.some((id) => !this.counts.has(id)); round++) {
      const missing = ids.filter((id) => !this.counts.has(id)).length
      assert.ok(
        Date.now() < deadline && round < 100_000,
        `${missing} of ${ids.length} not received`,
      )
      await sleep(5)
    }
  }

  close(): void {
    this.#server.closeAllConnections()
    this.#server.close()
  }
}

describe('several nodes on one PostgreSQL database', { timeout: 300_000 }, () => {
  let db: TestDatabase
  let root: string
  let shared: Cluster
  let nodes: Node[] = []
  let project = ''
  const hook = new Webhook()
  const started = Date.now()
  /** Every trace id acknowledged with 201, by any node. */
  const acknowledged = new Set<string>()
  /** Every acknowledged id that matches the notification. */
  const notified: string[] = []

  before(async () => {
    db = await createTestDatabase('multinode')
    root = mkdtempSync(join(tmpdir(), 'opencts-multi-node-'))
    shared = cluster(root, db.url, ENV)
  })

  after(async () => {
    killAllServers()
    hook.close()
    await sleep(200) // the killed nodes' sessions end before the drop (which forces them anyway)
    await db.drop()
    rmSync(root, { recursive: true, force: true })
  })

  const alive = (): Node[] =>
    nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null)

  it('three nodes start together on an empty database: one set-up, each lease on one node', async () => {
    nodes = await Promise.all(['a', 'b', 'c'].map((name) => shared.start(name)))
    project = clusterProject(nodes)
    for (const lease of LEASES) await holderOf(nodes, lease)
    const keys = await getJson(`${nodes[1]?.url}/v3/${project}/digest-keys`)
    assert.equal(keys.status, 200)
    assert.equal(keys.body.digest_keys.length, 1, 'one first signing key, not one per node')
    const accounts = await runOpencts(['admin', 'account', 'list', '--json'], {
      OPENCTS_STORE: db.url,
      OPENCTS_MASTER_KEY_FILE: shared.env.OPENCTS_MASTER_KEY_FILE ?? '',
    })
    assert.equal(accounts.status, 0, accounts.stderr)
    assert.equal((JSON.parse(accounts.stdout) as unknown[]).length, 1, 'one account')

    // Transfer to the shared object folder, and a notification to the webhook, set on two nodes.
    const [a, b] = nodes as [Node, Node]
    const tracker = await postJson(
      `${a.url}/v3/${project}/tracker`,
      {
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: BUCKET, is_obs_created: true },
      },
      'PUT',
    )
    assert.equal(tracker.status, 200, JSON.stringify(tracker.body))
    const topic = await postJson(`${b.url}/v3/${project}/topics`, { name: 'deletes' })
    assert.ok(topic.status < 300, JSON.stringify(topic.body))
    const subscription = await postJson(`${b.url}/v3/${project}/topics/deletes/subscriptions`, {
      protocol: 'http',
      endpoint: await hook.listen(),
    })
    assert.ok(subscription.status < 300, JSON.stringify(subscription.body))
    const notification = await postJson(`${a.url}/v3/${project}/notifications`, {
      notification_name: 'deletes',
      operation_type: 'customized',
      operations: [{ service_type: 'IMS', resource_type: 'thing', trace_names: ['deleteThing'] }],
      topic_id: topic.body.topic_urn,
    })
    assert.ok(notification.status < 300, JSON.stringify(notification.body))
  })

  it('read-your-write: a trace acknowledged by one node is at once visible on the others', async () => {
    for (let round = 0; round < 6; round++) {
      const writer = nodes[round % 3] as Node
      const [trace] = traces(1, 'EVS')
      const [id] = await ingest(writer, project, [trace as Trace])
      assert.equal(id, trace?.trace_id)
      acknowledged.add(id ?? '')
      for (const reader of nodes.filter((n) => n !== writer)) {
        const { status, body } = await getJson(`${reader.url}/v3/${project}/traces?trace_id=${id}`)
        assert.equal(status, 200)
        assert.equal(body.traces.length, 1, `${reader.name} sees the trace ${writer.name} stored`)
      }
    }
  })

  it('concurrent ingest into one project from every node: each trace once, one consistent tree', async () => {
    const from = started - 60_000
    const ids = await Promise.all(
      nodes.map(async (node) => {
        const mine: string[] = []
        for (let batch = 0; batch < 20; batch++)
          mine.push(...(await ingest(node, project, traces(50, 'ECS'))))
        return mine
      }),
    )
    const sent = ids.flat()
    for (const id of sent) acknowledged.add(id)
    assert.equal(new Set(sent).size, 3 * 20 * 50)
    const listed = await listedIds(nodes[2] as Node, project, from, '&service_type=ECS')
    assert.equal(listed.length, sent.length, 'each acknowledged trace is stored once')
    assert.deepEqual(new Set(listed), new Set(sent))

    // The project's log: one tree of every trace of the project, signed, verified from the rows.
    const all = await listedIds(nodes[0] as Node, project, from)
    const deadline = Date.now() + 20_000
    for (let round = 0; ; round++) {
      const { status, body } = await getJson(`${nodes[1]?.url}/v3/${project}/log/checkpoint`)
      if (status === 200 && body.checkpoint.tree_size === all.length) break
      assert.ok(
        Date.now() < deadline && round < 10_000,
        `checkpoint of ${all.length} leaves: ${status} ${JSON.stringify(body)}`,
      )
      await sleep(100)
    }
    const verify = await runOpencts(['verify', '--store', db.url, '--json'])
    assert.equal(verify.status, 0, `${verify.stdout.slice(0, 4000)} ${verify.stderr}`)
    const report = JSON.parse(verify.stdout) as {
      ok: boolean
      projects: { projectId: string; treeSize: number; findings: number }[]
    }
    assert.equal(report.ok, true)
    const mine = report.projects.find((p) => p.projectId === project)
    assert.ok(mine !== undefined && mine.treeSize >= all.length && mine.findings === 0)
  })

  it('delivers each notification once, within 1 s when another node ingested it', async (t) => {
    const deliverer = await holderOf(nodes, 'delivery')
    const ingester = nodes.find((n) => n !== deliverer) as Node
    const latencies: number[] = []
    for (let round = 0; round < 5; round++) {
      const batch = traces(1, 'IMS', 'deleteThing')
      const sentAt = Date.now()
      const ids = await ingest(ingester, project, batch)
      notified.push(...ids)
      await hook.received(ids, 10_000)
      latencies.push((hook.firstAt.get(ids[0] ?? '') ?? Infinity) - sentAt)
    }
    t.diagnostic(`ingest to webhook: ${latencies.join(', ')} ms`)
    assert.ok(
      Math.max(...latencies) < 1000,
      `ingest on ${ingester.name}, delivery by ${deliverer.name}: ${latencies.join(', ')} ms`,
    )
    // A burst from every node at once: each delivered exactly once.
    const burst = (
      await Promise.all(nodes.map((n) => ingest(n, project, traces(20, 'IMS', 'deleteThing'))))
    ).flat()
    notified.push(...burst)
    await hook.received(burst, 15_000)
    await sleep(1500) // a duplicate would come within the retry back-off
    for (const id of notified) acknowledged.add(id)
    assert.deepEqual(
      notified.filter((id) => hook.counts.get(id) !== 1),
      [],
      'every notification delivered exactly once',
    )
  })

  it(`SIGKILL of the delivery lease holder: another node takes over within ${FAILOVER_MS / 1000} s, nothing lost`, async (t) => {
    const holder = await holderOf(nodes, 'delivery')
    const survivors = nodes.filter((n) => n !== holder)
    const survivor = survivors[0] as Node
    // Matching traces committed right before the kill: their deliveries may be pending.
    const pending = await ingest(survivor, project, traces(30, 'IMS', 'deleteThing'))
    await crash(holder)
    const killedAt = Date.now()
    const next = await holderOf(survivors, 'delivery', FAILOVER_MS + 5_000)
    const tookOver = Date.now() - killedAt
    t.diagnostic(`delivery lease taken over ${tookOver} ms after the SIGKILL`)
    assert.ok(tookOver <= FAILOVER_MS, `delivery taken over by ${next.name} after ${tookOver} ms`)
    for (const lease of LEASES) await holderOf(survivors, lease, FAILOVER_MS + 5_000)
    const later = await ingest(survivor, project, traces(10, 'IMS', 'deleteThing'))
    notified.push(...pending, ...later)
    for (const id of [...pending, ...later]) acknowledged.add(id)
    await hook.received([...pending, ...later], 15_000)
  })

  it('SIGKILL of a node with ingest requests in flight loses no acknowledged trace', async () => {
    const [victim, survivor] = alive() as [Node, Node]
    const inFlight = Array.from({ length: 10 }, () => traces(300, 'KILL'))
    let killing: Promise<void> | undefined
    const outcomes = await Promise.allSettled(
      inFlight.map(async (batch) => {
        const ids = await ingest(victim, project, batch)
        // The first acknowledgement: the other requests are still in flight.
        killing ??= crash(victim)
        return ids
      }),
    )
    await killing
    const done = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
    assert.ok(done.length >= 1, 'a batch was acknowledged before the kill')
    assert.ok(done.length < inFlight.length, 'requests were in flight when the node was killed')
    const kept = new Set(await listedIds(survivor, project, started - 60_000, '&service_type=KILL'))
    const lost = done.flat().filter((id) => !kept.has(id))
    assert.deepEqual(lost, [], 'every trace acknowledged with 201 is stored')
    for (const id of done.flat()) acknowledged.add(id)
    // Batches are all or nothing: what is stored of a batch is the whole batch.
    for (const batch of inFlight) {
      const stored = batch.filter((t) => kept.has(t.trace_id)).length
      assert.ok(stored === 0 || stored === batch.length, `${stored} of ${batch.length} stored`)
    }
  })

  it('a node joins a running deployment; a stopped node gives its leases up at once', async (t) => {
    const [holder] = alive() as [Node]
    // The last node takes every lease (those of the node killed just before within the failover).
    for (const lease of LEASES) await holderOf([holder], lease, FAILOVER_MS + 5_000)
    const joined = await shared.start('d')
    nodes.push(joined)
    assert.ok(!existsSync(join(joined.dataDir, 'credentials')), 'a later node creates nothing')
    assert.deepEqual((await health(joined)).leases, [], 'the leases stay with their holder')
    const exited = new Promise<number | null>((resolve) => holder.child.on('exit', resolve))
    const stoppedAt = Date.now()
    holder.child.kill('SIGTERM')
    assert.equal(await exited, 0, 'a graceful stop')
    for (const lease of LEASES) await holderOf([joined], lease, FAILOVER_MS)
    t.diagnostic(`every lease on the joined node ${Date.now() - stoppedAt} ms after SIGTERM`)
    const ids = await ingest(joined, project, traces(5, 'IMS', 'deleteThing'))
    notified.push(...ids)
    for (const id of ids) acknowledged.add(id)
    await hook.received(ids, 10_000)
  })

  it('transfer writes every trace of the project into exactly one file, across the failovers', async () => {
    const [survivor] = alive() as [Node]
    const all = await listedIds(survivor, project, started - 60_000)
    const stored = new Set(all)
    assert.deepEqual(
      [...acknowledged].filter((id) => !stored.has(id)),
      [],
      'every acknowledged trace is stored',
    )
    const folder = join(shared.objectsDir, BUCKET)
    const deadline = Date.now() + 60_000
    let counts = transferred(folder)
    for (let round = 0; all.some((id) => !counts.has(id)); round++) {
      const missing = all.filter((id) => !counts.has(id)).length
      assert.ok(
        Date.now() < deadline && round < 10_000,
        `${missing} of ${all.length} not transferred`,
      )
      await sleep(250)
      counts = transferred(folder)
    }
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no trace is in two files',
    )
    // The tree is still consistent after the kills.
    const verify = await runOpencts(['verify', '--store', db.url, '--json'])
    assert.equal(verify.status, 0, `${verify.stdout.slice(0, 4000)} ${verify.stderr}`)
  })
})

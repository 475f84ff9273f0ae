/**
 * End to end: transfer survives SIGKILL. A real `opencts serve` (1 s transfer cycles, 2 s digest
 * periods) delivers to a bucket in its local object folder while traces keep arriving; the test
 * kills it with SIGKILL the moment a new trace file appears (so a batch is in flight: several files
 * per batch, one per service), restarts it, and repeats. At the end every acknowledged trace is in
 * exactly one delivered file, and `opencts verify` passes over the whole run.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import Database from 'better-sqlite3'
import {
  MAIN,
  adminProject,
  crash,
  killAllServers,
  serve,
  signedFetch,
  type ServerProcess,
} from './helpers/server-process.js'

const BUCKET = 'crash-bucket'
const SERVICES = ['IMS', 'ECS', 'EVS', 'VPC', 'OBS', 'RDS']
const ENV = { OPENCTS_TRANSFER_INTERVAL_MS: '1000', OPENCTS_DIGEST_PERIOD_SECONDS: '2' }

const dir = mkdtempSync(join(tmpdir(), 'opencts-transfer-crash-'))
after(() => {
  killAllServers()
  rmSync(dir, { recursive: true, force: true })
})

/** Files below `folder`, skipping the server's temporary files (which come and go meanwhile). */
function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return []
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.name.startsWith('.')) return []
    return entry.isDirectory() ? filesUnder(path) : [path]
  })
}

function traceFiles(bucketDir: string): string[] {
  return filesUnder(bucketDir).filter((p) => p.endsWith('.json.gz') && !p.includes('/Digest/'))
}

async function ingest(server: ServerProcess, project: string, count: number): Promise<string[]> {
  const now = Date.now()
  const traces = Array.from({ length: count }, (_, i) => ({
    trace_id: randomUUID(),
    time: now - 500 + (i % 400),
    service_type: SERVICES[i % SERVICES.length],
    resource_type: 'thing',
    resource_id: `r-${i}`,
    trace_name: 'updateThing',
    trace_type: 'ApiCall',
    code: 200,
    request: { padding: 'x'.repeat(1500), i },
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  }))
  const response = await signedFetch(`${server.url}/v3/${project}/traces`, {
    method: 'POST',
    body: JSON.stringify({ traces }),
  })
  assert.equal(response.status, 201, await response.clone().text())
  return traces.map((t) => t.trace_id)
}

/** Resolves when a trace file not in `known` appears (polled every 2 ms), or after `ms`. */
async function newFile(
  bucketDir: string,
  known: ReadonlySet<string>,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (traceFiles(bucketDir).some((p) => !known.has(p))) return true
    await sleep(2)
  }
  return false
}

function pendingBatch(dbPath: string): boolean {
  const db = new Database(dbPath, { readonly: true })
  try {
    const rows = db.prepare('SELECT pending FROM transfer_state WHERE pending IS NOT NULL').all()
    return rows.length > 0
  } finally {
    db.close()
  }
}

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '' },
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`opencts ${args[0] ?? ''} did not finish: ${stdout} ${stderr}`))
    }, 60_000)
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

it(
  'SIGKILL during transfer: every trace lands in exactly one file and verify passes',
  { timeout: 180_000 },
  async () => {
    const dataDir = join(dir, 'data')
    const bucketDir = join(dataDir, 'objects', BUCKET)
    const started = Date.now()
    let server = await serve(dataDir, ENV)
    const project = adminProject(dataDir)
    const configured = await signedFetch(`${server.url}/v3/${project}/tracker`, {
      method: 'PUT',
      body: JSON.stringify({
        tracker_type: 'system',
        tracker_name: 'system',
        obs_info: { bucket_name: BUCKET, is_obs_created: true },
        is_support_validate: true,
      }),
    })
    assert.equal(configured.status, 200, await configured.clone().text())

    const acknowledged: string[] = []
    let killedMidBatch = 0
    for (let round = 0; round < 8 && (round < 3 || killedMidBatch === 0); round++) {
      const known = new Set(traceFiles(bucketDir))
      for (let i = 0; i < 3; i++) acknowledged.push(...(await ingest(server, project, 1000)))
      assert.ok(await newFile(bucketDir, known, 10_000), 'transfer delivers within 10 s')
      await crash(server)
      if (pendingBatch(join(dataDir, 'opencts.db'))) killedMidBatch++
      server = await serve(dataDir, ENV)
    }
    assert.ok(killedMidBatch > 0, 'at least one SIGKILL hit a batch in flight')
    acknowledged.push(...(await ingest(server, project, 500)))

    // Caught up: every acknowledged trace delivered, and a digest covers the last file.
    const wanted = new Set(acknowledged)
    const delivered = new Map<string, number>()
    const deadline = Date.now() + 30_000
    for (;;) {
      delivered.clear()
      for (const path of traceFiles(bucketDir)) {
        const traces = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as {
          trace_id: string
        }[]
        for (const t of traces) delivered.set(t.trace_id, (delivered.get(t.trace_id) ?? 0) + 1)
      }
      if ([...wanted].every((id) => delivered.has(id))) break
      assert.ok(
        Date.now() < deadline,
        `delivered ${delivered.size} of ${wanted.size} traces in time`,
      )
      await sleep(250)
    }
    const twice = [...delivered].filter(([, n]) => n > 1)
    assert.deepEqual(twice, [], 'no trace is in two files')
    await sleep(5_000) // two digest periods: the newest files are in a digest now

    const keys = await signedFetch(`${server.url}/v3/${project}/digest-keys`)
    assert.equal(keys.status, 200)
    const keysFile = join(dir, 'digest-keys.json')
    writeFileSync(keysFile, await keys.text())
    await crash(server)
    const verify = await run([
      'verify',
      '--bucket',
      BUCKET,
      '--dir',
      join(dataDir, 'objects'),
      '--region',
      'local-1',
      '--from',
      new Date(started - 60_000).toISOString(),
      '--to',
      new Date().toISOString(),
      '--grace',
      '3s',
      '--public-keys',
      keysFile,
      '--json',
    ])
    const report = JSON.parse(verify.stdout) as { summary: unknown }
    assert.equal(
      verify.status,
      0,
      `verify found problems: ${verify.stdout.slice(0, 4000)} ${verify.stderr}`,
    )
    assert.ok(report.summary)
  },
)

/**
 * @module bench/overload-bench
 * `npm run bench:overload`: the overload scenario of docs/api.md "Limits". A server process on
 * loopback; BENCH_OVERLOAD_CLIENTS (64) clients post BENCH_OVERLOAD_BATCH_MB (12) MB batches of
 * 1,000 traces back to back for BENCH_OVERLOAD_SECONDS (30), honouring Retry-After on a 503 (and,
 * like curl, stopping an upload answered early with an error), while
 * one prober asks `GET /health` and `GET /v3/{project}/traces?limit=10` in turn every 100 ms.
 * Prints the answers by status, the server's peak RSS (VmHWM of /proc/<pid>/status) and the
 * health/list latency percentiles. `OPENCTS_*` settings of the environment (e.g.
 * OPENCTS_MAX_INFLIGHT_BODY_BYTES) and NODE_OPTIONS are passed to the server. Linux only (reads /proc).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { latency } from './percentiles.js'
import { BENCH_ADMIN, startServerProcess, type ServerProcess } from './server-process.js'

function setting(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${text}`)
  return value
}

const clients = setting('BENCH_OVERLOAD_CLIENTS', 64, 1, 1024)
const seconds = setting('BENCH_OVERLOAD_SECONDS', 30, 1, 3600)
const batchMb = setting('BENCH_OVERLOAD_BATCH_MB', 12, 1, 12)

/** One batch of 1,000 traces of about `mb` MB (no trace_id: each post stores new traces). */
function batchBody(mb: number): Buffer {
  const now = Date.now()
  const padding = 'x'.repeat(Math.floor((mb * 1024 * 1024 * 0.98) / 1000) - 400)
  const traces = Array.from({ length: 1000 }, (_, i) => ({
    time: now,
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: `img-${i}`,
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 201,
    request: { padding },
  }))
  return Buffer.from(JSON.stringify({ traces }))
}

interface Answer {
  readonly status: number
  readonly retryAfter: number
}

function post(url: URL, token: string, body: Buffer, agent: Agent): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      agent,
      timeout: 300_000,
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'x-auth-token': token,
      },
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve({ status: 0, retryAfter: 1 }))
    req.on('response', (res) => {
      // Like curl: an error answered before the upload ends stops the upload.
      if (!req.writableFinished && (res.statusCode ?? 0) >= 400) {
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: Number(res.headers['retry-after'] ?? 1),
        })
        req.destroy()
        return
      }
      res.resume()
      res.on('error', () => resolve({ status: 0, retryAfter: 1 }))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: Number(res.headers['retry-after'] ?? 1),
        }),
      )
    })
    req.end(body)
  })
}

function vmKb(pid: number, field: string): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  } catch {
    return Number.NaN
  }
}

async function timed(url: string, token: string): Promise<number> {
  const started = performance.now()
  try {
    const response = await fetch(url, {
      headers: { 'x-auth-token': token },
      signal: AbortSignal.timeout(120_000),
    })
    await response.arrayBuffer()
  } catch {
    return 120_000
  }
  return performance.now() - started
}

async function main(server: ServerProcess): Promise<string> {
  const pid = server.child.pid ?? 0
  let exited = ''
  server.child.once(
    'exit',
    (code, signal) => (exited = `code ${code ?? '-'}, signal ${signal ?? '-'}`),
  )
  const body = batchBody(batchMb)
  const url = new URL(`${server.url}/v3/${BENCH_ADMIN.projectId}/traces`)
  const deadline = performance.now() + seconds * 1000
  const statuses = new Map<number, number>()
  let rssSamplePeakKb = 0
  const sampler = setInterval(() => {
    rssSamplePeakKb = Math.max(rssSamplePeakKb, vmKb(pid, 'VmRSS') || 0)
  }, 250)
  const health: number[] = []
  const list: number[] = []
  const prober = (async () => {
    for (let i = 0; performance.now() < deadline; i++) {
      if (i % 2 === 0) health.push(await timed(`${server.url}/health`, server.token))
      else list.push(await timed(`${url.href}?limit=10`, server.token))
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })()
  const client = async (): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    while (performance.now() < deadline) {
      const answer = await post(url, server.token, body, agent)
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      if (answer.status === 503 || answer.status === 0)
        await new Promise((resolve) =>
          setTimeout(resolve, answer.retryAfter * 1000 * (0.5 + Math.random())),
        )
    }
    agent.destroy()
  }
  const started = performance.now()
  await Promise.all([prober, ...Array.from({ length: clients }, () => client())])
  const elapsed = (performance.now() - started) / 1000
  clearInterval(sampler)
  const h = latency(health)
  const l = latency(list)
  const by = [...statuses.entries()].sort(([a], [b]) => a - b)
  const settings = Object.entries(process.env)
    .filter(([name]) => name.startsWith('BENCH_OVERLOAD_') || name.startsWith('OPENCTS_'))
    .map(([name, value]) => `${name}=${value ?? ''} `)
    .join('')
  return [
    `overload: ${settings}${clients} clients x ${(body.length / 1048576).toFixed(1)} MB batches, ${elapsed.toFixed(1)} s`,
    ...(exited === '' ? [] : [`THE SERVER EXITED during the run (${exited})`]),
    `answers: ${by.map(([status, count]) => `${status === 0 ? 'error' : status} x${count}`).join(', ')}`,
    `server RSS peak: ${(vmKb(pid, 'VmHWM') / 1024).toFixed(0)} MB (VmHWM; sampled VmRSS max ${(rssSamplePeakKb / 1024).toFixed(0)} MB)`,
    `GET /health: ${health.length} probes, p50 ${h.p50.toFixed(0)} ms, p99 ${h.p99.toFixed(0)} ms, max ${Math.max(...health).toFixed(0)} ms`,
    `GET traces?limit=10: ${list.length} probes, p50 ${l.p50.toFixed(0)} ms, p99 ${l.p99.toFixed(0)} ms, max ${Math.max(...list).toFixed(0)} ms`,
    '',
  ].join('\n')
}

const dir = mkdtempSync(join(tmpdir(), 'opencts-overload-'))
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    (entry): entry is [string, string] =>
      (entry[0].startsWith('OPENCTS_') || entry[0] === 'NODE_OPTIONS') && entry[1] !== undefined,
  ),
)
let server: ServerProcess | undefined
try {
  server = await startServerProcess(dir, 60_000, env)
  process.stdout.write(await main(server))
} catch (error) {
  process.stderr.write(`overload bench failed: ${String(error)}\n`)
  process.exitCode = 1
} finally {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
}

/**
 * End to end: an acknowledged batch survives a crash. Runs `opencts serve` as a child process,
 * posts a batch, SIGKILLs the server the moment the 201 arrives, restarts it on the same data
 * directory and finds every trace id of the batch again, three rounds in a row.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseCredentialsFile, signRequest } from '../src/auth/index.js'

/** The compiled CLI, beside this compiled test in whatever build folder it is in. */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
/** The administrator the first start creates; requests are signed with its AK/SK. */
const ADMIN_ENV = {
  OPENCTS_ADMIN_ACCESS_KEY: 'CRASHTESTACCESSKEY01',
  OPENCTS_ADMIN_SECRET_KEY: 'crash-test-secret-key-0123456789',
}

/** Fetch signed with the administrator's AK/SK (SDK-HMAC-SHA256). */
function signedFetch(
  url: string,
  init: { method?: string; body?: string } = {},
): Promise<Response> {
  const method = init.method ?? 'GET'
  const headers: Record<string, string> =
    init.body === undefined ? {} : { 'content-type': 'application/json' }
  const signature = signRequest({
    method,
    url: new URL(url),
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
    accessKeyId: ADMIN_ENV.OPENCTS_ADMIN_ACCESS_KEY,
    secretKey: ADMIN_ENV.OPENCTS_ADMIN_SECRET_KEY,
    now: Date.now(),
  })
  return fetch(url, {
    method,
    headers: { ...headers, ...signature },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: AbortSignal.timeout(WAIT_MS),
  })
}

/** The project the first start created, from the credentials file it wrote. */
function adminProject(dataDir: string): string {
  const profile = parseCredentialsFile(readFileSync(join(dataDir, 'credentials'), 'utf8')).get(
    'default',
  )
  const id = profile?.project_id
  assert.ok(id !== undefined, 'the first start wrote the credentials file')
  return id
}
const WAIT_MS = 15_000

interface Server {
  readonly child: ChildProcessWithoutNullStreams
  readonly url: string
}

const children = new Set<ChildProcessWithoutNullStreams>()

/** Starts `opencts serve --port 0` and resolves with the URL it prints; fails after 15 s. */
function serve(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
    { env: { PATH: process.env.PATH ?? '', ...ADMIN_ENV } },
  )
  children.add(child)
  child.on('exit', () => children.delete(child))
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no URL within ${WAIT_MS} ms: ${out} ${err}`))
    }, WAIT_MS)
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ child, url: match[1] })
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code ?? signal}) before listening: ${out} ${err}`))
    })
  })
}

/** SIGKILLs the server and waits (bounded) until it is gone. */
async function crash(server: Server): Promise<void> {
  const gone = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not die')), WAIT_MS)
    server.child.on('exit', (_code, signal) => {
      clearTimeout(timer)
      resolve(signal)
    })
  })
  assert.ok(server.child.kill('SIGKILL'))
  assert.equal(await gone, 'SIGKILL')
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await signedFetch(url)
  return { status: response.status, body: await response.json() }
}

function batch(round: number, size: number): Record<string, unknown>[] {
  const now = Date.now()
  return Array.from({ length: size }, (_, i) => ({
    trace_id: randomUUID(),
    time: now - 1000 + (i % 500),
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: `img-${round}-${i}`,
    resource_name: `image ${i}`,
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 200,
    request: { name: `image ${i}`, padding: 'x'.repeat(200) },
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  }))
}

const dir = mkdtempSync(join(tmpdir(), 'opencts-crash-'))

after(() => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

it(
  'every trace acknowledged with 201 is there after a SIGKILL and a restart',
  { timeout: 120_000 },
  async () => {
    const dataDir = join(dir, 'data')
    const acknowledged: string[] = []
    for (let round = 0; round < 3; round++) {
      const server = await serve(dataDir)
      const traces = batch(round, 1000)
      const response = await signedFetch(`${server.url}/v3/${adminProject(dataDir)}/traces`, {
        method: 'POST',
        body: JSON.stringify({ traces }),
      })
      assert.equal(response.status, 201)
      const { trace_ids: ids } = (await response.json()) as { trace_ids: string[] }
      await crash(server)
      assert.deepEqual(
        ids,
        traces.map((t) => t.trace_id),
      )
      acknowledged.push(...ids)
    }

    const server = await serve(dataDir)
    try {
      const base = `${server.url}/v3/${adminProject(dataDir)}/traces`
      // Every id, one by one.
      for (const id of acknowledged) {
        const { status, body } = await getJson(`${base}?trace_id=${id}`)
        assert.equal(status, 200)
        assert.equal(body.traces.length, 1, `trace ${id} is missing after the crash`)
      }
      // And all of them by paging (the pages see exactly the acknowledged IMS traces).
      const paged = new Set<string>()
      let next: string | null = null
      const from = Date.now() - 600_000
      for (let page = 0; page < 100; page++) {
        const query: string = `service_type=IMS&limit=200&from=${from}${next === null ? '' : `&next=${next}`}`
        const { body } = await getJson(`${base}?${query}`)
        for (const t of body.traces as { trace_id: string }[]) paged.add(t.trace_id)
        next = body.meta_data.marker as string | null
        if (next === null) break
      }
      assert.equal(paged.size, acknowledged.length)
      for (const id of acknowledged) assert.ok(paged.has(id), id)
    } finally {
      await crash(server)
    }
  },
)

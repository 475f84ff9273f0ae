/**
 * End to end over real sockets: the HTTP transport of `opencts serve` (a child process, so that
 * "the process never exits" is observable). No request ends the process (a signed request with a
 * broken chunk), every parser failure gets a CTS body with its status, clients sending more than
 * 12 MB receive the 413 (node:http, fetch) on a connection that stays usable, slow headers and
 * bodies get 408, and beyond the in-flight body bound ingest answers 503 OCTS.0504 with
 * Retry-After while every acknowledged trace stays queryable and the server's RSS stays bounded.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { signRequest } from '../src/auth/index.js'
import {
  ADMIN_ENV,
  adminProject,
  killAllServers,
  serve,
  signedFetch,
  type ServerProcess,
} from './helpers/server-process.js'

const dirs: string[] = []
after(() => {
  killAllServers()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function start(env: Record<string, string> = {}): Promise<ServerProcess & { p: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-transport-'))
  dirs.push(dir)
  const server = await serve(dir, env)
  return { ...server, p: adminProject(dir) }
}

interface RawAnswer {
  readonly status: number
  readonly headers: string
  readonly body: string
}

/** Writes `data` on a fresh socket (then more by `drip`), resolves with all received until close. */
function exchange(
  url: string,
  data: string | Buffer,
  drip?: { readonly text: string; readonly everyMs: number },
): Promise<RawAnswer> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    const chunks: Buffer[] = []
    let timer: NodeJS.Timeout | undefined
    const guard = setTimeout(() => {
      socket.destroy()
      reject(new Error('no answer within 10 s'))
    }, 10_000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(guard)
      clearInterval(timer)
      const text = Buffer.concat(chunks).toString('utf8')
      const split = text.indexOf('\r\n\r\n')
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        headers: split < 0 ? text : text.slice(0, split),
        body: split < 0 ? '' : text.slice(split + 4),
      })
    })
    socket.write(data)
    if (drip !== undefined) {
      let i = 0
      timer = setInterval(() => {
        if (i < drip.text.length && socket.writable) socket.write(drip.text[i++] ?? '')
      }, drip.everyMs)
    }
  })
}

function ctsBody(answer: RawAnswer | string): { error_code: string; error_msg: string } {
  const body: unknown = JSON.parse(typeof answer === 'string' ? answer : answer.body)
  assert.ok(typeof body === 'object' && body !== null)
  assert.deepEqual(Object.keys(body).sort(), ['error_code', 'error_msg'], JSON.stringify(body))
  return body as { error_code: string; error_msg: string }
}

function sdkDate(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
}

/** Signed headers for a body not covered by the signature (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD). */
function unsignedPayloadHeaders(method: string, url: string): Record<string, string> {
  const headers = { 'content-type': 'application/json' }
  return {
    ...headers,
    ...signRequest({
      method,
      url: new URL(url),
      headers,
      accessKeyId: ADMIN_ENV.OPENCTS_ADMIN_ACCESS_KEY,
      secretKey: ADMIN_ENV.OPENCTS_ADMIN_SECRET_KEY,
      now: Date.now(),
      unsignedPayload: true,
    }),
  }
}

async function assertAlive(server: ServerProcess & { p: string }): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal(server.child.exitCode, null, 'the server process is still running')
  assert.equal(server.child.signalCode, null)
  const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) })
  assert.equal(health.status, 200)
  const list = await signedFetch(`${server.url}/v3/${server.p}/traces?limit=1`)
  assert.equal(list.status, 200)
}

describe('no request ends the process', () => {
  let server: ServerProcess & { p: string }
  before(async () => {
    server = await start()
  })

  for (const [method, path] of [
    ['GET', 'traces'],
    ['DELETE', 'trackers?tracker_name=x'],
    ['POST', 'traces'],
  ] as const) {
    it(`a ${method} signed with any secret and a broken chunk gets a CTS 400, and the process stays up`, async () => {
      const { host } = new URL(server.url)
      const answer = await exchange(
        server.url,
        `${method} /v3/${server.p}/${path} HTTP/1.1\r\nHost: ${host}\r\n` +
          `X-Sdk-Date: ${sdkDate()}\r\n` +
          `Authorization: SDK-HMAC-SHA256 Access=${ADMIN_ENV.OPENCTS_ADMIN_ACCESS_KEY}, ` +
          `SignedHeaders=host;x-sdk-date, Signature=${'0'.repeat(64)}\r\n` +
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      )
      assert.equal(answer.status, 400)
      assert.equal(ctsBody(answer).error_code, 'OCTS.0105')
      await assertAlive(server)
    })
  }
})

describe('CTS answers of a default server to malformed and oversized requests', () => {
  let server: ServerProcess & { p: string }
  before(async () => {
    server = await start()
  })

  const refused: readonly [string, string | Buffer, number, string][] = [
    [
      'headers over 16 KB',
      `GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'OCTS.0103',
    ],
    [
      'a bad chunk (unauthenticated)',
      'POST /v3/auth/tokens HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      400,
      'OCTS.0105',
    ],
    [
      'a raw non-ASCII byte in the path',
      Buffer.from('GET /v3/\xff/traces HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'),
      400,
      'OCTS.0400',
    ],
    [
      'a duplicate Content-Length',
      'POST /v3/auth/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'OCTS.0105',
    ],
    [
      'Content-Length with Transfer-Encoding',
      'POST /v3/auth/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'OCTS.0105',
    ],
    ['a bad request line', 'HELLO\r\n\r\n', 400, 'OCTS.0105'],
    ['a bad HTTP version', 'GET /health HTTP/9.9\r\nHost: a\r\n\r\n', 400, 'OCTS.0105'],
    ['a bad header name', 'GET /health HTTP/1.1\r\nHo st: a\r\n\r\n', 400, 'OCTS.0105'],
    ['no Host header', 'GET /health HTTP/1.1\r\n\r\n', 400, 'OCTS.0105'],
    [
      'an unknown Expect',
      'GET /health HTTP/1.1\r\nHost: a\r\nExpect: magic\r\n\r\n',
      417,
      'OCTS.0106',
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      405,
      'OCTS.0405',
    ],
  ]
  for (const [name, data, status, code] of refused) {
    it(`answers ${name} with ${status} ${code} and a CTS body`, async () => {
      const answer = await exchange(server.url, data)
      assert.equal(answer.status, status, answer.headers)
      assert.match(answer.headers, /content-type: application\/json/i)
      assert.equal(ctsBody(answer).error_code, code)
      await assertAlive(server)
    })
  }

  const bodyBytes = 20 * 1024 * 1024
  const big = Buffer.alloc(bodyBytes, 0x20)

  for (const chunked of [false, true]) {
    it(`node:http sending ${chunked ? 'a chunked' : 'a 20 MB'} body receives the 413, and the connection stays usable`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      try {
        const url = `${server.url}/v3/${server.p}/traces`
        const post = (): Promise<{ status: number; body: string; socket: unknown }> =>
          new Promise((resolve, reject) => {
            const headers: Record<string, string> = unsignedPayloadHeaders('POST', url)
            if (!chunked) headers['content-length'] = String(bodyBytes)
            const req = httpRequest(url, { method: 'POST', headers, agent })
            req.on('error', reject)
            req.on('response', (res) => {
              let body = ''
              res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, body, socket: req.socket }),
              )
              res.on('error', reject)
            })
            req.end(big)
          })
        const first = await post()
        assert.equal(first.status, 413)
        assert.equal(ctsBody(first.body).error_code, 'OCTS.0101')
        const second = await post()
        assert.equal(second.status, 413)
        assert.equal(second.socket, first.socket, 'the same keep-alive connection')
      } finally {
        agent.destroy()
      }
    })
  }

  it('fetch sending 20 MB receives the 413, signed or not', async () => {
    const url = `${server.url}/v3/${server.p}/traces`
    for (const headers of [unsignedPayloadHeaders('POST', url), {}]) {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: big,
        signal: AbortSignal.timeout(20_000),
      })
      const expected = Object.keys(headers).length === 0 ? [401, 'APIG.0301'] : [413, 'OCTS.0101']
      assert.equal(response.status, expected[0])
      assert.equal(ctsBody(await response.text()).error_code, expected[1])
    }
    await assertAlive(server)
  })
})

function vmKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  assert.ok(match?.[1] !== undefined, `${field} in /proc/${pid}/status`)
  return Number(match[1])
}

/** The RSS bound documented in docs/api.md "Limits". */
const RSS_BOUND_MB = 600

describe('the transport of a server with small bounds', () => {
  let server: ServerProcess & { p: string }
  before(async () => {
    server = await start({
      OPENCTS_HEADERS_TIMEOUT_MS: '500',
      OPENCTS_REQUEST_TIMEOUT_MS: '1000',
      OPENCTS_MAX_INFLIGHT_BODY_BYTES: String(3 * 1024 * 1024),
    })
  })

  it('answers headers sent 1 byte at a time with 408 OCTS.0104', async () => {
    const started = Date.now()
    const answer = await exchange(server.url, 'GET /health HTTP/1.1\r\n', {
      text: 'X-Slow: ' + 'a'.repeat(200),
      everyMs: 100,
    })
    assert.equal(answer.status, 408)
    assert.equal(ctsBody(answer).error_code, 'OCTS.0104')
    assert.ok(Date.now() - started < 8000)
    await assertAlive(server)
  })

  it('answers a body sent 1 byte at a time with 408 OCTS.0104', async () => {
    const answer = await exchange(
      server.url,
      'POST /v3/auth/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
      { text: ' '.repeat(200), everyMs: 100 },
    )
    assert.equal(answer.status, 408)
    assert.equal(ctsBody(answer).error_code, 'OCTS.0104')
    await assertAlive(server)
  })

  it('beyond the in-flight bound answers 503 OCTS.0504 with Retry-After; every acknowledged trace is queryable; RSS stays bounded', async () => {
    const url = `${server.url}/v3/${server.p}/traces`
    const clients = 12
    const acknowledged: string[] = []
    let refused = 0
    const post = async (client: number): Promise<void> => {
      const now = Date.now()
      const traces = Array.from({ length: 10 }, (_, i) => ({
        trace_id: randomUUID(),
        time: now - 1000,
        service_type: 'IMS',
        resource_type: 'image',
        resource_id: `img-${client}-${i}`,
        trace_name: 'createImage',
        trace_type: 'ApiCall',
        request: { padding: 'x'.repeat(95_000) },
      }))
      const body = JSON.stringify({ traces })
      for (let attempt = 0; attempt < 20; attempt++) {
        const response = await signedFetch(url, { method: 'POST', body })
        const text = await response.text()
        if (response.status === 201) {
          acknowledged.push(...(JSON.parse(text) as { trace_ids: string[] }).trace_ids)
          return
        }
        assert.equal(response.status, 503, text)
        assert.equal(ctsBody(text).error_code, 'OCTS.0504')
        const retryAfter = Number(response.headers.get('retry-after'))
        assert.ok(retryAfter >= 1, 'Retry-After in seconds')
        refused++
        await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 * Math.random()))
      }
      assert.fail(`client ${client} was refused 20 times`)
    }
    // A signed batch of ~2.4 MB holds most of the 3 MiB bound while its body is sent in two parts,
    // so that the clients' 1 MB batches certainly exceed it (without it, whether twelve bodies
    // overlap depends on the machine's load).
    const holderBody = JSON.stringify({
      traces: Array.from({ length: 24 }, (_, i) => ({
        trace_id: randomUUID(),
        time: Date.now() - 1000,
        service_type: 'IMS',
        resource_type: 'image',
        resource_id: `img-holder-${i}`,
        trace_name: 'createImage',
        trace_type: 'ApiCall',
        request: { padding: 'x'.repeat(95_000) },
      })),
    })
    const holderHeaders: Record<string, string> = { 'content-type': 'application/json' }
    const signature = signRequest({
      method: 'POST',
      url: new URL(url),
      headers: holderHeaders,
      body: holderBody,
      accessKeyId: ADMIN_ENV.OPENCTS_ADMIN_ACCESS_KEY,
      secretKey: ADMIN_ENV.OPENCTS_ADMIN_SECRET_KEY,
      now: Date.now(),
    })
    const holderBytes = Buffer.from(holderBody)
    const holder = httpRequest(url, {
      method: 'POST',
      headers: { ...holderHeaders, ...signature, 'content-length': String(holderBytes.length) },
    })
    const holderStatus = new Promise<number>((resolve, reject) => {
      holder.on('response', (response) => {
        response.resume()
        resolve(response.statusCode ?? 0)
      })
      holder.on('error', reject)
    })
    holder.write(holderBytes.subarray(0, 1024))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const clientsDone = Promise.all(Array.from({ length: clients }, (_, client) => post(client)))
    await new Promise((resolve) => setTimeout(resolve, 200))
    holder.end(holderBytes.subarray(1024))
    await clientsDone
    assert.equal(await holderStatus, 201, 'the holder was admitted and stored')
    assert.ok(refused > 0, 'some batches were refused with 503')
    assert.equal(acknowledged.length, clients * 10)
    const stored = new Set<string>()
    let next: string | null = null
    for (let page = 0; page < 100; page++) {
      const query: string = next === null ? '' : `&next=${next}`
      const response = await signedFetch(`${url}?limit=200${query}`)
      assert.equal(response.status, 200)
      const list = (await response.json()) as {
        traces: { trace_id: string }[]
        meta_data: { marker: string | null }
      }
      for (const trace of list.traces) stored.add(trace.trace_id)
      next = list.meta_data.marker
      if (next === null) break
    }
    for (const id of acknowledged) assert.ok(stored.has(id), `acknowledged trace ${id} is listed`)
    const pid = server.child.pid
    assert.ok(pid !== undefined)
    const peakMb = vmKb(pid, 'VmHWM') / 1024
    assert.ok(peakMb < RSS_BOUND_MB, `server RSS peak ${peakMb.toFixed(0)} MB < ${RSS_BOUND_MB} MB`)
  })
})

/**
 * `opencts record` as a command (in-process, real sockets on loopback): it proxies a small Glance-like
 * upstream, reports a signed batch to a running OpenCTS with the producer's AK/SK, prints its counts
 * on shutdown. And the middleware form inside a plain `http` server.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { it } from 'node:test'
import { DEFAULT_IDENTITY_HEADERS } from '../src/recorder/capture.js'
import { GLANCE_MAP } from '../src/recorder/index.js'
import { recorderMiddleware } from '../src/recorder/recorder-middleware.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'
import { ADMIN_AK, ADMIN_SK, TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]

function upstream(): ReturnType<typeof createServer> {
  return createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v2/images') {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { name: string }
        res.writeHead(201, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            id: 'b2173dd3-7ad6-4362-baa6-a68bce3565cb',
            name: body.name,
            status: 'queued',
          }),
        )
      } else res.writeHead(404).end()
    })
  })
}

it('opencts record proxies, reports with AK/SK and prints its counts', async (t) => {
  const api = upstream()
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => api.close(resolve)))
  const cts = await buildTestApp(t)
  cts.clock.set(Date.now())
  const ctsUrl = await cts.app.listen({ port: 0, host: '127.0.0.1' })
  let stop: (signal: string) => void = () => undefined
  let proxyUrl: string | undefined
  const running = runCliInProcess(
    [
      'record',
      '--upstream',
      `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      '--map',
      'glance',
      '--listen',
      '127.0.0.1:0',
      '-e',
      ctsUrl,
      '-p',
      P,
      '--access-key',
      ADMIN_AK,
      '--user-name-header',
      'X-Remote-User',
    ],
    {
      env: { OPENCTS_SECRET_KEY: ADMIN_SK, HOME: '/nonexistent' },
      untilShutdown: () => new Promise((resolve) => (stop = resolve)),
      onStdout: (text) => {
        proxyUrl ??= /Recording (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1]
      },
    },
  )
  for (let i = 0; i < 200 && proxyUrl === undefined; i++) await sleep(10)
  assert.ok(proxyUrl, 'the proxy announces where it listens')
  const answer = await fetch(`${proxyUrl}/v2/images`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-remote-user': 'alice', 'x-project-id': P },
    body: JSON.stringify({ name: 'cli-image', disk_format: 'raw', container_format: 'bare' }),
  })
  assert.equal(answer.status, 201)
  assert.equal(((await answer.json()) as { name: string }).name, 'cli-image')
  const stats = (await (await fetch(`${proxyUrl}/_opencts/recorder`)).json()) as {
    recorded: number
  }
  assert.equal(stats.recorded, 1)
  stop('SIGTERM')
  const run = await running
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /"recorded":1/)
  const found = await call(
    cts.app,
    'GET',
    `/v3/${P}/traces?trace_name=createImage&from=${Date.now() - 600_000}&to=${Date.now() + 60_000}`,
  )
  assert.equal(found.body.traces.length, 1)
  assert.equal(found.body.traces[0].resource_name, 'cli-image')
  assert.equal(found.body.traces[0].user.name, 'alice')
})

it('records through the middleware of a plain http server, without touching the request stream', async (t) => {
  const reported: Record<string, unknown>[] = []
  const middleware = recorderMiddleware({
    maps: [GLANCE_MAP],
    reporter: { enqueue: (_p, traces) => void reported.push(...traces), stats: () => ({}) },
    identityHeaders: DEFAULT_IDENTITY_HEADERS,
    catchAll: 'APP',
  })
  const server = createServer((req, res) => {
    middleware(req, res, () => {
      const parts: Buffer[] = []
      req.on('data', (c: Buffer) => parts.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as { name?: string }
        const created = req.method === 'POST' && req.url === '/v2/images'
        res.writeHead(created ? 201 : 200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ id: 'img-1', name: body.name ?? 'x' }))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const headers = { 'content-type': 'application/json', 'x-project-id': P, 'x-user-name': 'carol' }
  assert.equal(
    (await fetch(`${base}/v2/images`, { method: 'POST', headers, body: '{"name":"mw"}' })).status,
    201,
  )
  assert.equal((await fetch(`${base}/v2/images`, { headers })).status, 200) // a read: not recorded
  assert.equal(
    (await fetch(`${base}/custom/things`, { method: 'POST', headers, body: '{}' })).status,
    200,
  )
  for (let i = 0; i < 100 && reported.length < 2; i++) await sleep(10)
  assert.deepEqual(
    reported.map((x) => [x.trace_name, x.resource_id, x.resource_name, x.service_type]),
    [
      ['createImage', 'img-1', 'mw', 'IMS'],
      [reported[1]?.trace_name, reported[1]?.resource_id, reported[1]?.resource_name, 'APP'],
    ],
  )
  assert.equal((reported[0]?.user as { name?: string }).name, 'carol')
})

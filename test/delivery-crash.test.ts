/**
 * End to end: no notification is lost to SIGKILL. A real `opencts serve` notifies a webhook that is
 * down; the server is killed once right after a batch is acknowledged (before or while matching)
 * and once after failed attempts; then the webhook comes up, the server restarts, and every
 * matching trace arrives.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, it } from 'node:test'
import {
  adminProject,
  crash,
  killAllServers,
  serve,
  signedFetch,
  type ServerProcess,
} from './helpers/server-process.js'

// Fast retries, and enough of them that none goes to the dead letters while the webhook is down
// (the default eight attempts at 100–300 ms fit in the second server's life: one went dead in CI).
const ENV = {
  OPENCTS_DELIVERY_BACKOFF_MS: '100',
  OPENCTS_DELIVERY_MAX_BACKOFF_MS: '300',
  OPENCTS_DELIVERY_MAX_ATTEMPTS: '100',
}
const dir = mkdtempSync(join(tmpdir(), 'opencts-delivery-crash-'))
after(() => {
  killAllServers()
  rmSync(dir, { recursive: true, force: true })
})

async function post(server: ServerProcess, path: string, body: unknown): Promise<unknown> {
  const response = await signedFetch(`${server.url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  })
  const text = await response.text()
  assert.ok(response.status < 300, `${path}: ${response.status} ${text}`)
  return text === '' ? undefined : JSON.parse(text)
}

async function ingest(server: ServerProcess, project: string, count: number): Promise<string[]> {
  const traces = Array.from({ length: count }, () => ({
    trace_id: randomUUID(),
    time: Date.now() - 500,
    service_type: 'IMS',
    resource_type: 'image',
    trace_name: 'deleteImage',
    trace_type: 'ApiCall',
    code: 204,
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  }))
  await post(server, `/v3/${project}/traces`, { traces })
  return traces.map((t) => t.trace_id)
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  )
}

it(
  'SIGKILL with notifications pending: every one arrives after restart',
  { timeout: 90_000 },
  async () => {
    const received = new Set<string>()
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          trace: { trace_id: string }
        }
        received.add(body.trace.trace_id)
        res.writeHead(204).end()
      })
    })
    after(() => {
      hook.closeAllConnections()
      hook.close()
    })
    // Reserve a port, then leave it closed: the webhook is down.
    const probe = createServer()
    const port = await listen(probe, 0)
    await new Promise((resolve) => probe.close(resolve))

    const dataDir = join(dir, 'data')
    let server = await serve(dataDir, ENV)
    const project = adminProject(dataDir)
    const topic = (await post(server, `/v3/${project}/topics`, { name: 'deletes' })) as {
      topic_urn: string
    }
    await post(server, `/v3/${project}/topics/deletes/subscriptions`, {
      protocol: 'http',
      endpoint: `http://127.0.0.1:${port}/hook`,
    })
    await post(server, `/v3/${project}/notifications`, {
      notification_name: 'image_deletes',
      operation_type: 'customized',
      operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }],
      topic_id: topic.topic_urn,
    })

    const sent = await ingest(server, project, 20)
    await crash(server) // right after the 201: matching may not have run yet
    server = await serve(dataDir, ENV)
    sent.push(...(await ingest(server, project, 20)))
    await sleep(1000) // failed attempts against the closed port
    await crash(server)

    await listen(hook, port) // the webhook comes up
    server = await serve(dataDir, ENV)
    const deadline = Date.now() + 20_000
    while (sent.some((id) => !received.has(id))) {
      assert.ok(Date.now() < deadline, `received ${received.size} of ${sent.length}`)
      await sleep(50)
    }
    await crash(server)
    assert.deepEqual(
      sent.filter((id) => !received.has(id)),
      [],
    )
  },
)

/**
 * `opencts deliveries` against a running server (in-process, real HTTP on loopback): a delivery to
 * an endpoint that is down becomes a dead letter (one attempt allowed), the CLI lists it with
 * `--status dead`, redelivers it, and answers an unknown id with exit status 1.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { it } from 'node:test'
import { signRequest } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { startServer } from '../src/server.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

const AK = 'DELIVERIESCLITEST001'
const SK = 'deliveries-cli-test-secret-0123456789'
const PROJECT = '0123456789abcdef0123456789abcdef'

it('lists dead letters and redelivers them from the command line', async (t) => {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const port = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  const config = loadConfig(
    {
      OPENCTS_ADMIN_ACCESS_KEY: AK,
      OPENCTS_ADMIN_SECRET_KEY: SK,
      OPENCTS_ADMIN_PROJECT_ID: PROJECT,
      OPENCTS_DELIVERY_MAX_ATTEMPTS: '1',
    },
    { dataDir: mkdtempSync(join(tmpdir(), 'opencts-deliveries-')), port: '0', logLevel: 'silent' },
  )
  const server = await startServer(config)
  t.after(() => server.close())
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const text = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string> =
      text === undefined ? {} : { 'content-type': 'application/json' }
    const url = new URL(`${server.url}${path}`)
    const signed = signRequest({
      method,
      url,
      headers,
      ...(text === undefined ? {} : { body: text }),
      accessKeyId: AK,
      secretKey: SK,
      now: Date.now(),
    })
    const res = await fetch(url, {
      method,
      headers: { ...headers, ...signed },
      ...(text === undefined ? {} : { body: text }),
    })
    const answer = await res.text()
    assert.ok(res.status < 300, `${path}: ${res.status} ${answer}`)
    return answer === '' ? undefined : JSON.parse(answer)
  }
  const topic = await api('POST', `/v3/${PROJECT}/topics`, { name: 'down' })
  await api('POST', `/v3/${PROJECT}/topics/down/subscriptions`, {
    protocol: 'http',
    endpoint: `http://127.0.0.1:${port}/hook`,
  })
  await api('POST', `/v3/${PROJECT}/notifications`, {
    notification_name: 'deletes',
    operation_type: 'customized',
    operations: [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }],
    topic_id: topic.topic_urn,
  })
  const traceId = randomUUID()
  await api('POST', `/v3/${PROJECT}/traces`, {
    traces: [
      {
        trace_id: traceId,
        time: Date.now() - 100,
        service_type: 'IMS',
        resource_type: 'image',
        trace_name: 'deleteImage',
        trace_type: 'ApiCall',
      },
    ],
  })
  const env = {
    OPENCTS_ENDPOINT: server.url,
    OPENCTS_PROJECT_ID: PROJECT,
    OPENCTS_ACCESS_KEY: AK,
    OPENCTS_SECRET_KEY: SK,
    HOME: tmpdir(),
  }
  let dead: { delivery_id: string; trace_id: string }[] = []
  for (let i = 0; i < 100 && dead.length === 0; i++) {
    const run = await runCliInProcess(['deliveries', 'list', '--status', 'dead', '--json'], { env })
    assert.equal(run.status, 0, run.stderr)
    dead = (JSON.parse(run.stdout) as { deliveries: typeof dead }).deliveries
    if (dead.length === 0) await sleep(50)
  }
  assert.equal(dead.length, 1)
  assert.equal(dead[0]?.trace_id, traceId)
  const table = await runCliInProcess(['deliveries', 'list'], { env })
  assert.match(table.stdout, /DELIVERY ID\s+STATUS/)
  assert.match(table.stdout, /dead/)
  const again = await runCliInProcess(['deliveries', 'redeliver', dead[0]?.delivery_id ?? ''], {
    env,
  })
  assert.equal(again.status, 0, again.stderr)
  const unknown = await runCliInProcess(['deliveries', 'redeliver', randomUUID()], { env })
  assert.equal(unknown.status, 1)
  assert.match(unknown.stderr, /OCTS\.0153/)
  assert.equal((await runCliInProcess(['deliveries', 'resend'], { env })).status, 2)
})

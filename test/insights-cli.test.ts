/**
 * `opencts insights` against a running server (in-process, real HTTP on loopback) whose own
 * detector job runs every 200 ms: a burst of denied calls and a first-time delete are found and
 * listed as JSON and as a table, filtered by type; an unknown type is the API's 400 (exit 1), a
 * bad flag a usage error (exit 2).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { it } from 'node:test'
import { signRequest } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { startServer } from '../src/server.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

const AK = 'INSIGHTSCLITEST00001'
const SK = 'insights-cli-test-secret-0123456789'
const PROJECT = '0123456789abcdef0123456789abcdef'

it('lists the insights a server found, as JSON and as a table, filtered', async (t) => {
  const config = loadConfig(
    {
      OPENCTS_ADMIN_ACCESS_KEY: AK,
      OPENCTS_ADMIN_SECRET_KEY: SK,
      OPENCTS_ADMIN_PROJECT_ID: PROJECT,
      OPENCTS_INSIGHTS_INTERVAL_MS: '200',
      // No end event while the test runs (minutes close 10 minutes late).
      OPENCTS_INSIGHTS_LATENESS_MS: '600000',
    },
    {
      dataDir: mkdtempSync(join(tmpdir(), 'opencts-insights-cli-')),
      port: '0',
      logLevel: 'silent',
    },
  )
  const server = await startServer(config)
  t.after(() => server.close())
  const now = Date.now()
  const user = (name: string) => ({ id: `id-${name}`, name, domain: { id: 'd1', name: 'acme' } })
  const traces = [
    ...Array.from({ length: 25 }, (_, i) => ({
      time: now - 500 + i,
      service_type: 'IAM',
      resource_type: 'user',
      trace_name: 'listUsers',
      trace_type: 'ApiCall',
      code: 401,
      user: user('trudy'),
      source_ip: '198.51.100.9',
    })),
    {
      time: now - 100,
      service_type: 'IMS',
      resource_type: 'image',
      trace_name: 'deleteImage',
      trace_type: 'ApiCall',
      code: 204,
      user: user('alice'),
      source_ip: '192.0.2.10',
    },
  ]
  const body = JSON.stringify({ traces })
  const url = new URL(`${server.url}/v3/${PROJECT}/traces`)
  const headers = { 'content-type': 'application/json' }
  const signed = signRequest({
    method: 'POST',
    url,
    headers,
    body,
    accessKeyId: AK,
    secretKey: SK,
    now: Date.now(),
  })
  const posted = await fetch(url, { method: 'POST', headers: { ...headers, ...signed }, body })
  assert.equal(posted.status, 201, await posted.text())
  const env = {
    OPENCTS_ENDPOINT: server.url,
    OPENCTS_PROJECT_ID: PROJECT,
    OPENCTS_ACCESS_KEY: AK,
    OPENCTS_SECRET_KEY: SK,
    HOME: tmpdir(),
  }
  type Listed = { insight_type: string; state: string; subject: Record<string, string> }
  let insights: Listed[] = []
  for (let i = 0; i < 100 && insights.length < 3; i++) {
    const run = await runCliInProcess(['insights', '--json'], { env })
    assert.equal(run.status, 0, run.stderr)
    insights = (JSON.parse(run.stdout) as { insights: Listed[] }).insights
    if (insights.length < 3) await sleep(100)
  }
  assert.deepEqual(
    insights.map((i) => `${i.insight_type} ${i.state} ${JSON.stringify(i.subject)}`).sort(),
    [
      'DeniedBurstInsight start {"source_ip":"198.51.100.9"}',
      'DeniedBurstInsight start {"user":"trudy"}',
      'HighRiskOperationInsight start {"user":"alice","source_ip":"192.0.2.10"}',
    ],
  )
  const table = await runCliInProcess(['insights', '--type', 'HighRiskOperationInsight'], { env })
  assert.equal(table.status, 0, table.stderr)
  assert.match(table.stdout, /TIME\s+TYPE\s+STATE\s+ABOUT/)
  assert.match(table.stdout, /HighRiskOperationInsight\s+start\s+IMS deleteImage user=alice/)
  assert.doesNotMatch(table.stdout, /DeniedBurstInsight/)
  const limited = await runCliInProcess(['insights', '--json', '--limit', '1'], { env })
  assert.equal((JSON.parse(limited.stdout) as { insights: unknown[] }).insights.length, 1)
  const unknown = await runCliInProcess(['insights', '--type', 'Nope'], { env })
  assert.equal(unknown.status, 1)
  assert.match(unknown.stderr, /CTS\.0300/)
  assert.equal((await runCliInProcess(['insights', '--limit', '0'], { env })).status, 2)
})

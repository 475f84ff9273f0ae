/**
 * `opencts alarms` against a running server (in-process, real HTTP on loopback, a fake clock
 * shared by server and CLI): create, list, show, update, history after an evaluation, delete;
 * API refusals exit 1 with the error code, usage errors exit 2.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { loadConfig } from '../src/config/config.js'
import { FakeClock } from '../src/platform/clock.js'
import { startServer } from '../src/server.js'
import { makeTrace } from './helpers/make-trace.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

const AK = 'ALARMSCLITEST0000001'
const SK = 'alarms-cli-test-secret-0123456789abcd'
const PROJECT = '0123456789abcdef0123456789abcdef'

it('manages alarm rules and shows their history from the command line', async (t) => {
  const clock = new FakeClock(Date.now())
  const config = loadConfig(
    {
      OPENCTS_ADMIN_ACCESS_KEY: AK,
      OPENCTS_ADMIN_SECRET_KEY: SK,
      OPENCTS_ADMIN_PROJECT_ID: PROJECT,
      // The test runs the evaluation itself.
      OPENCTS_ALARM_INTERVAL: '3600',
    },
    { dataDir: mkdtempSync(join(tmpdir(), 'opencts-alarms-cli-')), port: '0', logLevel: 'silent' },
  )
  const server = await startServer(config, { clock })
  t.after(() => server.close())
  const env = {
    OPENCTS_ENDPOINT: server.url,
    OPENCTS_PROJECT_ID: PROJECT,
    OPENCTS_ACCESS_KEY: AK,
    OPENCTS_SECRET_KEY: SK,
    HOME: tmpdir(),
  }
  const cli = (...args: string[]) =>
    runCliInProcess(['alarms', ...args], { env, now: () => clock.now() })

  const created = await cli(
    'create',
    'image-deletes',
    '--filter',
    'service_type=IMS',
    '--filter',
    'trace_name=deleteImage',
    '--comparison',
    '>=',
    '--threshold',
    '2',
    '--period',
    '60',
    '--json',
  )
  assert.equal(created.status, 0, created.stderr)
  const rule = JSON.parse(created.stdout) as Record<string, unknown>
  const id = String(rule.alarm_id)
  assert.deepEqual(rule.filter, {
    trace_type: 'system',
    service_type: 'IMS',
    trace_name: 'deleteImage',
  })
  assert.deepEqual(rule.condition, { comparison: '>=', threshold: 2, period: 60 })

  const list = await cli('list')
  assert.equal(list.status, 0, list.stderr)
  assert.match(list.stdout, /ID\s+NAME\s+STATE\s+CONDITION/)
  assert.match(
    list.stdout,
    new RegExp(`${id}\\s+image-deletes\\s+insufficient_data\\s+>= 2 in 60 s\\s+yes`),
  )

  const updated = await cli('update', id, '--threshold', '3', '--description', 'burst of deletes')
  assert.equal(updated.status, 0, updated.stderr)
  assert.match(updated.stdout, /^condition\s+>= 3 in 60 s$/m)
  assert.match(updated.stdout, /^description\s+burst of deletes$/m)

  // Three deletes within the window, one period after the rule was made: ok → alarm.
  clock.advance(61_000)
  await server.services.store.traces.append(
    Array.from({ length: 3 }, () =>
      makeTrace({ project_id: PROJECT, trace_name: 'deleteImage', time: clock.now() - 1000 }),
    ),
  )
  assert.equal((await server.services.alarmEvaluator.runOnce()).transitions, 1)
  const shown = await cli('show', id)
  assert.match(shown.stdout, /^state\s+alarm$/m)
  assert.match(shown.stdout, /^last count\s+3$/m)
  const history = await cli('history', id)
  assert.equal(history.status, 0, history.stderr)
  assert.match(history.stdout, /TIME\s+FROM\s+TO\s+COUNT\s+REASON/)
  assert.match(history.stdout, /insufficient_data\s+alarm\s+3\s+3 matching traces/)
  const historyJson = JSON.parse((await cli('history', id, '--json')).stdout) as {
    history: { new_state: string }[]
  }
  assert.deepEqual(
    historyJson.history.map((h) => h.new_state),
    ['alarm'],
  )

  const refused = await cli('create', 'bad', '--threshold', '1', '--period', '10')
  assert.equal(refused.status, 1)
  assert.match(refused.stderr, /OCTS\.0170/)
  assert.match(refused.stderr, /period/)
  const unknown = await cli('show', randomUUID())
  assert.equal(unknown.status, 1)
  assert.match(unknown.stderr, /OCTS\.0172/)
  assert.equal((await cli('frob')).status, 2)
  assert.equal((await cli('show')).status, 2)
  assert.equal((await cli('update', id)).status, 2)
  assert.equal((await cli('create', 'x', '--threshold', 'many')).status, 2)
  assert.equal((await cli('update', id, '--enable', '--disable')).status, 2)

  const deleted = await cli('delete', id)
  assert.equal(deleted.status, 0, deleted.stderr)
  const empty = await cli('list')
  assert.equal(empty.stdout, '')
  assert.match(empty.stderr, /No alarm rules/)
})

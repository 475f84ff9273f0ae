/**
 * `opencts stats` against a running server (in-process, real HTTP on loopback, real SQLite store, a
 * fake clock shared by server and CLI): the printed table agrees row by row with the API's answer
 * (`--json`), which agrees with the seeded traces; interval lines list the API's buckets; API
 * refusals exit 1 with the error code and message, usage errors exit 2.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { loadConfig } from '../src/config/config.js'
import { FakeClock } from '../src/platform/clock.js'
import { startServer } from '../src/server.js'
import type { StatisticsAnswer } from '../src/cli/format-statistics.js'
import { makeTrace } from './helpers/make-trace.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

const AK = 'STATSCLITEST00000001'
const SK = 'stats-cli-test-secret-0123456789abcde'
const PROJECT = '0123456789abcdef0123456789abcdef'
const MIN = 60_000

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z')
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16)

it('prints the statistics API answer as a table, with intervals, and exits 1 on refusals', async (t) => {
  // The 90-minute window may span two UTC days: interval times are then printed with the date.
  const clock = new FakeClock(Date.now())
  const config = loadConfig(
    {
      OPENCTS_ADMIN_ACCESS_KEY: AK,
      OPENCTS_ADMIN_SECRET_KEY: SK,
      OPENCTS_ADMIN_PROJECT_ID: PROJECT,
    },
    { dataDir: mkdtempSync(join(tmpdir(), 'opencts-stats-cli-')), port: '0', logLevel: 'silent' },
  )
  const server = await startServer(config, { clock })
  t.after(() => server.close())
  const now = clock.now()
  const trace = (
    user: string,
    traceName: string,
    code: string,
    sourceIp: string | null,
    minutesAgo: number,
  ) =>
    makeTrace({
      project_id: PROJECT,
      user: { id: `u-${user}`, name: user, domain: { id: 'd1', name: 'acme' } },
      user_name: user,
      trace_name: traceName,
      code,
      source_ip: sourceIp,
      time: now - minutesAgo * MIN,
    })
  await server.services.store.traces.append([
    ...Array.from({ length: 5 }, (_, i) =>
      trace('alice', 'createImage', '201', '192.0.2.1', 50 - i),
    ),
    trace('alice', 'createImage', '201', '192.0.2.2', 40),
    ...Array.from({ length: 4 }, (_, i) =>
      trace('bob', 'deleteImage', '403', '198.51.100.7', 20 - i),
    ),
    trace('carol', 'deleteImage', '204', null, 5),
    trace('carol', 'deleteImage', '204', null, 4),
    trace('dave', 'listImages', '200', '192.0.2.10', 3),
    // Outside the window.
    trace('alice', 'createImage', '201', '192.0.2.1', 120),
  ])
  const env = {
    OPENCTS_ENDPOINT: server.url,
    OPENCTS_PROJECT_ID: PROJECT,
    OPENCTS_ACCESS_KEY: AK,
    OPENCTS_SECRET_KEY: SK,
    HOME: tmpdir(),
  }
  const cli = (...args: string[]) =>
    runCliInProcess(['stats', '--service-type', 'IMS', '--from', '90m', ...args], {
      env,
      now: () => clock.now(),
    })

  // Grouped, with a distinct count and the top 2.
  const grouped = ['--group-by', 'user,code', '--distinct', 'source_ip', '--top', '2']
  const jsonRun = await cli(...grouped, '--json')
  assert.equal(jsonRun.status, 0, jsonRun.stderr)
  const answer = JSON.parse(jsonRun.stdout) as StatisticsAnswer
  assert.equal(answer.total, 13)
  assert.deepEqual(answer.groups, [
    { values: { user: 'alice', code: '201' }, count: 6, distinct: 2 },
    { values: { user: 'bob', code: '403' }, count: 4, distinct: 1 },
  ])
  // carol/204 (no IP) and dave/200.
  assert.deepEqual(answer.other, { count: 3, groups: 2, distinct: 1 })

  const table = await cli(...grouped)
  assert.equal(table.status, 0, table.stderr)
  const lines = table.stdout.trimEnd().split('\n')
  assert.match(lines[0] ?? '', /^USER\s+CODE\s+COUNT\s+DISTINCT SOURCE_IP\s+SHARE$/)
  const share = (count: number): string => `${((count / answer.total) * 100).toFixed(1)}%`
  answer.groups.forEach((g, i) => {
    const row = [g.values.user, g.values.code, g.count, g.distinct, share(g.count)]
    assert.match(
      lines[i + 1] ?? '',
      new RegExp(`^${row.map((v) => escape(String(v))).join('\\s+')}$`),
    )
  })
  const other = answer.other
  assert.ok(other !== null)
  assert.match(
    lines[answer.groups.length + 1] ?? '',
    new RegExp(
      `^\\(other: ${other.groups} groups\\)\\s+${other.count}\\s+${other.distinct}\\s+${escape(share(other.count))}$`,
    ),
  )
  assert.equal(lines.length, answer.groups.length + 3)
  assert.equal(
    lines.at(-1),
    `Total: 13 traces after ${iso(answer.from)} and before ${iso(answer.to)}`,
  )
  assert.equal(answer.from, now - 90 * MIN)

  // Per 10-minute interval, grouped by trace name.
  const perInterval = ['--group-by', 'trace_name', '--interval', '10m']
  const intervalAnswer = JSON.parse(
    (await cli(...perInterval, '--json')).stdout,
  ) as StatisticsAnswer
  assert.equal(intervalAnswer.interval, 600_000)
  assert.deepEqual(
    intervalAnswer.groups.map((g) => [g.values.trace_name, g.count]),
    [
      ['createImage', 6],
      ['deleteImage', 6],
      ['listImages', 1],
    ],
  )
  const intervalRun = await cli(...perInterval)
  assert.equal(intervalRun.status, 0, intervalRun.stderr)
  const section = intervalRun.stdout.slice(intervalRun.stdout.indexOf('Per 10m interval'))
  assert.notEqual(section, '', intervalRun.stdout)
  for (const group of intervalAnswer.groups) {
    const buckets = group.buckets ?? []
    assert.equal(
      buckets.reduce((sum, b) => sum + b.count, 0),
      group.count,
    )
    const entries = buckets.map((b) => `(?:\\d\\d-\\d\\d )?${hhmm(b.time)} ${b.count}`).join('  ')
    assert.match(section, new RegExp(`^${group.values.trace_name}\\s+${entries}$`, 'm'))
  }

  // Nothing matches: the total line, and a note on stderr.
  const none = await cli('--user', 'nobody')
  assert.equal(none.status, 0, none.stderr)
  assert.match(none.stdout, /^Total: 0 traces after /)
  assert.match(none.stderr, /No traces match/)

  // The API refuses: its code and message, exit 1.
  const unknownField = await cli('--group-by', 'password')
  assert.equal(unknownField.status, 1)
  assert.match(unknownField.stderr, /CTS\.0300 .*group_by must name/)
  const tooFine = await cli('--interval', '1s')
  assert.equal(tooFine.status, 1)
  assert.match(tooFine.stderr, /CTS\.0300 .*at most 1000/)
  const badSearch = await cli('--q', 'user:(alice')
  assert.equal(badSearch.status, 1)
  assert.match(badSearch.stderr, /CTS\.0300/)
  // Usage errors: exit 2 with the usage.
  const usage = await cli('--top', '0')
  assert.equal(usage.status, 2)
  assert.match(usage.stderr, /--top must be an integer from 1 to 1000[\s\S]*Usage: opencts stats/)
})

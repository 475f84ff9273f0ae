/**
 * `opencts resource-history` against a running server (in-process, real HTTP on loopback): the
 * summary and events it prints are the API's answer for the resource (by id and by name), `--json`
 * prints that answer, `--limit`/`--next` page through the events, producer-controlled control
 * characters never reach the terminal, and mistakes exit 2 (usage) or 1 (refused by the API).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { signRequest } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { startServer } from '../src/server.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'

const AK = 'HISTORYCLITEST000001'
const SK = 'history-cli-test-secret-0123456789'
const PROJECT = '0123456789abcdef0123456789abcdef'
const MIN = 60_000

function who(name: string): Record<string, unknown> {
  return { user: { id: `u-${name}`, name, domain: { id: 'd1', name: 'acme' } } }
}

describe('opencts resource-history', () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let env: Record<string, string>

  async function api(method: string, path: string, body?: unknown): Promise<any> {
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
    return JSON.parse(answer)
  }

  before(async () => {
    const config = loadConfig(
      {
        OPENCTS_ADMIN_ACCESS_KEY: AK,
        OPENCTS_ADMIN_SECRET_KEY: SK,
        OPENCTS_ADMIN_PROJECT_ID: PROJECT,
      },
      {
        dataDir: mkdtempSync(join(tmpdir(), 'opencts-history-cli-')),
        port: '0',
        logLevel: 'silent',
      },
    )
    server = await startServer(config)
    const now = Date.now()
    const base = { service_type: 'IMS', resource_type: 'image', trace_type: 'ApiCall' }
    const life = [
      { trace_name: 'createImage', code: 201, ...who('alice'), source_ip: '192.0.2.1' },
      { trace_name: 'updateImage', code: 200, ...who('bob') },
      { trace_name: 'addMember', code: 200, ...who('bob') },
      { trace_name: 'GetImage', code: 200, ...who('carol') },
      { trace_name: 'GetImage', code: 200, ...who('eve\u001b[2J') },
      { trace_name: 'deleteImage', code: 403, ...who('carol'), response: '{"error":"denied"}' },
      { trace_name: 'deleteImage', code: 204, ...who('alice'), source_ip: '192.0.2.9' },
    ]
    await api('POST', `/v3/${PROJECT}/traces`, {
      traces: [
        ...life.map((patch, i) => ({
          ...base,
          resource_id: 'img-7',
          resource_name: 'web-7',
          time: now - (40 - i * 5) * MIN,
          ...patch,
        })),
        { ...base, trace_name: 'createImage', resource_id: 'img-8', time: now - MIN },
      ],
    })
    env = {
      OPENCTS_ENDPOINT: server.url,
      OPENCTS_PROJECT_ID: PROJECT,
      OPENCTS_ACCESS_KEY: AK,
      OPENCTS_SECRET_KEY: SK,
      HOME: tmpdir(),
    }
  })

  after(() => server?.close())

  it('prints the summary and the events of the API, newest first', async () => {
    const expected = await api('GET', `/v3/${PROJECT}/resources/history?resource_id=img-7`)
    const run = await runCliInProcess(['resource-history', '--resource-id', 'img-7'], { env })
    assert.equal(run.status, 0, run.stderr)
    const s = expected.summary
    assert.match(run.stdout, /^Resource img-7 \(web-7\), IMS image\n/)
    assert.match(run.stdout, new RegExp(`^Traces: ${s.total}, `, 'm'))
    for (const [label, key] of [
      ['Created:', 'created'],
      ['Last changed:', 'last_changed'],
      ['Deleted:', 'deleted'],
    ] as const) {
      const line = run.stdout.split('\n').find((l) => l.startsWith(label)) ?? ''
      const m = s[key]
      assert.ok(line.includes(`  ${m.trace_name}  by ${m.user}`), `${label} ${line}`)
      assert.ok(line.includes(`(trace ${m.trace_id})`), line)
      assert.ok(line.includes(new Date(m.time).toISOString().slice(0, 19)), line)
    }
    const kinds = ['create', 'update', 'share', 'delete', 'read', 'other']
    assert.match(
      run.stdout,
      new RegExp(
        `^Kinds: ${kinds.map((k) => `${k} ${s.counts[k]}`).join(', ')}; failed ${s.counts.failed}$`,
        'm',
      ),
    )
    for (const o of s.operators)
      assert.match(run.stdout, new RegExp(`^${o.user.replace(/\W/g, '.')}\\s+${o.count}\\s`, 'm'))
    const ids = run.stdout
      .split('\n')
      .map((l) => /([0-9a-f-]{36})$/.exec(l)?.[1])
      .filter((id) => id !== undefined)
    assert.deepEqual(
      ids,
      expected.events.map((e: any) => e.trace_id),
    )
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(run.stdout, /\u001b/, 'no escape sequence reaches the terminal')
    assert.equal(run.stderr, '', 'one page: no marker')
  })

  it('prints the API answer with --json, by name, and pages with --limit and --next', async () => {
    const expected = await api(
      'GET',
      `/v3/${PROJECT}/resources/history?resource_name=web-7&limit=3`,
    )
    const run = await runCliInProcess(
      ['resource-history', '--resource-name', 'web-7', '--limit', '3', '--json'],
      { env },
    )
    assert.equal(run.status, 0, run.stderr)
    assert.deepEqual(JSON.parse(run.stdout), expected)
    const marker = expected.meta_data.marker as string
    assert.match(run.stderr, new RegExp(`continue with --next ${marker}`))
    const next = await runCliInProcess(
      ['resource-history', '--resource-name', 'web-7', '--limit', '3', '--next', marker, '--json'],
      { env },
    )
    const second = await api(
      'GET',
      `/v3/${PROJECT}/resources/history?resource_name=web-7&limit=3&next=${marker}`,
    )
    assert.deepEqual(JSON.parse(next.stdout), second)
    assert.notDeepEqual(second.events, expected.events)
  })

  it('takes a time window: nothing before the resource existed', async () => {
    const run = await runCliInProcess(
      ['resource-history', '--resource-id', 'img-7', '--from', '3d', '--to', '1h'],
      { env },
    )
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, 'No trace names this resource in the window.\n')
  })

  it('exits 2 on a usage mistake and 1 when the API refuses', async () => {
    for (const args of [
      [],
      ['--resource-id', 'a', '--resource-name', 'b'],
      ['--resource-id', 'a', '--limit', '0'],
      ['--resource-id', 'a', '--from', 'yesterday'],
      ['--resource-id', 'a', '--password', 'x'],
    ]) {
      const run = await runCliInProcess(['resource-history', ...args], { env })
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.match(run.stderr, /Usage: opencts resource-history|no --password flag/)
    }
    const refused = await runCliInProcess(
      ['resource-history', '--resource-id', 'img-7', '--from', '1h', '--to', '2h'],
      { env },
    )
    assert.equal(refused.status, 1)
    assert.match(refused.stderr, /CTS\.0300 .*from .* must be earlier than to/)
    const help = await runCliInProcess(['resource-history', '--help'], { env })
    assert.equal(help.status, 0)
    assert.match(help.stdout, /--resource-name NAME/)
  })
})

/**
 * End to end: a real server in this process, the compiled `opencts` CLI as a child process. Ingests
 * a JSON-lines file (in several batches) and a JSON array from stdin, then queries with filters in
 * the three output formats, follows markers, and checks the exit statuses of API errors.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../src/config/config.js'
import { startServer, type RunningServer } from '../src/server.js'

/** The compiled CLI, beside this compiled test in whatever build folder it is in. */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const PROJECT = '0123456789abcdef0123456789abcdef'
const CHILD_TIMEOUT_MS = 15_000

interface CliRun {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI with a clean OPENCTS_* environment; killed (and failing) after 15 s. */
function cli(args: string[], env: Record<string, string>, stdin = ''): Promise<CliRun> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('OPENCTS_')),
  )
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...clean, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`opencts ${args.join(' ')} took over ${CHILD_TIMEOUT_MS} ms`))
    }, CHILD_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
    child.stdin.end(stdin)
  })
}

/** Minimal RFC 4180 reader for checking the CSV output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += c
  }
  assert.equal(field + row.join(''), '', 'CSV ends with CRLF')
  return rows
}

const now = Date.now()
const alice = { id: 'u-alice', name: 'alice', domain: { id: 'd1', name: 'acme' } }
const bob = { id: 'u-bob', name: 'bob', domain: { id: 'd1', name: 'acme' } }
const ims = (minutesAgo: number, fields: Record<string, unknown>): Record<string, unknown> => ({
  time: now - minutesAgo * 60_000,
  service_type: 'IMS',
  resource_type: 'image',
  trace_type: 'ApiCall',
  api_version: 'v2',
  source_ip: '203.0.113.10',
  ...fields,
})
const IMS_TRACES = [
  ims(10, {
    trace_name: 'createImage',
    resource_id: 'img-1',
    resource_name: 'web',
    code: 200,
    user: alice,
  }),
  ims(9, {
    trace_name: 'createImage',
    resource_id: 'img-2',
    resource_name: 'db, "prod"',
    code: 200,
    user: alice,
  }),
  ims(8, {
    trace_name: 'addMember',
    resource_id: 'img-1',
    resource_name: 'web',
    code: 200,
    user: alice,
  }),
  ims(7, {
    trace_name: 'addMember',
    resource_id: 'img-2',
    resource_name: 'db, "prod"',
    code: 200,
    user: bob,
  }),
  ims(6, {
    trace_name: 'deleteImage',
    resource_id: 'img-1',
    resource_name: 'web',
    code: 403,
    user: bob,
  }),
]
const VPC_TRACES = [1, 2, 3].map((i) => ({
  time: now - (20 + i) * 60_000,
  service_type: 'VPC',
  resource_type: 'eip',
  resource_id: `eip-${i}`,
  trace_name: 'createEip',
  trace_type: 'ConsoleAction',
  code: '201',
  user: bob,
}))

describe('opencts CLI against a running server', { timeout: 120_000 }, () => {
  let dir: string
  let server: RunningServer
  let env: Record<string, string>
  const imsIds: string[] = []
  const vpcIds: string[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opencts-cli-'))
    server = await startServer(
      loadConfig({}, { dataDir: join(dir, 'data'), port: '0', logLevel: 'silent' }),
    )
    env = { OPENCTS_ENDPOINT: server.url, OPENCTS_PROJECT_ID: PROJECT }
  })

  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('ingests a JSON-lines file in batches and prints the count and the ids', async () => {
    const file = join(dir, 'ims.jsonl')
    writeFileSync(file, IMS_TRACES.map((t) => JSON.stringify(t)).join('\n') + '\n')
    const run = await cli(['ingest', file, '--batch-size', '2'], env)
    assert.equal(run.stderr, '')
    assert.equal(run.status, 0)
    const [summary, ...ids] = run.stdout.trimEnd().split('\n')
    assert.equal(summary, 'Stored 5 traces in 3 batches.')
    assert.equal(ids.length, 5)
    for (const id of ids) assert.match(id, /^[0-9a-f-]{36}$/)
    imsIds.push(...ids)
  })

  it('ingests a JSON array from stdin; --quiet prints only the count', async () => {
    const run = await cli(['ingest', '-', '--quiet'], env, JSON.stringify(VPC_TRACES, null, 2))
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, 'Stored 3 traces in 1 batch.\n')
    const listed = await cli(['query', '--service-type', 'VPC', '--format', 'json'], env)
    vpcIds.push(...(JSON.parse(listed.stdout) as { trace_id: string }[]).map((t) => t.trace_id))
    assert.equal(vpcIds.length, 3)
  })

  it('queries as JSON: the API traces, newest first, filtered', async () => {
    const run = await cli(
      ['query', '--service-type', 'IMS', '--from', '1h', '--format', 'json'],
      env,
    )
    assert.equal(run.status, 0, run.stderr)
    const traces = JSON.parse(run.stdout) as Record<string, unknown>[]
    assert.deepEqual(
      traces.map((t) => t.trace_id),
      [...imsIds].reverse(),
    )
    assert.equal(traces[0]?.trace_name, 'deleteImage')
    assert.equal(traces[0]?.code, '403')
    assert.equal(traces[0]?.trace_rating, 'warning')
    assert.deepEqual(traces[0]?.user, bob)
  })

  it('queries as CSV: RFC 4180 with a header row and quoted fields', async () => {
    const run = await cli(['query', '--resource-id', 'img-2', '--format', 'csv'], env)
    assert.equal(run.status, 0, run.stderr)
    const [header, ...rows] = parseCsv(run.stdout)
    assert.deepEqual(header?.slice(0, 4), ['trace_id', 'time', 'record_time', 'trace_name'])
    const column = (name: string): number => header?.indexOf(name) ?? -1
    assert.deepEqual(
      rows.map((r) => [r[column('trace_name')], r[column('user')], r[column('resource_name')]]),
      [
        ['addMember', 'bob', 'db, "prod"'],
        ['createImage', 'alice', 'db, "prod"'],
      ],
    )
    assert.equal(rows[0]?.[column('time')], new Date(IMS_TRACES[3]?.time as number).toISOString())
  })

  it('queries as a table with several filters', async () => {
    const run = await cli(
      ['query', '--user', 'bob', '--trace-rating', 'warning', '--trace-name', 'deleteImage'],
      env,
    )
    assert.equal(run.status, 0, run.stderr)
    const lines = run.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 2)
    assert.match(
      lines[0] ?? '',
      /^TIME +TRACE NAME +RATING +SERVICE +RESOURCE TYPE +RESOURCE ID +RESOURCE NAME +USER +CODE$/,
    )
    assert.match(
      lines[1] ?? '',
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +deleteImage +warning +IMS +image +img-1 +web +bob +403$/,
    )
  })

  it('says so on stderr when nothing matches', async () => {
    const run = await cli(['query', '--user', 'nobody'], env)
    assert.equal(run.status, 0)
    assert.equal(run.stdout.trimEnd().split('\n').length, 1)
    assert.equal(run.stderr, 'No traces match.\n')
  })

  it('follows next markers with --all and stops at --max with a marker to continue', async () => {
    const all = await cli(
      ['query', '--all', '--limit', '2', '--from', '2h', '--format', 'json'],
      env,
    )
    assert.equal(all.status, 0, all.stderr)
    const ids = (JSON.parse(all.stdout) as { trace_id: string }[]).map((t) => t.trace_id)
    // 5 IMS + 3 VPC + the createTracker trace of the project's registration.
    assert.equal(ids.length, 9)
    assert.equal(new Set(ids).size, 9)
    for (const id of [...imsIds, ...vpcIds]) assert.ok(ids.includes(id), id)
    assert.equal(all.stderr, '')

    const some = await cli(['query', '--max', '3', '--from', '2h', '--format', 'json'], env)
    assert.deepEqual(
      (JSON.parse(some.stdout) as { trace_id: string }[]).map((t) => t.trace_id),
      ids.slice(0, 3),
    )
    assert.equal(some.stderr, `More traces match; continue with --next ${ids[2]}\n`)
    const rest = await cli(
      ['query', '--next', ids[2] ?? '', '--all', '--from', '2h', '--format', 'csv'],
      env,
    )
    assert.equal(parseCsv(rest.stdout).length, 1 + 6)
  })

  it('finds one trace by --trace-id, whatever the other filters', async () => {
    const id = vpcIds[0] ?? ''
    const run = await cli(
      ['query', '--trace-id', id, '--service-type', 'IMS', '--format', 'json'],
      env,
    )
    assert.deepEqual(
      (JSON.parse(run.stdout) as { trace_id: string }[]).map((t) => t.trace_id),
      [id],
    )
  })

  it('prints the CTS error and where the rejected trace is, and exits 1', async () => {
    const file = join(dir, 'bad.jsonl')
    const noType = { ...IMS_TRACES[0] }
    delete noType.trace_type
    writeFileSync(file, [IMS_TRACES[1], noType].map((t) => JSON.stringify(t)).join('\n'))
    const run = await cli(['ingest', file], env)
    assert.equal(run.status, 1)
    assert.equal(run.stdout, '')
    assert.match(
      run.stderr,
      /^error: CTS\.0003 traces\[1\]\.trace_type: trace_type is required \(HTTP 400\)\n/,
    )
    assert.match(
      run.stderr,
      /at input trace 2 \(line 2\); stored before it: 0 traces in 0 batches\n$/,
    )

    const query = await cli(['query', '--trace-rating', 'fine'], env)
    assert.equal(query.status, 1)
    assert.match(
      query.stderr,
      /^error: CTS\.0300 Query failed: trace_rating must be one of normal, warning, incident, got "fine" \(HTTP 400\)\n$/,
    )
  })

  it('exits 2 with the usage on an unknown flag', async () => {
    const run = await cli(['query', '--colour', 'red'], env)
    assert.equal(run.status, 2)
    assert.match(run.stderr, /Unknown option '--colour'[\s\S]*Usage: opencts query/)
  })
})

/**
 * End to end: a real server in this process, the compiled `opencts` CLI as a child process. Ingests
 * a JSON-lines file (in several batches) and a JSON array from stdin, then queries with filters in
 * the three output formats, follows markers, and checks the exit statuses of API errors. Requests
 * are authenticated: with the administrator's credentials file that the server writes on its first
 * start (AK/SK signatures), with a token, with a password; `opencts admin` makes a read-only user
 * whose ready credentials file can query but not ingest.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  parseCredentialsFile,
  passwordSignInBody,
  type CredentialsProfile,
} from '../src/auth/credentials-file.js'
import { loadConfig } from '../src/config/config.js'
import { startServer, type RunningServer } from '../src/server.js'

/** The compiled CLI, beside this compiled test in whatever build folder it is in. */
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))
const CHILD_TIMEOUT_MS = 15_000

/** Where the CLI runs: HOME and the current folder, without any .opencts/credentials. */
let home = tmpdir()

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
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...clean, HOME: home, ...env },
      cwd: home,
    })
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
  let dataDir: string
  let server: RunningServer
  /** The administrator's profile, as written by the server's first start. */
  let admin: CredentialsProfile
  let project: string
  /** The endpoint: the file names the configured port, 0 here. */
  let env: Record<string, string>
  const imsIds: string[] = []
  const vpcIds: string[] = []

  /** Runs the CLI with the administrator's credentials file (AK/SK; project from the file). */
  const cliAsAdmin = (args: string[], stdin?: string): Promise<CliRun> =>
    cli([...args, '--credentials', server.credentialsFile], env, stdin)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opencts-cli-'))
    home = mkdtempSync(join(dir, 'home-'))
    dataDir = join(dir, 'data')
    server = await startServer(
      loadConfig({}, { dataDir, port: '0', logLevel: 'silent', authFailureLimit: '1000' }),
    )
    admin = parseCredentialsFile(readFileSync(server.credentialsFile, 'utf8')).get('default') ?? {}
    project = admin.project_id ?? ''
    assert.match(project, /^[0-9a-f]{32}$/)
    env = { OPENCTS_ENDPOINT: server.url }
  })

  after(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('ingests a JSON-lines file in batches and prints the count and the ids', async () => {
    const file = join(dir, 'ims.jsonl')
    writeFileSync(file, IMS_TRACES.map((t) => JSON.stringify(t)).join('\n') + '\n')
    const run = await cliAsAdmin(['ingest', file, '--batch-size', '2'])
    assert.equal(run.stderr, '')
    assert.equal(run.status, 0)
    const [summary, ...ids] = run.stdout.trimEnd().split('\n')
    assert.equal(summary, 'Stored 5 traces in 3 batches.')
    assert.equal(ids.length, 5)
    for (const id of ids) assert.match(id, /^[0-9a-f-]{36}$/)
    imsIds.push(...ids)
  })

  it('ingests a JSON array from stdin; --quiet prints only the count', async () => {
    const run = await cliAsAdmin(['ingest', '-', '--quiet'], JSON.stringify(VPC_TRACES, null, 2))
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, 'Stored 3 traces in 1 batch.\n')
    const listed = await cliAsAdmin(['query', '--service-type', 'VPC', '--format', 'json'])
    vpcIds.push(...(JSON.parse(listed.stdout) as { trace_id: string }[]).map((t) => t.trace_id))
    assert.equal(vpcIds.length, 3)
  })

  it('queries as JSON: the API traces, newest first, filtered', async () => {
    const run = await cliAsAdmin([
      'query',
      '--service-type',
      'IMS',
      '--from',
      '1h',
      '--format',
      'json',
    ])
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
    const run = await cliAsAdmin(['query', '--resource-id', 'img-2', '--format', 'csv'])
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

  it('queries in the open formats of the export API (OCSF, CEF)', async () => {
    const ocsf = await cliAsAdmin(['query', '--resource-id', 'img-2', '--format', 'ocsf'])
    assert.equal(ocsf.status, 0, ocsf.stderr)
    const events = ocsf.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
    assert.deepEqual(
      events.map((e) => [e.class_uid, e.api.operation, e.actor.user.name]),
      [
        [6003, 'addMember', 'bob'],
        [6003, 'createImage', 'alice'],
      ],
    )
    const cef = await cliAsAdmin(['query', '--resource-id', 'img-2', '--format', 'cef'])
    assert.equal(cef.status, 0, cef.stderr)
    assert.deepEqual(
      cef.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split('|')[5]),
      ['addMember', 'createImage'],
    )
  })

  it('queries as a table with several filters', async () => {
    const run = await cliAsAdmin([
      'query',
      '--user',
      'bob',
      '--trace-rating',
      'warning',
      '--trace-name',
      'deleteImage',
    ])
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
    const run = await cliAsAdmin(['query', '--user', 'nobody'])
    assert.equal(run.status, 0)
    assert.equal(run.stdout.trimEnd().split('\n').length, 1)
    assert.equal(run.stderr, 'No traces match.\n')
  })

  it('follows next markers with --all and stops at --max with a marker to continue', async () => {
    const all = await cliAsAdmin([
      'query',
      '--all',
      '--limit',
      '2',
      '--from',
      '2h',
      '--format',
      'json',
    ])
    assert.equal(all.status, 0, all.stderr)
    const ids = (JSON.parse(all.stdout) as { trace_id: string }[]).map((t) => t.trace_id)
    // 5 IMS + 3 VPC + the createTracker trace of the project's registration.
    assert.equal(ids.length, 9)
    assert.equal(new Set(ids).size, 9)
    for (const id of [...imsIds, ...vpcIds]) assert.ok(ids.includes(id), id)
    assert.equal(all.stderr, '')

    const some = await cliAsAdmin(['query', '--max', '3', '--from', '2h', '--format', 'json'])
    assert.deepEqual(
      (JSON.parse(some.stdout) as { trace_id: string }[]).map((t) => t.trace_id),
      ids.slice(0, 3),
    )
    assert.equal(some.stderr, `More traces match; continue with --next ${ids[2]}\n`)
    const rest = await cliAsAdmin([
      ...['query', '--next', ids[2] ?? '', '--all', '--from', '2h', '--format', 'csv'],
    ])
    assert.equal(parseCsv(rest.stdout).length, 1 + 6)
  })

  it('finds one trace by --trace-id, whatever the other filters', async () => {
    const id = vpcIds[0] ?? ''
    const run = await cliAsAdmin([
      'query',
      '--trace-id',
      id,
      '--service-type',
      'IMS',
      '--format',
      'json',
    ])
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
    const run = await cliAsAdmin(['ingest', file])
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

    const query = await cliAsAdmin(['query', '--trace-rating', 'fine'])
    assert.equal(query.status, 1)
    assert.match(
      query.stderr,
      /^error: CTS\.0300 Query failed: trace_rating must be one of normal, warning, incident, got "fine" \(HTTP 400\)\n$/,
    )
  })

  it('exits 2 with the usage on an unknown flag', async () => {
    const run = await cliAsAdmin(['query', '--colour', 'red'])
    assert.equal(run.status, 2)
    assert.match(run.stderr, /Unknown option '--colour'[\s\S]*Usage: opencts query/)
  })

  it('authenticates with a token from OPENCTS_TOKEN', async () => {
    const response = await fetch(`${server.url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        passwordSignInBody({
          account: admin.account ?? '',
          user: admin.user ?? '',
          password: admin.password ?? '',
          projectId: project,
        }),
      ),
    })
    assert.equal(response.status, 201)
    const token = response.headers.get('x-subject-token') ?? ''
    const run = await cli(['query', '--service-type', 'VPC', '--format', 'json'], {
      ...env,
      OPENCTS_PROJECT_ID: project,
      OPENCTS_TOKEN: token,
    })
    assert.equal(run.status, 0, run.stderr)
    assert.deepEqual(
      (JSON.parse(run.stdout) as { trace_id: string }[]).map((t) => t.trace_id).sort(),
      [...vpcIds].sort(),
    )
  })

  it('signs in with OPENCTS_ACCOUNT, OPENCTS_USER and OPENCTS_PASSWORD', async () => {
    const passwordEnv = {
      ...env,
      OPENCTS_PROJECT_ID: project,
      OPENCTS_ACCOUNT: admin.account ?? '',
      OPENCTS_USER: admin.user ?? '',
      OPENCTS_PASSWORD: admin.password ?? '',
    }
    const file = join(dir, 'one.jsonl')
    writeFileSync(file, JSON.stringify({ ...IMS_TRACES[0], resource_id: 'img-pw' }) + '\n')
    const ingest = await cli(['ingest', file], passwordEnv)
    assert.equal(ingest.status, 0, ingest.stderr)
    const query = await cli(['query', '--resource-id', 'img-pw', '--format', 'json'], passwordEnv)
    assert.equal(query.status, 0, query.stderr)
    assert.equal((JSON.parse(query.stdout) as unknown[]).length, 1)

    const wrong = await cli(['query'], { ...passwordEnv, OPENCTS_PASSWORD: 'not-the-password' })
    assert.equal(wrong.status, 1)
    assert.match(
      wrong.stderr,
      /^error: IAM\.0062 .*\(HTTP 401\)\n {2}check the credentials \(user /,
    )
    assert.doesNotMatch(wrong.stderr, /not-the-password/)
  })

  it('exits 2 saying how to get credentials when there are none', async () => {
    const run = await cli(['query'], { ...env, OPENCTS_PROJECT_ID: project })
    assert.equal(run.status, 2)
    assert.match(run.stderr, /^opencts query: no credentials \(no credentials file found/)
    assert.match(
      run.stderr,
      /--credentials FILE[\s\S]*opencts admin credentials[\s\S]*OPENCTS_TOKEN/,
    )
  })

  it('exits 1 on a wrong secret key with the 401 and a hint, not printing the secret', async () => {
    const run = await cli(['query'], {
      ...env,
      OPENCTS_PROJECT_ID: project,
      OPENCTS_ACCESS_KEY: admin.access_key ?? '',
      OPENCTS_SECRET_KEY: 'WrongSecretKey0123456789',
    })
    assert.equal(run.status, 1)
    assert.equal(
      run.stderr,
      'error: APIG.0301 Incorrect IAM authentication information: verify aksk signature fail ' +
        '(HTTP 401)\n  check the credentials (access key ' +
        `${admin.access_key} from OPENCTS_ACCESS_KEY, secret key from OPENCTS_SECRET_KEY)\n`,
    )
  })

  it('opencts admin: a read-only user with its credentials can query, not ingest', async () => {
    const adminCli = (args: string[]): Promise<CliRun> =>
      cli(['admin', ...args, '--data-dir', dataDir], {})
    const account = admin.account ?? ''
    const made = await adminCli(['user', 'create', '--account', account, 'auditor'])
    assert.equal(made.status, 0, made.stderr)
    const grant = await adminCli([
      ...['grant', '--account', account, '--user', 'auditor'],
      ...['--policy', 'CTS ReadOnlyAccess', '--project', project],
    ])
    assert.equal(grant.status, 0, grant.stderr)
    const issued = await adminCli([
      ...['credentials', '--account', account, '--user', 'auditor', '--project', project],
      ...['--endpoint', server.url],
    ])
    assert.equal(issued.status, 0, issued.stderr)
    const file = join(dir, 'auditor.credentials')
    writeFileSync(file, issued.stdout, { mode: 0o600 })

    const query = await cli(['query', '--service-type', 'VPC', '--credentials', file], {})
    assert.equal(query.status, 0, query.stderr)
    assert.equal(query.stdout.trimEnd().split('\n').length, 1 + 3)

    const traces = join(dir, 'auditor.jsonl')
    writeFileSync(traces, JSON.stringify(IMS_TRACES[0]) + '\n')
    const ingest = await cli(['ingest', traces, '--credentials', file], {})
    assert.equal(ingest.status, 1)
    assert.match(
      ingest.stderr,
      /^error: CTS\.0013 .*\(HTTP 403\)\n {2}the credentials \(access key /,
    )
    assert.match(ingest.stderr, /stored before it: 0 traces in 0 batches\n$/)
  })
})

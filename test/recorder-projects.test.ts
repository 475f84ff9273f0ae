/**
 * The recorder reports each request's trace under the project the request names, not under the
 * producer's `-p` project, and never drops a batch OpenCTS refuses (issue 14, defect 9).
 *
 * A Glance-like upstream on loopback answers image creation and `updateMember` (the member project
 * accepting a shared image, the call of the issue). OpenCTS runs in-process on a real socket; the
 * producer is a user of its own with `CTS TraceReporter` granted on two projects only, reporting
 * with an AK/SK exactly as `opencts record` does. A third project, on which the producer has no
 * right, stands for a batch the server refuses for good.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, type TestContext } from 'node:test'
import { CtsClient, akskAuthorizer, passwordAuthorizer } from '../src/cli/http-client.js'
import { DEFAULT_IDENTITY_HEADERS } from '../src/recorder/capture.js'
import { GLANCE_MAP, IMS_MAP } from '../src/recorder/index.js'
import { RecorderProxy } from '../src/recorder/recorder-proxy.js'
import { TraceReporter, type RejectedBatch } from '../src/recorder/trace-reporter.js'
import { reportedTrace } from './helpers/make-trace.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'
import {
  ADMIN_AK,
  ADMIN_SK,
  TEST_PROJECTS,
  buildTestApp,
  call,
  type TestApp,
} from './helpers/test-app.js'

const OWNER = TEST_PROJECTS[0]
const MEMBER = TEST_PROJECTS[1]
/** A project of the same account on which the producer holds no policy. */
const STRANGER = 'cccccccccccccccccccccccccccccccc'
const PRODUCER_AK = 'RECORDERPRODUCERAK01'
const PRODUCER_SK = 'recorder-producer-secret-0123456789abcdef'
const IMAGE = 'b2173dd3-7ad6-4362-baa6-a68bce3565cb'

/** OpenCTS on a socket with a producer allowed to report into OWNER and MEMBER only. */
async function openCts(t: TestContext): Promise<TestApp & { url: string }> {
  const cts = await buildTestApp(t, {}, { projects: [STRANGER] })
  cts.clock.set(Date.now())
  const admin = cts.services.identity
  await admin.createUser({ account: 'test', name: 'recorder', password: 'recorder-password-1' })
  for (const project of [OWNER, MEMBER])
    await admin.grant({ account: 'test', user: 'recorder', policy: 'CTS TraceReporter', project })
  await admin.createAccessKey({
    account: 'test',
    user: 'recorder',
    accessKeyId: PRODUCER_AK,
    secretKey: PRODUCER_SK,
  })
  const url = await cts.app.listen({ port: 0, host: '127.0.0.1' })
  return { ...cts, url }
}

async function glance(t: TestContext): Promise<string> {
  const server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      }
      const member = /^\/v2\/images\/([^/]+)\/members\/([^/]+)$/.exec(req.url ?? '')
      if (req.method === 'POST' && req.url === '/v2/images') {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { name: string }
        json(201, { id: IMAGE, name: body.name, status: 'queued' })
      } else if (req.method === 'GET' && req.url === `/v2/images/${IMAGE}`) {
        json(200, { id: IMAGE, name: 'shared-image', status: 'active' })
      } else if (req.method === 'PUT' && member !== null) {
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { status: string }
        json(200, { image_id: member[1], member_id: member[2], status: body.status })
      } else res.writeHead(404).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function tracesOf(cts: TestApp, project: string, name: string): Promise<any[]> {
  const from = Date.now() - 600_000
  const to = Date.now() + 60_000
  const found = await call(
    cts.app,
    'GET',
    `/v3/${project}/traces?trace_name=${name}&from=${from}&to=${to}&limit=50`,
  )
  assert.equal(found.status, 200, JSON.stringify(found.body))
  return found.body.traces as any[]
}

/** Runs `opencts record -p OWNER` until `drive` is done; returns the run and the stats seen. */
async function record(
  cts: TestApp & { url: string },
  upstream: string,
  extra: readonly string[],
  drive: (proxy: string) => Promise<void>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  let stop: (signal: string) => void = () => undefined
  let proxyUrl: string | undefined
  const running = runCliInProcess(
    [
      'record',
      ...['--upstream', upstream, '--map', 'glance', '--listen', '127.0.0.1:0'],
      ...['-e', cts.url, '-p', OWNER, '--access-key', PRODUCER_AK],
      ...extra,
    ],
    {
      env: { OPENCTS_SECRET_KEY: PRODUCER_SK, HOME: '/nonexistent' },
      untilShutdown: () => new Promise((resolve) => (stop = resolve)),
      onStdout: (text) => {
        proxyUrl ??= /Recording (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1]
      },
    },
  )
  for (let i = 0; i < 200 && proxyUrl === undefined; i++) await sleep(10)
  assert.ok(proxyUrl, 'the proxy announces where it listens')
  try {
    await drive(proxyUrl)
  } finally {
    stop('SIGTERM')
  }
  return running
}

async function reporterStats(proxy: string): Promise<Record<string, number>> {
  const answer = (await (await fetch(`${proxy}/_opencts/recorder`)).json()) as {
    reporter: Record<string, number>
  }
  return answer.reporter
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await sleep(25)
  }
  assert.fail(`timed out waiting for ${what}`)
}

describe('opencts record reports each project under that project', () => {
  it('records the member accepting a shared image (updateMember) in the member project, not -p', async (t) => {
    const cts = await openCts(t)
    const upstream = await glance(t)
    const run = await record(cts, upstream, [], async (proxy) => {
      const created = await fetch(`${proxy}/v2/images`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-project-id': OWNER },
        body: JSON.stringify({ name: 'shared-image' }),
      })
      assert.equal(created.status, 201)
      const accepted = await fetch(`${proxy}/v2/images/${IMAGE}/members/${MEMBER}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          'x-project-id': MEMBER,
          'x-user-name': 'bob',
        },
        body: JSON.stringify({ status: 'accepted' }),
      })
      assert.equal(accepted.status, 200)
      await until(async () => (await reporterStats(proxy)).sent === 2, 'both traces sent')
      assert.equal((await reporterStats(proxy)).rejected, 0)
    })
    assert.equal(run.status, 0, run.stderr)
    assert.doesNotMatch(run.stderr, /refused|CTS\.0013/)
    const [update] = await tracesOf(cts, MEMBER, 'updateMember')
    assert.ok(update, 'the member project holds its updateMember trace')
    assert.equal(update.resource_id, IMAGE)
    assert.equal(update.user.name, 'bob')
    assert.equal((await tracesOf(cts, OWNER, 'updateMember')).length, 0)
    assert.equal((await tracesOf(cts, OWNER, 'createImage')).length, 1)
  })

  it('keeps a batch OpenCTS refuses in --dead-letter, counts and logs it; ingest replays it', async (t) => {
    const cts = await openCts(t)
    const upstream = await glance(t)
    const dir = join(mkdtempSync(join(tmpdir(), 'opencts-dead-letter-')), 'refused')
    let seen: Record<string, number> = {}
    const run = await record(cts, upstream, ['--dead-letter', dir], async (proxy) => {
      const refused = await fetch(`${proxy}/v2/images`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-project-id': STRANGER },
        body: JSON.stringify({ name: 'stranger-image' }),
      })
      assert.equal(refused.status, 201, 'the API answers as always')
      await until(async () => (await reporterStats(proxy)).rejected === 1, 'the refusal')
      seen = await reporterStats(proxy)
    })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(seen.rejected, 1)
    assert.equal(seen.deadLettered, 1)
    assert.equal(seen.sent, 0)
    assert.match(
      run.stderr,
      new RegExp(`refused 1 trace\\(s\\) of project ${STRANGER}: CTS\\.0013`),
    )
    assert.match(run.stderr, /traces not delivered: deadLettered 1/)
    const files = readdirSync(dir)
    assert.equal(files.length, 1)
    assert.ok(files[0]?.includes(STRANGER), 'the file names the project')
    const file = join(dir, files[0] ?? '')
    const kept = readFileSync(file, 'utf8').trim().split('\n')
    assert.equal(kept.length, 1)
    assert.equal(
      (JSON.parse(kept[0] ?? '{}') as { resource_name: string }).resource_name,
      'stranger-image',
    )
    assert.equal((await tracesOf(cts, STRANGER, 'createImage')).length, 0)

    // The operator replays the file with a credential allowed in that project.
    const replay = await runCliInProcess(
      ['ingest', file, '-e', cts.url, '-p', STRANGER, '--access-key', ADMIN_AK],
      { env: { OPENCTS_SECRET_KEY: ADMIN_SK, HOME: '/nonexistent' } },
    )
    assert.equal(replay.status, 0, replay.stderr)
    const [landed] = await tracesOf(cts, STRANGER, 'createImage')
    assert.equal(landed?.resource_name, 'stranger-image')
  })
})

describe('the trace reporter with a real OpenCTS', () => {
  it('holds a refused batch in memory, counts and reports it, and delivers it once allowed', async (t) => {
    const cts = await openCts(t)
    // The sender `opencts record` builds: one client, signed with the producer's AK/SK, -p OWNER.
    const client = new CtsClient(
      new URL(cts.url),
      akskAuthorizer({
        accessKeyId: PRODUCER_AK,
        secretKey: PRODUCER_SK,
        projectId: OWNER,
        description: 'test producer',
        now: () => Date.now(),
      }),
    )
    const rejected: RejectedBatch[] = []
    const reporter = new TraceReporter({
      sender: {
        send: async (projectId, traces) => {
          await client.postTraces(projectId, JSON.stringify({ traces }))
        },
      },
      isPermanent: (error) => (error as { status?: number }).status === 403,
      flushMs: 10,
      heldRetryMs: 50,
      onRejected: (batch) => rejected.push(batch),
    })
    t.after(() => reporter.close(1000))
    const trace = reportedTrace({ time: Date.now() - 1000, trace_name: 'heldTrace' })
    reporter.enqueue(STRANGER, [trace])
    reporter.enqueue(MEMBER, [reportedTrace({ time: Date.now() - 1000, trace_name: 'okTrace' })])
    await until(() => Promise.resolve(reporter.stats().rejected === 1), 'the refusal')
    await until(() => Promise.resolve(reporter.stats().sent === 1), 'the other project')
    assert.deepEqual(
      rejected.map((r) => [r.projectId, r.count, r.kept]),
      [[STRANGER, 1, 'held']],
    )
    assert.equal(reporter.stats().held, 1)
    assert.equal((await tracesOf(cts, MEMBER, 'okTrace')).length, 1, 'other batches go on')

    await cts.services.identity.grant({
      account: 'test',
      user: 'recorder',
      policy: 'CTS TraceReporter',
      project: STRANGER,
    })
    await until(() => Promise.resolve(reporter.stats().sent === 2), 'the held batch')
    assert.equal(reporter.stats().held, 0)
    assert.equal((await tracesOf(cts, STRANGER, 'heldTrace')).length, 1)
  })

  it('counts what neither the held store nor a dead letter can take; nothing vanishes', async () => {
    const refusal = Object.assign(new Error('CTS.0013 No permission'), { status: 403 })
    const reporter = new TraceReporter({
      sender: { send: () => Promise.reject(refusal) },
      isPermanent: () => true,
      flushMs: 1,
      batchSize: 2,
      maxHeld: 2,
      heldRetryMs: 60_000,
    })
    reporter.enqueue(OWNER, [{ a: 1 }, { a: 2 }, { a: 3 }])
    await until(() => Promise.resolve(reporter.stats().rejected === 3), 'both refusals')
    await reporter.close(100)
    const s = reporter.stats()
    assert.deepEqual([s.rejected, s.held, s.droppedHeldFull, s.unsentAtClose], [3, 0, 1, 2])
  })
})

describe("the CLI client acts on each request's project", () => {
  it('signs in per project with a password, so one client reports into several projects', async (t) => {
    const cts = await openCts(t)
    const client = new CtsClient(
      new URL(cts.url),
      passwordAuthorizer({
        endpoint: new URL(cts.url),
        account: 'test',
        user: 'recorder',
        password: 'recorder-password-1',
        projectId: OWNER,
        description: 'test producer password',
      }),
    )
    for (const project of [OWNER, MEMBER]) {
      const trace = reportedTrace({ time: Date.now() - 1000, trace_name: 'passwordTrace' })
      await client.postTraces(project, JSON.stringify({ traces: [trace] }))
      assert.equal((await tracesOf(cts, project, 'passwordTrace')).length, 1, project)
    }
  })
})

describe('the proxy never skips a call silently', () => {
  it('counts and reports a call it cannot record (no project) and a job whose end it never saw', async (t) => {
    // An upstream that creates images as a job that never ends, and images the Glance way.
    const upstream = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        if (req.url === '/v2/cloudimages/action')
          res.end(JSON.stringify({ job_id: 'ff80808288d41e1b018a0000aa000002' }))
        else if (req.url?.startsWith('/v1/') === true) res.end('{"status":"RUNNING"}')
        else res.end(JSON.stringify({ id: IMAGE, name: 'x' }))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => upstream.close(resolve)))
    const reported: [string, number][] = []
    const errors: string[] = []
    const proxy = new RecorderProxy({
      upstream: new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`),
      maps: [IMS_MAP, GLANCE_MAP],
      reporter: {
        enqueue: (p, traces) => void reported.push([p, traces.length]),
        stats: () => ({}),
      },
      identityHeaders: DEFAULT_IDENTITY_HEADERS,
      catchAll: null,
      jobPollMs: 5,
      jobMaxMs: 30,
      onError: (error) => errors.push(String(error)),
    })
    const server = createServer(proxy.handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => server.close(resolve)))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const post = (path: string, headers: Record<string, string>): Promise<Response> =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"name":"img"}',
      })
    assert.equal((await post('/v2/images', {})).status, 200, 'proxied as always')
    assert.equal((await post('/v2/cloudimages/action', { 'x-project-id': OWNER })).status, 200)
    const counts = (): Record<string, number> => proxy.stats() as Record<string, number>
    await until(() => Promise.resolve(counts().jobsUnfinished === 1), 'the job deadline')
    assert.equal(counts().unrecordedNoProject, 1)
    assert.deepEqual(reported, [[OWNER, 1]], 'the job call itself is recorded')
    assert.ok(errors.some((e) => /POST \/v2\/images not recorded: no project/.test(e)))
    assert.ok(errors.some((e) => /did not end in time/.test(e)))
    proxy.close()
  })
})

/**
 * Log streams (the LTS equivalent) end to end against real receivers on 127.0.0.1 started here: an
 * OTLP/HTTP logs receiver (`node:http`), syslog receivers over TCP (octet counting) and UDP that
 * parse RFC 5424 independently, and a JSON-lines file read back with `node:fs`. Checks the wire
 * formats, at-least-once delivery in commit order across receiver failures (HTTP 500, a TCP
 * connection reset in the middle of a batch, a receiver that never confirms), sink independence,
 * restarts, tracker selection (LTS off, disabled), the early wake-up after commits, configuration
 * and the running server.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, renameSync, statSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { ConfigError, DEFAULTS, loadConfig } from '../src/config/config.js'
import { createLogSinks, createLogStreams } from '../src/delivery/log-streams/create-log-streams.js'
import { JsonLinesFileSink } from '../src/delivery/log-streams/file/json-lines-file-sink.js'
import type { LogSink } from '../src/delivery/log-streams/log-sink.js'
import {
  LogStreamService,
  type LogStreamOutcome,
} from '../src/delivery/log-streams/log-stream-service.js'
import { OtlpHttpSink } from '../src/delivery/log-streams/otlp/otlp-http-sink.js'
import { SD_ID, type SyslogHeader } from '../src/delivery/log-streams/syslog-message.js'
import { TcpSyslogSink } from '../src/delivery/log-streams/syslog/tcp-syslog-sink.js'
import { UdpSyslogSink } from '../src/delivery/log-streams/syslog/udp-syslog-sink.js'
import { Publisher } from '../src/ingest/index.js'
import { toFileTrace, type TraceRecord, type Tracker } from '../src/model/index.js'
import { FakeClock } from '../src/platform/clock.js'
import { startServer } from '../src/server.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { makeTrace } from './helpers/make-trace.js'
import { ADMIN_ENV, adminProject, signedFetch } from './helpers/server-process.js'
import {
  startTcpSyslogReceiver,
  startUdpSyslogReceiver,
  type ParsedSyslog,
  type TcpReceiverOptions,
} from './helpers/syslog-receiver.js'

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0)
const P1 = '0123456789abcdef0123456789abcdef'
const P2 = 'fedcba9876543210fedcba9876543210'
const INTERVAL_MS = 1000
const HEADER: SyslogHeader = {
  facility: 16,
  hostname: 'opencts-test',
  appName: 'opencts',
  procId: '7',
}

/** Polls `condition` every 10 ms for at most `ms`. */
async function waitFor(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

interface Harness {
  readonly store: SqliteStore
  readonly clock: FakeClock
  readonly publisher: Publisher
  readonly service: LogStreamService
  readonly outcomes: [string, LogStreamOutcome, number][]
  readonly errors: [unknown, string | null][]
  tracker(project: string, name: string, lts?: boolean): Promise<Tracker>
  /** Commits traces (in this order) and tells the publisher, as the ingestor does. */
  commit(traces: TraceRecord[]): Promise<void>
  /** A new service over the same store (a restart), with new sinks. */
  restart(sinks: LogSink[]): LogStreamService
}

async function harness(
  t: TestContext,
  sinks: LogSink[],
  options: { batchSize?: number; intervalMs?: number } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-logstream-db-'))
  const store = openSqliteStore({ path: join(dir, 'opencts.db') })
  const clock = new FakeClock(NOW)
  const publisher = new Publisher()
  const outcomes: [string, LogStreamOutcome, number][] = []
  const errors: [unknown, string | null][] = []
  const make = (list: LogSink[]): LogStreamService => {
    const service = new LogStreamService({
      traces: store.traces,
      cursors: store.delivery,
      trackers: store.config,
      sinks: list,
      clock,
      intervalMs: options.intervalMs ?? INTERVAL_MS,
      publisher,
      onOutcome: (sink, outcome, count) => outcomes.push([sink, outcome, count]),
      onError: (error, sink) => errors.push([error, sink]),
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    })
    t.after(() => service.stop())
    return service
  }
  const service = make(sinks)
  t.after(() => store.close())
  return {
    store,
    clock,
    publisher,
    service,
    outcomes,
    errors,
    async tracker(project, name, lts = true) {
      const base = newTracker({
        id: randomBytes(16).toString('hex'),
        now: NOW - 60_000,
        projectId: project,
        domainId: 'd1',
        type: name === 'system' ? 'system' : 'data',
        name,
      })
      const tracker: Tracker = { ...base, lts: { ...base.lts, is_lts_enabled: lts } }
      await store.config.insertTracker(tracker, [])
      return tracker
    },
    async commit(traces) {
      await store.traces.append(traces)
      publisher.publish(traces)
    },
    restart: make,
  }
}

function traces(count: number, patch: Partial<TraceRecord> = {}): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({ project_id: P1, time: NOW - 10_000 + i, record_time: NOW - 9_000 + i, ...patch }),
  )
}

const ids = (list: readonly TraceRecord[]): string[] => list.map((t) => t.trace_id)

// ---- OTLP/HTTP receiver ----

interface OtlpRequest {
  readonly method: string
  readonly url: string
  readonly contentType: string
  readonly body: any
  readonly status: number
}

interface OtlpReceiver {
  readonly url: string
  readonly requests: OtlpRequest[]
  /** Statuses of the next answers, in order; 200 when empty. */
  readonly statuses: number[]
}

async function startOtlpReceiver(t: TestContext, path = '/v1/logs'): Promise<OtlpReceiver> {
  const requests: OtlpRequest[] = []
  const statuses: number[] = []
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const status = statuses.shift() ?? 200
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
        status,
      })
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(status === 200 ? '{}' : '{"message":"try again"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}${path === '/v1/logs' ? '' : path}`, requests, statuses }
}

/** The trace ids of a request's log records, in body order. */
function otlpTraceIds(request: OtlpRequest): string[] {
  return request.body.resourceLogs.flatMap((rl: any) =>
    rl.scopeLogs.flatMap((sl: any) =>
      sl.logRecords.map(
        (lr: any) => lr.attributes.find((a: any) => a.key === 'cts.trace_id').value.stringValue,
      ),
    ),
  )
}

const accepted = (receiver: OtlpReceiver): string[] =>
  receiver.requests.filter((r) => r.status === 200).flatMap(otlpTraceIds)

const attrs = (list: any[]): Record<string, string> =>
  Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]))

describe('OTLP/HTTP logs', () => {
  it('posts the JSON encoding: resource per tracker, records with times, severity, body, attributes', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const h = await harness(t, [new OtlpHttpSink({ url: receiver.url })])
    await h.tracker(P1, 'system')
    await h.tracker(P1, 'dt')
    // Committed before the sink's first cycle: a new sink starts at the head, so never streamed.
    await h.commit(traces(2))
    await h.service.runCycle()
    const [normal, warning, incident] = traces(3)
    assert.ok(normal && warning && incident)
    warning.trace_rating = 'warning'
    incident.trace_rating = 'incident'
    const data = makeTrace({
      project_id: P1,
      trace_type: 'ObsSDK',
      event_type: 'data',
      tracker_name: 'dt',
    })
    const otherProject = makeTrace({ project_id: P2 })
    await h.commit([normal, data, warning, otherProject, incident])
    const [report] = await h.service.runCycle()
    assert.deepEqual(report, { sink: 'otlp', sent: 4, deferred: false })

    assert.equal(receiver.requests.length, 1)
    const [request] = receiver.requests
    assert.ok(request)
    assert.equal(request.method, 'POST')
    assert.equal(request.url, '/v1/logs')
    assert.equal(request.contentType, 'application/json')
    const [system, dt] = request.body.resourceLogs
    assert.equal(request.body.resourceLogs.length, 2)
    assert.deepEqual(attrs(system.resource.attributes), {
      'service.name': 'opencts',
      'cts.project_id': P1,
      'cts.tracker_name': 'system',
      'cts.log_group_name': 'CTS',
      'cts.log_topic_name': 'system-trace',
    })
    assert.equal(attrs(dt.resource.attributes)['cts.tracker_name'], 'dt')
    assert.equal(system.scopeLogs[0].scope.name, 'opencts')
    const records = system.scopeLogs[0].logRecords
    assert.deepEqual(
      records.map((r: any) => [r.severityNumber, r.severityText]),
      [
        [9, 'INFO'],
        [13, 'WARN'],
        [17, 'ERROR'],
      ],
    )
    const first = records[0]
    assert.equal(first.timeUnixNano, `${normal.time}000000`)
    assert.equal(first.observedTimeUnixNano, `${normal.record_time}000000`)
    assert.deepEqual(JSON.parse(first.body.stringValue), toFileTrace(normal))
    const a = attrs(first.attributes)
    assert.equal(a['cts.trace_id'], normal.trace_id)
    assert.equal(a['cts.trace_name'], 'createImage')
    assert.equal(a['cts.service_type'], 'IMS')
    assert.equal(a['cts.resource_type'], 'image')
    assert.equal(a['cts.resource_id'], 'img-1')
    assert.equal(a['cts.user'], 'alice')
    assert.equal(a['cts.code'], '201')
    assert.deepEqual(otlpTraceIds(request), ids([normal, warning, incident, data]))
    assert.deepEqual(h.outcomes, [['otlp', 'sent', 4]])
  })

  it('uses an exact logs URL as given', async (t) => {
    const receiver = await startOtlpReceiver(t, '/otlp/v1/logs')
    const h = await harness(t, [new OtlpHttpSink({ url: receiver.url })])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    await h.commit(traces(1))
    await h.service.runCycle()
    assert.equal(receiver.requests[0]?.url, '/otlp/v1/logs')
  })

  it('keeps a cursor set on an empty store across a restart: what failed meanwhile still goes', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const h = await harness(t, [new OtlpHttpSink({ url: receiver.url })])
    await h.tracker(P1, 'system')
    await h.service.runCycle() // a fresh install: the store is empty, the cursor is set to 0
    assert.equal(await h.store.delivery.getCursor('log-stream:otlp'), 0)
    const all = traces(3)
    receiver.statuses.push(500)
    await h.commit(all)
    const [failed] = await h.service.runCycle()
    assert.ok(failed?.error, 'the receiver refused the batch')
    await h.service.stop()
    const again = h.restart([new OtlpHttpSink({ url: receiver.url })])
    await again.runCycle()
    assert.deepEqual(accepted(receiver), ids(all), 'not skipped by a jump to the head')
  })

  it('retries after a 500 with the same batch: no loss, no reordering, nothing skipped', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const h = await harness(t, [new OtlpHttpSink({ url: receiver.url })], { batchSize: 3 })
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(8)
    await h.commit(all.slice(0, 7))
    receiver.statuses.push(200, 500)
    const [failed] = await h.service.runCycle()
    assert.equal(failed?.sent, 3)
    assert.ok(failed?.error instanceof Error)
    assert.match(failed.error.message, /HTTP 500/)
    assert.equal(h.errors[0]?.[1], 'otlp')
    // The failed batch was the second one; the cycle stopped there.
    assert.deepEqual(receiver.requests.map(otlpTraceIds), [
      ids(all.slice(0, 3)),
      ids(all.slice(3, 6)),
    ])

    // A commit during the backoff wakes nothing up for this sink: it waits one interval.
    await h.commit(all.slice(7))
    const [waiting] = await h.service.runCycle()
    assert.deepEqual(waiting, { sink: 'otlp', sent: 0, deferred: true })
    assert.equal(receiver.requests.length, 2)

    h.clock.advance(INTERVAL_MS)
    const [retried] = await h.service.runCycle()
    assert.deepEqual(retried, { sink: 'otlp', sent: 5, deferred: false })
    assert.deepEqual(accepted(receiver), ids(all))
    assert.deepEqual(otlpTraceIds(receiver.requests[2] as OtlpRequest), ids(all.slice(3, 6)))
    assert.deepEqual(h.outcomes, [
      ['otlp', 'sent', 3],
      ['otlp', 'failed', 3],
      ['otlp', 'sent', 3],
      ['otlp', 'sent', 2],
    ])
  })

  it('backs off longer after each failure, capped, and starts over after a success', async (t) => {
    const receiver = await startOtlpReceiver(t)
    const h = await harness(t, [new OtlpHttpSink({ url: receiver.url })])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    await h.commit(traces(1))
    receiver.statuses.push(500, 500, 500)
    for (const wait of [INTERVAL_MS, 2 * INTERVAL_MS, 4 * INTERVAL_MS]) {
      const [report] = await h.service.runCycle()
      assert.ok(report?.error !== undefined)
      h.clock.advance(wait - 1)
      assert.equal((await h.service.runCycle())[0]?.deferred, true, `still waiting ${wait} ms`)
      h.clock.advance(1)
    }
    assert.equal((await h.service.runCycle())[0]?.sent, 1)
    assert.equal(receiver.requests.length, 4)
  })
})

// ---- syslog ----

function checkMessage(
  message: ParsedSyslog,
  trace: TraceRecord,
  severity: number,
  msgId = trace.trace_name,
): void {
  assert.equal(message.pri, 16 * 8 + severity)
  assert.equal(message.version, 1)
  assert.equal(message.timestamp, new Date(trace.time).toISOString())
  assert.equal(message.hostname, 'opencts-test')
  assert.equal(message.appName, 'opencts')
  assert.equal(message.msgId, msgId)
  assert.equal(message.sd[0]?.id, SD_ID)
  assert.equal(message.sd[0]?.params.trace_id, trace.trace_id)
  assert.equal(message.bom, true)
  assert.deepEqual(JSON.parse(message.msg ?? ''), toFileTrace(trace))
}

const syslogIds = (messages: readonly ParsedSyslog[]): string[] =>
  messages.map((m) => m.sd[0]?.params.trace_id ?? '')

/** Ids in order of first arrival (duplicates from a resend dropped). */
const firstSeen = (list: readonly string[]): string[] => [...new Set(list)]

async function tcpReceiver(t: TestContext, options: TcpReceiverOptions = {}) {
  const receiver = await startTcpSyslogReceiver(options)
  t.after(() => receiver.close())
  return receiver
}

describe('syslog over TCP', () => {
  it('sends octet-counted RFC 5424 messages: PRI, version, MSGID, escaped SD, BOM + JSON', async (t) => {
    const receiver = await tcpReceiver(t)
    const sink = new TcpSyslogSink({ host: '127.0.0.1', port: receiver.port, header: HEADER })
    const h = await harness(t, [sink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const list = traces(3)
    const [normal, warning, incident] = list
    assert.ok(normal && warning && incident)
    normal.resource_name = 'web "blue" \\ [prod]'
    normal.trace_name = 'deleteServerWithAVeryLongOperationNameBeyond32'
    warning.trace_rating = 'warning'
    incident.trace_rating = 'incident'
    await h.commit(list)
    const [report] = await h.service.runCycle()
    assert.deepEqual(report, { sink: 'syslog', sent: 3, deferred: false })
    // Resolved only after the receiver closed: everything is there already.
    assert.equal(receiver.messages.length, 3)
    const [m1, m2, m3] = receiver.messages
    assert.ok(m1 && m2 && m3)
    checkMessage(m1, normal, 6, 'deleteServerWithAVeryLongOperati')
    assert.equal(m1.sd[0]?.params.resource_name, 'web "blue" \\ [prod]')
    assert.equal(m1.sd[0]?.params.project_id, P1)
    assert.equal(m1.sd[0]?.params.tracker_name, 'system')
    checkMessage(m2, warning, 4)
    checkMessage(m3, incident, 3)
  })

  it('resends the whole batch on a new connection when the receiver resets mid-batch', async (t) => {
    // The batch is tiny: the kernel takes it at once, so only the missing close can tell.
    const receiver = await tcpReceiver(t, {
      onFrame: (connection, count) => (connection === 0 && count === 2 ? 'destroy' : 'keep'),
    })
    const sink = new TcpSyslogSink({ host: '127.0.0.1', port: receiver.port, header: HEADER })
    const h = await harness(t, [sink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(3)
    await h.commit(all)
    const [failed] = await h.service.runCycle()
    assert.ok(failed?.error instanceof Error, 'the reset fails the batch')
    assert.equal(receiver.messages.length, 2)
    h.clock.advance(INTERVAL_MS)
    const [report] = await h.service.runCycle()
    assert.deepEqual(report, { sink: 'syslog', sent: 3, deferred: false })
    assert.deepEqual(firstSeen(syslogIds(receiver.messages)), ids(all))
    assert.deepEqual(syslogIds(receiver.messages.slice(2)), ids(all))
    assert.equal(receiver.connections(), 2)
    assert.deepEqual(h.outcomes, [
      ['syslog', 'failed', 3],
      ['syslog', 'sent', 3],
    ])
  })

  it('uses one connection per batch, and fails a batch the receiver never confirms by closing', async (t) => {
    const receiver = await tcpReceiver(t, { closeOnEnd: false })
    const sink = new TcpSyslogSink({
      host: '127.0.0.1',
      port: receiver.port,
      header: HEADER,
      timeoutMs: 300,
    })
    const h = await harness(t, [sink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    await h.commit(traces(2))
    const [report] = await h.service.runCycle()
    assert.match(String(report?.error), /did not close the connection within 300 ms/)
    assert.equal(receiver.messages.length, 2, 'received, but never confirmed: sent again later')
    assert.equal(await h.store.delivery.getCursor('log-stream:syslog'), 0)
  })

  it('fails (and retries) while nothing listens', async (t) => {
    const receiver = await tcpReceiver(t)
    const port = receiver.port
    await receiver.close()
    const sink = new TcpSyslogSink({ host: '127.0.0.1', port, header: HEADER })
    const h = await harness(t, [sink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    await h.commit(traces(1))
    const [report] = await h.service.runCycle()
    assert.match(String(report?.error), /tcp:\/\/127\.0\.0\.1:\d+: connect failed: .*ECONNREFUSED/)
  })
})

describe('syslog over UDP', () => {
  it('sends one datagram per record and reduces records above 8 KB', async (t) => {
    const receiver = await startUdpSyslogReceiver()
    t.after(() => receiver.close())
    const sink = new UdpSyslogSink({ host: '127.0.0.1', port: receiver.port, header: HEADER })
    const h = await harness(t, [sink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const list = traces(3)
    const [normal, big, incident] = list
    assert.ok(normal && big && incident)
    big.request = 'q'.repeat(20_000)
    big.trace_rating = 'warning'
    incident.trace_rating = 'incident'
    await h.commit(list)
    await h.service.runCycle()
    await waitFor(() => receiver.messages.length === 3, '3 datagrams')
    const byId = new Map(receiver.messages.map((m) => [m.sd[0]?.params.trace_id, m]))
    checkMessage(byId.get(normal.trace_id) as ParsedSyslog, normal, 6)
    checkMessage(byId.get(incident.trace_id) as ParsedSyslog, incident, 3)
    const reduced = byId.get(big.trace_id) as ParsedSyslog
    assert.ok(reduced.bytes <= 8192)
    assert.equal(reduced.severity, 4)
    assert.equal(reduced.sd[0]?.params.truncated, 'request,response')
    const rest = toFileTrace(big)
    delete rest.request
    delete rest.response
    assert.deepEqual(JSON.parse(reduced.msg ?? ''), rest)
    assert.equal(sink.reduced, 1)
  })
})

// ---- JSON lines file ----

function fileLines(path: string): any[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line))
}

describe('JSON lines file', () => {
  it('appends one file-representation trace per line, in commit order, mode 0640', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-file-')), 'sub', 'cts.jsonl')
    const h = await harness(t, [new JsonLinesFileSink({ path })], { batchSize: 2 })
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(5)
    await h.commit(all.slice(0, 3))
    await h.service.runCycle()
    await h.commit(all.slice(3))
    await h.service.runCycle()
    assert.deepEqual(fileLines(path), all.map(toFileTrace))
    assert.equal(statSync(path).mode & 0o777 & ~0o640, 0, 'no permission beyond 0640')
    assert.equal(statSync(path).mode & 0o600, 0o600)
  })

  it('writes the configured record format: one OCSF event per line, in commit order', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-file-')), 'cts.ocsf.jsonl')
    const [sink] = createLogSinks(
      loadConfig({ OPENCTS_LOG_STREAM_FILE: path, OPENCTS_LOG_STREAM_FORMAT: 'ocsf' }),
    )
    const h = await harness(t, [sink as LogSink])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(3)
    await h.commit(all)
    await h.service.runCycle()
    assert.deepEqual(
      fileLines(path).map((e) => [e.class_uid, e.metadata.uid, e.metadata.tenant_uid]),
      all.map((trace) => [6003, trace.trace_id, P1]),
    )
  })

  it('opens a new file at the path after a rotation by rename', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-logstream-file-'))
    const path = join(dir, 'cts.jsonl')
    const h = await harness(t, [new JsonLinesFileSink({ path })])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(4)
    await h.commit(all.slice(0, 2))
    await h.service.runCycle()
    renameSync(path, `${path}.1`)
    await h.commit(all.slice(2))
    await h.service.runCycle()
    assert.deepEqual(fileLines(`${path}.1`), all.slice(0, 2).map(toFileTrace))
    assert.deepEqual(fileLines(path), all.slice(2).map(toFileTrace))
  })

  it('continues from its durable cursor after a restart: no gap, no repeat', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-file-')), 'cts.jsonl')
    const h = await harness(t, [new JsonLinesFileSink({ path })])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(5)
    await h.commit(all.slice(0, 3))
    await h.service.runCycle()
    await h.service.stop()
    await h.commit(all.slice(3)) // while the server is down
    const again = h.restart([new JsonLinesFileSink({ path })])
    await again.runCycle()
    assert.deepEqual(fileLines(path), all.map(toFileTrace))
    assert.equal(
      await h.store.delivery.getCursor('log-stream:file'),
      await h.store.traces.headSeq(),
    )
  })
})

// ---- selection, independence, wake-up ----

describe('log streaming', () => {
  it('streams only trackers with LTS on; a disabled tracker stops, and what it missed stays missed', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-sel-')), 'cts.jsonl')
    const h = await harness(t, [new JsonLinesFileSink({ path })])
    const system = await h.tracker(P1, 'system')
    await h.tracker(P1, 'dt', false)
    await h.tracker(P2, 'system', false)
    await h.service.runCycle()
    const mine = traces(2)
    const data = traces(1, { trace_type: 'ObsSDK', event_type: 'data', tracker_name: 'dt' })
    const other = traces(1, { project_id: P2 })
    await h.commit([...mine, ...data, ...other])
    await h.service.runCycle()
    assert.deepEqual(fileLines(path), mine.map(toFileTrace))

    await h.store.config.updateTracker({ ...system, status: 'disabled' }, [])
    const whileDisabled = traces(2)
    await h.commit(whileDisabled)
    await h.service.runCycle()
    assert.equal(fileLines(path).length, 2)

    await h.store.config.updateTracker({ ...system, status: 'enabled' }, [])
    const after = traces(1)
    await h.commit(after)
    await h.service.runCycle()
    assert.deepEqual(fileLines(path), [...mine, ...after].map(toFileTrace))
  })

  it('keeps streaming to the other sinks while one fails', async (t) => {
    const receiver = await startOtlpReceiver(t)
    receiver.statuses.push(500, 500)
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-ind-')), 'cts.jsonl')
    const h = await harness(t, [
      new OtlpHttpSink({ url: receiver.url }),
      new JsonLinesFileSink({ path }),
    ])
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    const all = traces(3)
    await h.commit(all)
    const reports = await h.service.runCycle()
    assert.ok(reports[0]?.error !== undefined)
    assert.deepEqual(reports[1], { sink: 'file', sent: 3, deferred: false })
    assert.deepEqual(fileLines(path), all.map(toFileTrace))
    h.clock.advance(INTERVAL_MS)
    await h.service.runCycle()
    h.clock.advance(2 * INTERVAL_MS)
    await h.service.runCycle()
    assert.deepEqual(accepted(receiver), ids(all))
    assert.equal(fileLines(path).length, 3)
  })

  it('wakes up right after a commit instead of waiting for the interval', async (t) => {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-logstream-wake-')), 'cts.jsonl')
    const h = await harness(t, [new JsonLinesFileSink({ path })], { intervalMs: 600_000 })
    await h.tracker(P1, 'system')
    await h.service.runCycle()
    h.service.start()
    const all = traces(2)
    await h.commit(all)
    await waitFor(() => {
      try {
        return fileLines(path).length === 2
      } catch {
        return false
      }
    }, 'the lines')
    assert.deepEqual(fileLines(path), all.map(toFileTrace))
    await h.service.stop()
  })
})

// ---- configuration and server ----

describe('configuration', () => {
  it('reads OPENCTS_LOG_STREAM_* with defaults, and rejects bad values naming the setting', () => {
    const config = loadConfig({
      OPENCTS_LOG_STREAM_OTLP_URL: 'http://127.0.0.1:4318',
      OPENCTS_LOG_STREAM_SYSLOG: 'udp://127.0.0.1:514?facility=local3',
      OPENCTS_LOG_STREAM_FILE: 'relative/cts.jsonl',
    })
    assert.equal(config.logStreamOtlpUrl, 'http://127.0.0.1:4318')
    assert.equal(config.logStreamSyslog, 'udp://127.0.0.1:514?facility=local3')
    assert.ok(config.logStreamFile.startsWith('/') && config.logStreamFile.endsWith('cts.jsonl'))
    assert.equal(config.logStreamIntervalMs, 1000)
    assert.equal(loadConfig({}).logStreamFile, '')
    assert.equal(loadConfig({ OPENCTS_LOG_STREAM_INTERVAL_MS: '250' }).logStreamIntervalMs, 250)
    assert.equal(config.logStreamFormat, 'cts')
    assert.equal(loadConfig({ OPENCTS_LOG_STREAM_FORMAT: 'ocsf' }).logStreamFormat, 'ocsf')
    for (const [name, value, key] of [
      ['OPENCTS_LOG_STREAM_OTLP_URL', 'ftp://x', 'logStreamOtlpUrl'],
      ['OPENCTS_LOG_STREAM_SYSLOG', 'tcp://h', 'logStreamSyslog'],
      ['OPENCTS_LOG_STREAM_SYSLOG', 'tls://h:6514', 'logStreamSyslog'],
      ['OPENCTS_LOG_STREAM_SYSLOG', 'udp://h:514?facility=local9', 'logStreamSyslog'],
      ['OPENCTS_LOG_STREAM_INTERVAL_MS', '10', 'logStreamIntervalMs'],
      ['OPENCTS_LOG_STREAM_FORMAT', 'csv', 'logStreamFormat'],
      ['OPENCTS_LOG_STREAM_FORMAT', 'xml', 'logStreamFormat'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (error: Error) => error instanceof ConfigError && error.message.startsWith(key),
        `${name}=${value}`,
      )
    }
  })

  it('builds one sink per configured destination, none by default', () => {
    assert.equal(createLogStreams(DEFAULTS, { store: {} as never, clock: new FakeClock(0) }), null)
    const sinks = createLogSinks(
      loadConfig({
        OPENCTS_LOG_STREAM_OTLP_URL: 'http://127.0.0.1:4318',
        OPENCTS_LOG_STREAM_SYSLOG: 'tcp://127.0.0.1:514',
        OPENCTS_LOG_STREAM_FILE: '/tmp/x.jsonl',
      }),
    )
    assert.deepEqual(
      sinks.map((s) => [s.name, s.constructor.name]),
      [
        ['otlp', 'OtlpHttpSink'],
        ['syslog', 'TcpSyslogSink'],
        ['file', 'JsonLinesFileSink'],
      ],
    )
    assert.equal(
      createLogSinks(loadConfig({ OPENCTS_LOG_STREAM_SYSLOG: 'udp://127.0.0.1:514' }))[0]
        ?.constructor.name,
      'UdpSyslogSink',
    )
  })

  it('streams from a running server once the management tracker enables LTS', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-logstream-server-'))
    const path = join(dir, 'cts.jsonl')
    const receiver = await startOtlpReceiver(t)
    const server = await startServer(
      loadConfig(
        {
          ...ADMIN_ENV,
          OPENCTS_LOG_STREAM_FILE: path,
          OPENCTS_LOG_STREAM_OTLP_URL: receiver.url,
          OPENCTS_LOG_STREAM_INTERVAL_MS: '200',
        },
        { dataDir: dir, port: '0', logLevel: 'silent' },
      ),
    )
    t.after(() => server.close())
    const project = adminProject(dir)
    const body = JSON.stringify({
      tracker_type: 'system',
      tracker_name: 'system',
      is_lts_enabled: true,
    })
    let response = await signedFetch(`${server.url}/v3/${project}/tracker`, {
      method: 'POST',
      body,
    })
    if (response.status === 400)
      response = await signedFetch(`${server.url}/v3/${project}/tracker`, { method: 'PUT', body })
    assert.ok(response.status === 200 || response.status === 201, `tracker: ${response.status}`)
    const reported = await signedFetch(`${server.url}/v3/${project}/traces`, {
      method: 'POST',
      body: JSON.stringify({
        traces: [
          {
            time: Date.now() - 1000,
            service_type: 'ECS',
            resource_type: 'ecs',
            resource_id: 'vm-1',
            trace_name: 'createServer',
            trace_type: 'ApiCall',
            code: 200,
          },
        ],
      }),
    })
    assert.equal(reported.status, 201, await reported.clone().text())
    const [traceId] = ((await reported.json()) as { trace_ids: string[] }).trace_ids
    const streamed = (): any[] => {
      try {
        return fileLines(path)
      } catch {
        return []
      }
    }
    await waitFor(
      () => streamed().some((line) => line.trace_id === traceId),
      'the file line',
      10_000,
    )
    await waitFor(() => accepted(receiver).includes(traceId ?? ''), 'the OTLP record', 10_000)
    const line = streamed().find((l) => l.trace_id === traceId)
    assert.equal(line.project_id, project)
    assert.equal(line.trace_name, 'createServer')
    const metrics = await server.services.metrics.render()
    assert.match(metrics, /opencts_log_stream_records_total\{sink="file",outcome="sent"\} [1-9]/)
    assert.match(metrics, /opencts_log_stream_records_total\{sink="otlp",outcome="sent"\} [1-9]/)
  })
})

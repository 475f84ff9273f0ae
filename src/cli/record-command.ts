/**
 * @module cli/record-command
 * `opencts record --upstream URL --map ims,glance --listen HOST:PORT`: a reverse proxy in front of
 * an HTTP API that records its calls as traces (recorder/recorder-proxy.ts) and reports them to an
 * OpenCTS server with the producer credential of `ingest` (flags, environment, credentials file;
 * `CTS TraceReporter` is the policy to give it). `--map` takes built-in map names and JSON map
 * files. Runs until SIGINT/SIGTERM, then sends what is queued (5 s at most) and prints the counts.
 *
 * Each batch is sent under its own project (the one each request names), signed for that project;
 * `-p` is only the default and the project of the data-tracker lookups. A batch OpenCTS refuses
 * for good is logged and kept (trace-reporter.ts): in `--dead-letter DIR` when given, else in
 * memory and retried.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { DEFAULT_IDENTITY_HEADERS } from '../recorder/capture.js'
import {
  BUILT_IN_MAPS,
  dataTrackerFor,
  parseRouteMap,
  type DataTrackerView,
  type RouteMap,
  type RouteMatch,
} from '../recorder/index.js'
import { FolderDeadLetter } from '../recorder/dead-letter.js'
import { RecorderProxy, STATS_PATH } from '../recorder/recorder-proxy.js'
import { TraceReporter, type ReporterStats } from '../recorder/trace-reporter.js'
import { CliFailure, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CLIENT_FLAGS, clientFor, clientOptions, refuseSecretFlags } from './client-options.js'
import { CtsApiError } from './http-client.js'
import { RECORD_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  upstream: { type: 'string' },
  map: { type: 'string' },
  listen: { type: 'string' },
  'catch-all': { type: 'string' },
  'record-reads': { type: 'boolean' },
  'default-project': { type: 'string' },
  'user-id-header': { type: 'string' },
  'user-name-header': { type: 'string' },
  'project-header': { type: 'string' },
  'dead-letter': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

function loadMaps(spec: string): RouteMap[] {
  return spec.split(',').map((name) => {
    const builtIn = (BUILT_IN_MAPS as Readonly<Record<string, RouteMap>>)[name.trim()]
    if (builtIn !== undefined) return builtIn
    let text: string
    try {
      text = readFileSync(resolve(name.trim()), 'utf8')
    } catch {
      throw new UsageError(
        `--map ${JSON.stringify(name)} is neither a built-in map (${Object.keys(BUILT_IN_MAPS).join(', ')}) nor a readable JSON file`,
      )
    }
    try {
      return parseRouteMap(JSON.parse(text))
    } catch (error) {
      throw new CliFailure(
        `map file ${name}: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  })
}

function listenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = Number(m?.[3])
  if (m === null || port > 65535)
    throw new UsageError(`--listen wants HOST:PORT, got ${JSON.stringify(text)}`)
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port }
}

export async function runRecord(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const { values } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) {
    io.stdout.write(RECORD_USAGE)
    return 0
  }
  if (values.upstream === undefined) throw new UsageError('--upstream URL is required')
  let upstream: URL
  try {
    upstream = new URL(values.upstream)
  } catch {
    throw new UsageError(
      `--upstream must be an http(s) URL, got ${JSON.stringify(values.upstream)}`,
    )
  }
  const maps = loadMaps(values.map ?? 'ims,glance')
  const listen = listenAddress(values.listen ?? '127.0.0.1:8089')
  const options = clientOptions(values, io.env, resolve())
  const client = clientFor(options, io.now)
  const deadLetterDir = values['dead-letter']
  if (deadLetterDir === '') throw new UsageError('--dead-letter wants a folder')
  if (deadLetterDir !== undefined) {
    try {
      mkdirSync(resolve(deadLetterDir), { recursive: true, mode: 0o700 })
    } catch (error) {
      throw new CliFailure(
        `--dead-letter ${deadLetterDir}: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }
  const reporter = new TraceReporter({
    sender: {
      send: async (projectId, traces) => {
        await client.postTraces(projectId, JSON.stringify({ traces }))
      },
    },
    isPermanent: (error) =>
      error instanceof CtsApiError &&
      error.status >= 400 &&
      error.status < 500 &&
      error.status !== 429,
    ...(deadLetterDir === undefined
      ? {}
      : { deadLetter: new FolderDeadLetter(resolve(deadLetterDir)) }),
    onError: (error) =>
      io.stderr.write(
        `record: reporting failed: ${error instanceof Error ? error.message : String(error)}\n`,
      ),
    onRejected: (batch) => {
      const kept =
        batch.kept === 'dead-letter'
          ? `kept in ${batch.where ?? 'the dead-letter folder'} (replay: opencts ingest FILE -p ${batch.projectId})`
          : batch.kept === 'held'
            ? 'held in memory, retried later (counted in "held")'
            : 'DROPPED: the held store is full (counted in "droppedHeldFull"; use --dead-letter DIR)'
      io.stderr.write(
        `record: OpenCTS refused ${batch.count} trace(s) of project ${batch.projectId}: ` +
          `${batch.error instanceof Error ? batch.error.message.split('\n')[0] : String(batch.error)}; ${kept}\n`,
      )
    },
    onQueueFull: (max) =>
      io.stderr.write(
        `record: the queue is full (${max} traces): dropping traces until OpenCTS takes them ` +
          `(counted in "droppedQueueFull")\n`,
      ),
  })
  // Data trackers decide which object operations of data maps (s3) are recorded: refreshed from
  // the API every 30 s.
  let trackers: DataTrackerView[] = []
  const refresh = async (): Promise<void> => {
    try {
      const answer = await client.listTrackers(options.projectId, { tracker_type: 'data' })
      trackers = answer.trackers as unknown as DataTrackerView[]
    } catch (error) {
      io.stderr.write(
        `record: cannot read the data trackers: ${error instanceof Error ? error.message : String(error)}\n`,
      )
    }
  }
  const dataMaps = maps.some((m) => m.routes.some((r) => r.data_event !== undefined))
  let refresher: NodeJS.Timeout | undefined
  if (dataMaps) {
    await refresh()
    refresher = setInterval(() => void refresh(), 30_000)
    refresher.unref()
  }
  const proxy = new RecorderProxy({
    upstream,
    maps,
    reporter,
    identityHeaders: {
      ...DEFAULT_IDENTITY_HEADERS,
      ...(values['user-id-header'] === undefined
        ? {}
        : { userId: values['user-id-header'].toLowerCase() }),
      ...(values['user-name-header'] === undefined
        ? {}
        : { userName: values['user-name-header'].toLowerCase() }),
      ...(values['project-header'] === undefined
        ? {}
        : { projectId: values['project-header'].toLowerCase() }),
    },
    defaultProjectId: values['default-project'] ?? options.projectId,
    catchAll: values['catch-all'] ?? null,
    recordReads: values['record-reads'] === true,
    ...(dataMaps ? { dataTracker: (match: RouteMatch) => dataTrackerFor(trackers, match) } : {}),
    onError: (error) =>
      io.stderr.write(`record: ${error instanceof Error ? error.message : String(error)}\n`),
  })
  const server = createServer(proxy.handle)
  await new Promise<void>((ok, fail) => {
    server.once('error', (error) =>
      fail(new CliFailure(`cannot listen on ${listen.host}:${listen.port}: ${error.message}`)),
    )
    server.listen(listen.port, listen.host, ok)
  })
  const bound = server.address() as AddressInfo
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address
  io.stdout.write(
    `Recording http://${host}:${bound.port} -> ${upstream.origin} with maps ${maps.map((m) => m.name).join(', ')}; ` +
      `traces to ${options.endpoint.origin} (project ${options.projectId} unless the request names one).\n` +
      `Counts: GET http://${host}:${bound.port}${STATS_PATH}\n`,
  )
  const signal = await io.untilShutdown()
  io.stdout.write(`${signal}: stopping; sending what is queued\n`)
  clearInterval(refresher)
  proxy.close()
  server.closeAllConnections()
  await new Promise((ok) => server.close(ok))
  await reporter.close()
  io.stdout.write(`${JSON.stringify(proxy.stats())}\n`)
  const lost = losses(reporter.stats())
  if (lost !== '') io.stderr.write(`record: traces not delivered: ${lost}\n`)
  return 0
}

/** The counts of traces not delivered, as `name N` pairs ('' when there are none). */
function losses(stats: ReporterStats): string {
  const counts: [string, number][] = [
    ['droppedQueueFull', stats.droppedQueueFull],
    ['droppedHeldFull', stats.droppedHeldFull],
    ['unsentAtClose', stats.unsentAtClose],
    ['deadLettered', stats.deadLettered],
  ]
  return counts
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ')
}

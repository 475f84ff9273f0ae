/**
 * @module recorder/recorder-proxy
 * A reverse proxy that records the API behind it as traces (`opencts record`). Every request is
 * streamed to the upstream and the answer streamed back, unchanged; on the side, the first bytes of
 * JSON bodies are kept (BodyTap), the route maps say which trace each call is, and the traces go to
 * the reporter's bounded queue. Recording never blocks or fails the proxied request: when OpenCTS
 * is down the API keeps answering, and losses are counted (`GET /_opencts/recorder` on the proxy).
 * Only an upstream that cannot be reached makes the proxy answer 502 (and that call is recorded).
 *
 * Per rule: `lookup.before` fetches the resource name from the upstream before forwarding (e.g. a
 * delete, whose answer is empty); `async_job` polls the job after the answer and reports a second,
 * `SystemAction` trace with the job result. Unmapped mutating calls are recorded by the catch-all
 * when one is configured; unmapped reads are not recorded.
 */
import { randomUUID } from 'node:crypto'
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import { request as httpsRequest } from 'node:https'
import { OpenCtsError } from '../errors/index.js'
import { BodyTap, identityOf, type IdentityHeaders } from './capture.js'
import {
  MAX_CAPTURE_BYTES,
  buildCatchAllTraces,
  buildJobTraces,
  buildTraces,
  expandTemplate,
  isMutating,
  matchRoute,
  type Exchange,
  type RouteMap,
  type RouteMatch,
} from './index.js'

export const STATS_PATH = '/_opencts/recorder'

/** Where the recorded traces go (TraceReporter). */
export interface ReportQueue {
  enqueue(projectId: string, traces: readonly Record<string, unknown>[]): void
  stats(): object
}

export interface RecorderProxyOptions {
  readonly upstream: URL
  readonly maps: readonly RouteMap[]
  readonly reporter: ReportQueue
  readonly identityHeaders: IdentityHeaders
  /** Project of requests whose identity names none. */
  readonly defaultProjectId?: string
  /** Service type of the catch-all for unmapped mutating calls; null: not recorded. */
  readonly catchAll: string | null
  /** Record read-only routes too (as `read_only: true`). Default false. */
  readonly recordReads?: boolean
  /** Async job polling: interval and how long at most. Defaults 2 s, 30 min. */
  readonly jobPollMs?: number
  readonly jobMaxMs?: number
  /** Upstream timeout, ms (default 5 min: uploads). */
  readonly upstreamTimeoutMs?: number
  /** Decides whether a data trace is recorded, and under which tracker (s3 map); default: all. */
  readonly dataTracker?: (match: RouteMatch, exchange: Exchange) => string | null
  readonly onError?: (error: unknown) => void
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

function forwardHeaders(headers: IncomingHttpHeaders, upstream: URL): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue
    out[name] = value
  }
  out.host = upstream.host
  return out
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return out
}

interface Counters {
  requests: number
  recorded: number
  upstreamErrors: number
  recordErrors: number
  jobsPolled: number
  /** Calls that would be recorded but name no project (and there is no default project). */
  unrecordedNoProject: number
  /** Async jobs whose end was not seen (time up, or the proxy stopped): no completion trace. */
  jobsUnfinished: number
}

export class RecorderProxy {
  readonly #o: RecorderProxyOptions
  readonly #counters: Counters = {
    requests: 0,
    recorded: 0,
    upstreamErrors: 0,
    recordErrors: 0,
    jobsPolled: 0,
    unrecordedNoProject: 0,
    jobsUnfinished: 0,
  }
  readonly #jobs = new Set<NodeJS.Timeout>()

  constructor(options: RecorderProxyOptions) {
    this.#o = options
  }

  /** The `http.createServer` request handler. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && req.url === STATS_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...this.#counters, reporter: this.#o.reporter.stats() }))
      return
    }
    this.#counters.requests++
    void this.#proxy(req, res).catch((error: unknown) => {
      this.#counters.recordErrors++
      this.#o.onError?.(error)
    })
  }

  stats(): object {
    return { ...this.#counters, reporter: this.#o.reporter.stats() }
  }

  /** Stops job pollers. */
  close(): void {
    for (const timer of this.#jobs) clearTimeout(timer)
    if (this.#jobs.size > 0) {
      this.#counters.jobsUnfinished += this.#jobs.size
      this.#o.onError?.(
        new Error(`stopped polling ${this.#jobs.size} async job(s): no completion trace for them`),
      )
    }
    this.#jobs.clear()
  }

  #send(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
  ): { request: ReturnType<typeof httpRequest>; url: URL } {
    const url = new URL(path, this.#o.upstream)
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(url, {
      method,
      headers,
      timeout: this.#o.upstreamTimeoutMs ?? 300_000,
    })
    request.on('timeout', () => request.destroy(new Error('upstream timeout')))
    return { request, url }
  }

  /** GET `path` on the upstream with the caller's headers; the JSON answer, or undefined. */
  #getJson(path: string, headers: IncomingHttpHeaders): Promise<unknown> {
    return new Promise((resolve) => {
      const h = forwardHeaders(headers, this.#o.upstream)
      delete h['content-length']
      delete h['content-type']
      const { request } = this.#send('GET', path, h)
      request.on('response', (res) => {
        const tap = new BodyTap('application/json', MAX_CAPTURE_BYTES)
        res.on('data', (c: Buffer) => tap.push(c))
        res.on('end', () => resolve((res.statusCode ?? 500) < 300 ? tap.json() : undefined))
        res.on('error', () => resolve(undefined))
      })
      request.on('error', () => resolve(undefined))
      request.end()
    })
  }

  async #proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = Date.now()
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
    const query = q < 0 ? '' : rawUrl.slice(q + 1)
    const method = (req.method ?? 'GET').toUpperCase()
    const match = matchRoute(this.#o.maps, method, path, query, flatHeaders(req.headers))
    let lookupName: string | undefined
    if (match?.rule.lookup?.before === true) {
      const target = expandTemplate(match.rule.lookup.path, match.params)
      const found = target === undefined ? undefined : await this.#getJson(target, req.headers)
      lookupName = valueAt({ resp: found }, match.rule.lookup.name)
    }
    const requestTap = new BodyTap(req.headers['content-type'], MAX_CAPTURE_BYTES)
    const { request } = this.#send(method, rawUrl, forwardHeaders(req.headers, this.#o.upstream))
    req.on('data', (chunk: Buffer) => requestTap.push(chunk))
    // The caller went away (or sent a broken body): the upstream call is abandoned, not left open.
    req.on('error', () => request.destroy())
    req.on('close', () => {
      if (!req.complete) request.destroy()
    })
    res.on('error', () => request.destroy())
    req.pipe(request)

    const finish = (status: number, responseTap: BodyTap | undefined): void => {
      void (async () => {
        // A lookup after the call (the resource still exists): its name for the trace.
        const lookup = match?.rule.lookup
        if (match !== undefined && lookup !== undefined && !lookup.before && status < 400) {
          const target = expandTemplate(lookup.path, match.params)
          const found = target === undefined ? undefined : await this.#getJson(target, req.headers)
          lookupName = valueAt({ resp: found }, lookup.name)
        }
        this.#record(match, {
          method,
          path,
          query,
          status,
          req,
          requestTap,
          responseTap,
          startedAt,
          lookupName,
        })
      })().catch((error: unknown) => {
        this.#counters.recordErrors++
        this.#o.onError?.(error)
      })
    }

    request.on('response', (upstream) => {
      const status = upstream.statusCode ?? 502
      res.writeHead(status, upstream.statusMessage, upstream.headers)
      const responseTap = new BodyTap(upstream.headers['content-type'], MAX_CAPTURE_BYTES)
      upstream.on('data', (chunk: Buffer) => responseTap.push(chunk))
      upstream.pipe(res)
      upstream.on('end', () => finish(status, responseTap))
      upstream.on('error', (error) => {
        this.#counters.upstreamErrors++
        this.#o.onError?.(error)
        res.destroy()
      })
    })
    request.on('error', (error) => {
      this.#counters.upstreamErrors++
      if (!res.headersSent) {
        const body = JSON.stringify(
          new OpenCtsError('OCTS_ERR_UPSTREAM_UNAVAILABLE', {
            message: `The recorded API ${this.#o.upstream.origin} cannot be reached: ${error.message}`,
          }).toBody(),
        )
        res.writeHead(502, { 'content-type': 'application/json' }).end(body)
        finish(502, undefined)
      } else {
        res.destroy()
      }
    })
  }

  #record(
    match: RouteMatch | undefined,
    x: {
      method: string
      path: string
      query: string
      status: number
      req: IncomingMessage
      requestTap: BodyTap
      responseTap: BodyTap | undefined
      startedAt: number
      lookupName: string | undefined
    },
  ): void {
    const identity = identityOf(x.req.headers, this.#o.identityHeaders)
    const projectId =
      identity.projectId ?? match?.params.project_id ?? this.#o.defaultProjectId ?? undefined
    if (projectId === undefined) {
      const recordable =
        match === undefined
          ? this.#o.catchAll !== null && isMutating(x.method)
          : match.rule.read_only !== true || this.#o.recordReads === true
      if (recordable) {
        this.#counters.unrecordedNoProject++
        this.#o.onError?.(
          new Error(`${x.method} ${x.path} not recorded: no project in the request, no default`),
        )
      }
      return
    }
    const requestText = x.requestTap.text()
    const responseText = x.responseTap?.text()
    const userAgent = x.req.headers['user-agent']
    const exchange: Exchange = {
      method: x.method,
      path: x.path,
      query: x.query,
      status: x.status,
      requestHeaders: flatHeaders(x.req.headers),
      requestJson: x.requestTap.json(),
      ...(requestText === undefined ? {} : { requestText }),
      requestBytes: x.requestTap.total,
      responseJson: x.responseTap?.json(),
      ...(responseText === undefined ? {} : { responseText }),
      startedAt: x.startedAt,
      durationMs: Date.now() - x.startedAt,
      sourceIp: x.req.socket.remoteAddress ?? '',
      ...(userAgent === undefined ? {} : { userAgent }),
      user: identity.user,
      projectId,
      ...(x.lookupName === undefined ? {} : { lookupName: x.lookupName }),
      requestId: String(x.req.headers['x-request-id'] ?? randomUUID()),
    }
    let traces: Record<string, unknown>[]
    const reads = { recordReads: this.#o.recordReads === true }
    if (match === undefined) {
      if (this.#o.catchAll === null || !isMutating(x.method)) return
      traces = buildCatchAllTraces(this.#o.catchAll, exchange)
    } else {
      if (match.rule.read_only === true && this.#o.recordReads !== true) return
      if (this.#o.dataTracker !== undefined && match.rule.data_event !== undefined) {
        const tracker = this.#o.dataTracker(match, exchange)
        if (tracker === null) return
        traces = buildTraces(match, exchange, reads).map((t) => ({ ...t, tracker_name: tracker }))
      } else traces = buildTraces(match, exchange, reads)
    }
    if (traces.length > 0) {
      this.#counters.recorded += traces.length
      this.#o.reporter.enqueue(projectId, traces)
    }
    if (match?.rule.async_job !== undefined && x.status < 300) this.#pollJob(match, exchange)
  }

  /** Polls an async job until it ends (or the time is up), then reports its completion traces. */
  #pollJob(match: RouteMatch, exchange: Exchange): void {
    const job = match.rule.async_job
    if (job === undefined) return
    const jobId = valueAt({ resp: exchange.responseJson, req: exchange.requestJson }, job.job_id)
    if (jobId === undefined) return
    const path = expandTemplate(job.poll_path, {
      ...match.params,
      project_id: exchange.projectId,
      job_id: jobId,
    })
    if (path === undefined) return
    const interval = this.#o.jobPollMs ?? 2000
    const deadline = Date.now() + (this.#o.jobMaxMs ?? 30 * 60_000)
    const headers: IncomingHttpHeaders = {}
    for (const [k, v] of Object.entries(exchange.requestHeaders)) headers[k] = v
    const tick = (): void => {
      const timer = setTimeout(() => {
        this.#jobs.delete(timer)
        void this.#getJson(path, headers).then((body) => {
          this.#counters.jobsPolled++
          const status = valueAt({ job: body }, 'job.status')
          if (status === 'SUCCESS' || status === 'FAIL') {
            const traces = buildJobTraces(match, exchange, body)
            this.#counters.recorded += traces.length
            if (traces.length > 0) this.#o.reporter.enqueue(exchange.projectId, traces)
          } else if (Date.now() < deadline) tick()
          else {
            this.#counters.jobsUnfinished++
            this.#o.onError?.(
              new Error(`job ${jobId} did not end in time: no completion trace for it`),
            )
          }
        })
      }, interval)
      timer.unref()
      this.#jobs.add(timer)
    }
    tick()
  }
}

/** The string at a dotted path (`resp.name`, `job.status`) of an object tree, or undefined. */
function valueAt(root: unknown, path: string): string | undefined {
  let current: unknown = root
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[part]
  }
  if (typeof current === 'string') return current
  if (typeof current === 'number') return String(current)
  return undefined
}

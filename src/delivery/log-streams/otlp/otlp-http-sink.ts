/**
 * @module delivery/log-streams/otlp/otlp-http-sink
 * Log sink sending OTLP/HTTP logs with the JSON encoding (`../otlp-logs-body.ts`) to an OpenTelemetry
 * Collector or any OTLP receiver (Loki, Elasticsearch, OpenObserve, …), with the global `fetch`.
 *
 * One POST per batch to `otlpLogsUrl(url)`, `Content-Type: application/json`, bounded by
 * `timeoutMs`. Any 2xx answer means the receiver took the batch (a `partialSuccess` in it is not
 * retried, as the OTLP specification requires); any other answer, a network error or the timeout
 * rejects with a LogSinkError, and the streamer sends the same batch again later.
 */
import { LogSinkError, type LogRecordInput, type LogSink } from '../log-sink.js'
import { otlpLogsRequest } from '../otlp-logs-body.js'
import type { RecordText } from '../record-text.js'

export const DEFAULT_OTLP_TIMEOUT_MS = 10_000

export interface OtlpHttpSinkOptions {
  /** `http(s)://host:port` (then `/v1/logs` is added) or the exact URL of the logs endpoint. */
  readonly url: string
  readonly timeoutMs?: number
  readonly name?: string
  /** A log record's body (record-text; default the file representation). */
  readonly text?: RecordText
}

/**
 * The URL a batch is POSTed to: `{url}/v1/logs` when `url` has no path (OTLP's default logs path),
 * else `url` exactly as given. Throws a RangeError unless it is an http(s) URL.
 */
export function otlpLogsUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RangeError(`OTLP URL must be an http(s) URL, got ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new RangeError(`OTLP URL must be an http(s) URL, got ${JSON.stringify(url)}`)
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/v1/logs'
  return parsed.toString()
}

export class OtlpHttpSink implements LogSink {
  readonly name: string
  readonly url: string
  readonly #timeoutMs: number
  readonly #text: RecordText | undefined

  constructor(options: OtlpHttpSinkOptions) {
    this.name = options.name ?? 'otlp'
    this.url = otlpLogsUrl(options.url)
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_OTLP_TIMEOUT_MS
    this.#text = options.text
  }

  async send(records: readonly LogRecordInput[]): Promise<void> {
    if (records.length === 0) return
    const body = JSON.stringify(otlpLogsRequest(records, this.#text))
    let response: Response
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      throw new LogSinkError(this.name, `POST ${this.url} failed: ${describe(error)}`, {
        cause: error,
      })
    }
    // Read the whole answer so the connection can be reused; its content is not needed.
    const text = await response.text().catch(() => '')
    if (response.status < 200 || response.status > 299) {
      throw new LogSinkError(
        this.name,
        `HTTP ${response.status} from ${this.url}${text === '' ? '' : `: ${text.slice(0, 200)}`}`,
      )
    }
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
    return `${error.message}${cause}`
  }
  return String(error)
}

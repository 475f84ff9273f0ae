/**
 * @module delivery/log-streams/log-sink
 * The log-sink port (the LTS equivalent, spec/cts-api.md §11): where the log streams of trackers
 * with `lts.is_lts_enabled` go. Three adapters: `otlp/` (OTLP/HTTP logs, JSON), `syslog/`
 * (RFC 5424 over TCP or UDP) and `file/` (JSON lines). The streamer (`log-stream-service.ts`) owns
 * the cursor; a sink only carries one batch at a time and says whether it took it.
 */
import type { TraceRecord, Tracker } from '../../model/index.js'

/** One trace on its way to a log stream. */
export interface LogRecordInput {
  /** Position in the store's commit order; increasing within a batch. */
  readonly seq: number
  readonly trace: TraceRecord
  /** The tracker whose stream carries it (`lts.log_group_name` / `lts.log_topic_name`). */
  readonly tracker: Pick<Tracker, 'project_id' | 'tracker_name' | 'lts'>
}

export interface LogSink {
  /** Stable name (`otlp`, `syslog`, `file`): names the cursor, the metrics and the log lines. */
  readonly name: string
  /**
   * Delivers a batch, in order. Resolving means the destination took every record (as far as its
   * protocol can tell: see each adapter's README); the caller then moves its cursor. Rejects with a
   * `LogSinkError` when it did not; the caller sends the same batch again later, so a receiver may
   * see a record twice (at-least-once), never out of order within a sink. Calls never overlap.
   */
  send(records: readonly LogRecordInput[]): Promise<void>
  /** Releases connections and files. Further `send` calls may reopen them. */
  close(): Promise<void>
}

/** A batch was not delivered; `message` says why ("HTTP 500 from …", "connect ECONNREFUSED …"). */
export class LogSinkError extends Error {
  override readonly name = 'LogSinkError'
  /** The sink's `name`. */
  readonly sink: string

  constructor(sink: string, message: string, options?: { cause?: unknown }) {
    super(`${sink}: ${message}`, options)
    this.sink = sink
  }
}

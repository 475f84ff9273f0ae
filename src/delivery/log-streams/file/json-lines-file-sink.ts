/**
 * @module delivery/log-streams/file/json-lines-file-sink
 * Log sink appending JSON lines to a local file: one trace per line in the file representation
 * (`toFileTrace`, as in transferred trace files), in commit order, for log shippers (Filebeat,
 * Fluent Bit, Vector, Promtail) or plain `jq`.
 *
 * Per batch: append all lines in one write, then fsync; resolving means the lines are durable. A
 * failed write or fsync truncates the file back to its size before the batch (no torn line, no
 * half batch), so the batch sent again appears once. The file is created with mode 0640 (its folder
 * with 0750); when rotated away by rename (logrotate's default), the next batch opens a new file at
 * the path.
 */
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LogSinkError, type LogRecordInput, type LogSink } from '../log-sink.js'
import { CTS_RECORD_TEXT, type RecordText } from '../record-text.js'

export interface JsonLinesFileSinkOptions {
  readonly path: string
  readonly name?: string
  /** A line's text (record-text; default the file representation). */
  readonly text?: RecordText
}

/** The lines of a batch: one trace per line (by default JSON, the file representation), each ending in `\n`. */
export function jsonLines(records: readonly LogRecordInput[], text = CTS_RECORD_TEXT): string {
  return records.map((r) => `${text(r.trace)}\n`).join('')
}

export class JsonLinesFileSink implements LogSink {
  readonly name: string
  readonly path: string
  #file: FileHandle | undefined
  readonly #text: RecordText

  constructor(options: JsonLinesFileSinkOptions) {
    this.name = options.name ?? 'file'
    this.path = options.path
    this.#text = options.text ?? CTS_RECORD_TEXT
  }

  async send(records: readonly LogRecordInput[]): Promise<void> {
    if (records.length === 0) return
    const file = await this.#open()
    let size: number
    try {
      size = (await file.stat()).size
    } catch (error) {
      await this.#forget(file)
      throw this.#error('stat', error)
    }
    try {
      await file.appendFile(jsonLines(records, this.#text), 'utf8')
      await file.sync()
    } catch (error) {
      await file.truncate(size).catch(() => undefined)
      await this.#forget(file)
      throw this.#error('append to', error)
    }
  }

  async close(): Promise<void> {
    const file = this.#file
    this.#file = undefined
    await file?.close()
  }

  /** The open file if the path still names it, else the file at the path (created if needed). */
  async #open(): Promise<FileHandle> {
    const current = this.#file
    if (current !== undefined) {
      const same = await Promise.all([current.stat(), stat(this.path)]).then(
        ([open, named]) => open.ino === named.ino && open.dev === named.dev,
        () => false,
      )
      if (same) return current
      await this.#forget(current)
    }
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o750 })
      this.#file = await open(this.path, 'a', 0o640)
      return this.#file
    } catch (error) {
      throw this.#error('open', error)
    }
  }

  async #forget(file: FileHandle): Promise<void> {
    if (this.#file === file) this.#file = undefined
    await file.close().catch(() => undefined)
  }

  #error(what: string, error: unknown): LogSinkError {
    const text = error instanceof Error ? error.message : String(error)
    return new LogSinkError(this.name, `cannot ${what} ${this.path}: ${text}`, { cause: error })
  }
}

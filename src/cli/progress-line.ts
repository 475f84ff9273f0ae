/**
 * @module cli/progress-line
 * A one-line progress display on a terminal: redrawn in place (`\r`, erase line) at most ten times a
 * second, erased when done. Disabled (draws nothing) when the stream is not a terminal, so logs and
 * pipes never receive it.
 */

export class ProgressLine {
  readonly #stream: NodeJS.WritableStream
  readonly #enabled: boolean
  readonly #now: () => number
  #lastDraw = -Infinity
  #drawn = false

  constructor(stream: NodeJS.WritableStream, enabled: boolean, now: () => number) {
    this.#stream = stream
    this.#enabled = enabled
    this.#now = now
  }

  /** Redraws the line with `text` unless it was drawn less than 100 ms ago. */
  update(text: string): void {
    if (!this.#enabled) return
    const now = this.#now()
    if (now - this.#lastDraw < 100) return
    this.#lastDraw = now
    this.#drawn = true
    this.#stream.write(`\r\u001b[K${text}`)
  }

  /** Erases the line (if one was drawn). */
  done(): void {
    if (this.#drawn) this.#stream.write('\r\u001b[K')
    this.#drawn = false
  }
}

/** The progress text of `ingest`: traces sent, share of the input read when its size is known, rate. */
export function ingestProgressText(
  sent: number,
  bytesRead: number,
  totalBytes: number | undefined,
  elapsedMs: number,
): string {
  const share =
    totalBytes === undefined || totalBytes === 0
      ? ''
      : ` (${Math.min(100, Math.floor((bytesRead / totalBytes) * 100))}% of the input)`
  const rate =
    elapsedMs > 0 ? `, ${Math.round((sent / elapsedMs) * 1000).toLocaleString('en-US')}/s` : ''
  return `ingest: ${sent.toLocaleString('en-US')} traces stored${share}${rate}`
}

/**
 * @module bench/progress-bar
 * Progress of a long benchmark phase on stderr: a redrawn bar on a terminal, otherwise one line
 * per 10%.
 */

export class ProgressBar {
  readonly #label: string
  readonly #total: number
  readonly #tty: boolean
  #lastShown = -1
  readonly #started = performance.now()

  constructor(label: string, total: number) {
    this.#label = label
    this.#total = Math.max(1, total)
    this.#tty = process.stderr.isTTY === true
  }

  update(done: number): void {
    const percent = Math.floor((done / this.#total) * 100)
    const step = this.#tty ? percent : Math.floor(percent / 10) * 10
    if (step === this.#lastShown) return
    this.#lastShown = step
    const seconds = (performance.now() - this.#started) / 1000
    const eta = done > 0 ? ((this.#total - done) * seconds) / done : 0
    const text = `${this.#label}: ${percent}% (${done.toLocaleString('en-US')}/${this.#total.toLocaleString('en-US')}, ${seconds.toFixed(0)} s, ~${eta.toFixed(0)} s left)`
    if (this.#tty) {
      const width = 30
      const filled = Math.round((percent / 100) * width)
      process.stderr.write(`\r\u001b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`)
    } else process.stderr.write(`${text}\n`)
  }

  done(): void {
    const seconds = ((performance.now() - this.#started) / 1000).toFixed(1)
    process.stderr.write(`${this.#tty ? '\r\u001b[K' : ''}${this.#label}: done in ${seconds} s\n`)
  }
}

/**
 * @module bench/rss-sampler
 * The resident set size of a process (worker threads included: they share it), from Linux
 * `/proc/<pid>/status` (VmRSS), sampled every SAMPLE_MS while a phase lasts; the maximum per phase
 * name. Where /proc is missing (not Linux) nothing is sampled and the maximum stays undefined.
 */
import { readFileSync } from 'node:fs'

const SAMPLE_MS = 250

/** VmRSS of a process in bytes, or undefined (gone, or no /proc). */
export function rssBytes(pid: number): number | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  return parseVmRss(status)
}

/** The VmRSS line of a /proc status text in bytes (the kernel writes it in kB). */
export function parseVmRss(status: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024
}

export class RssSampler {
  readonly #max = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined

  /** Samples `pid` under `phase` until `stop()`; one phase at a time. */
  start(phase: string, pid: number): void {
    this.stop()
    const sample = (): void => {
      const bytes = rssBytes(pid)
      if (bytes !== undefined) this.#max.set(phase, Math.max(this.#max.get(phase) ?? 0, bytes))
    }
    sample()
    this.#timer = setInterval(sample, SAMPLE_MS)
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The largest RSS sampled in `phase`, bytes. */
  max(phase: string): number | undefined {
    return this.#max.get(phase)
  }
}

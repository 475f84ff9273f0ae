/**
 * @module bench/proc-cpu
 * CPU time of a benchmark run summed over every process that does its work, from Linux `/proc`:
 * the OpenCTS node processes (by PID, worker threads included) and the PostgreSQL processes — the
 * backends connected to the run's database (their process title names it) and the server's own
 * processes (postmaster, checkpointer, WAL writer, background writer, launchers, parallel workers),
 * found by `/proc/<pid>/comm` = `postgres`. Backends of other databases are left out, so tests or
 * other runs on the same server do not count.
 *
 * utime + stime of each process is read at the start, every SAMPLE_MS while the run lasts, and at
 * the end; a process that appears later counts from zero, and one that exits counts up to its last
 * sample (a backend that exits loses at most SAMPLE_MS of CPU; the benchmark's connection pools keep
 * their backends for the whole run). Clock ticks per second come from `getconf CLK_TCK` (100 assumed
 * if that fails; `clockTicks().assumed` says so).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

const SAMPLE_MS = 200

export interface ClockTicks {
  readonly perSecond: number
  /** True when `getconf CLK_TCK` failed and 100 was assumed. */
  readonly assumed: boolean
}

let ticks: ClockTicks | undefined

export function clockTicks(): ClockTicks {
  if (ticks !== undefined) return ticks
  try {
    const value = Number(
      execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim(),
    )
    ticks =
      Number.isInteger(value) && value > 0
        ? { perSecond: value, assumed: false }
        : { perSecond: 100, assumed: true }
  } catch {
    ticks = { perSecond: 100, assumed: true }
  }
  return ticks
}

/** utime + stime of a process in clock ticks, or undefined once it has gone. */
export function processTicks(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12])
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** A client backend's title holds its client address: `127.0.0.1(45292)` or `[local]`. */
const CLIENT_BACKEND = /\S\(\d+\)|\[local\]/

/**
 * PIDs of the PostgreSQL processes that work for `database`: its backends and the server's own
 * processes (every `postgres` process that is not a client backend).
 */
export function postgresPids(database: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    if (readText(`/proc/${entry}/comm`)?.trim() !== 'postgres') continue
    const title = (readText(`/proc/${entry}/cmdline`) ?? '').replaceAll('\0', ' ')
    if (!CLIENT_BACKEND.test(title) || title.split(' ').includes(database)) pids.push(Number(entry))
  }
  return pids
}

export interface CpuScope {
  /** The OpenCTS node processes. */
  readonly nodePids: readonly number[]
  /** The database whose backends count (every non-backend PostgreSQL process counts too). */
  readonly database: string
}

export interface CpuTotals {
  /** CPU seconds of the node processes. */
  readonly nodeSeconds: number
  /** CPU seconds of the PostgreSQL processes. */
  readonly postgresSeconds: number
}

/** Per-PID ticks at the start and at the latest sample. */
class Tally {
  readonly #first = new Map<number, number>()
  readonly #latest = new Map<number, number>()

  observe(pid: number, value: number, atStart: boolean): void {
    if (!this.#first.has(pid)) this.#first.set(pid, atStart ? value : 0)
    this.#latest.set(pid, value)
  }

  ticks(): number {
    let sum = 0
    for (const [pid, latest] of this.#latest) sum += latest - (this.#first.get(pid) ?? 0)
    return sum
  }
}

/**
 * Measures the CPU of a scope across several timed phases (e.g. the rounds of an ingest run):
 * `start()` … `stop()` may be called repeatedly; the totals add up every phase.
 */
export class CpuMeter {
  readonly #scope: CpuScope
  #nodeTicks = 0
  #postgresTicks = 0
  #phase: { node: Tally; postgres: Tally; timer: NodeJS.Timeout } | undefined

  constructor(scope: CpuScope) {
    this.#scope = scope
  }

  start(): void {
    if (this.#phase !== undefined) throw new Error('CpuMeter: already started')
    const phase = {
      node: new Tally(),
      postgres: new Tally(),
      timer: setInterval(() => this.#sample(false), SAMPLE_MS),
    }
    this.#phase = phase
    this.#sample(true)
  }

  stop(): void {
    const phase = this.#phase
    if (phase === undefined) throw new Error('CpuMeter: not started')
    this.#sample(false)
    clearInterval(phase.timer)
    this.#nodeTicks += phase.node.ticks()
    this.#postgresTicks += phase.postgres.ticks()
    this.#phase = undefined
  }

  totals(): CpuTotals {
    const perSecond = clockTicks().perSecond
    return {
      nodeSeconds: this.#nodeTicks / perSecond,
      postgresSeconds: this.#postgresTicks / perSecond,
    }
  }

  #sample(atStart: boolean): void {
    const phase = this.#phase
    if (phase === undefined) return
    for (const pid of this.#scope.nodePids) {
      const value = processTicks(pid)
      if (value !== undefined) phase.node.observe(pid, value, atStart)
    }
    if (this.#scope.database === '') return
    for (const pid of postgresPids(this.#scope.database)) {
      const value = processTicks(pid)
      if (value !== undefined) phase.postgres.observe(pid, value, atStart)
    }
  }
}

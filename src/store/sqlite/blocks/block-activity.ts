/**
 * @module store/sqlite/blocks/block-activity
 * Activity counts over a project's blocks (see TraceStore.activity). A block that lies wholly
 * inside the window is counted from its rollup when the query allows: whole-hour intervals
 * aligned on the hour, and a filter on rollup columns only (category, tracker, service, resource
 * type, operation, rating). The rollup is the block's traces grouped by hour and those columns,
 * made once from its dims and kept in memory (a few hundred rows instead of thousands of traces).
 * A rollup also keeps, per trace, its row and its user (POSITION_COLUMNS: too many distinct values
 * to group by without a row per trace), so that a user filter counts the rows of the matching
 * traces instead of decoding the block's dims. Other blocks (the window's edges, a resource
 * filter, intervals under an hour) are counted trace by trace on dictionary ids into typed arrays.
 * Operations are merged by name per block, never per trace.
 */
import type { TraceActivity, TraceFilter } from '../../ports/traces.js'
import { activityBuckets } from '../../rows.js'
import type { BlockDims } from './block-codec.js'
import { bloomMayContain } from './bloom.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { compile, matcher } from './block-query.js'
import type { BlockReader } from './block-reader.js'
import {
  HOUR_MS,
  ratingIndex,
  ROLLUP_COLUMNS,
  ROLLUP_FILTER_COLUMNS,
  rollupChecks,
  type BlockRollup,
  type RollupValues,
} from './block-rollup.js'

/** Accumulates counts per interval and rating, and per operation. */
class Tally {
  /** Interval index -> [normal, warning, incident]. */
  readonly counts = new Map<number, [number, number, number]>()
  readonly ops = new Map<string, TraceActivity['operations'][number]>()
  /** Rollup operations by global ids (service id * 2^21 + name id) -> counts by rating. */
  readonly globalOps = new Map<number, [number, number, number]>()

  addGlobalOperation(service: number, name: number, rating: number, n: number): void {
    const key = service * 2 ** 21 + name
    let c = this.globalOps.get(key)
    if (c === undefined) this.globalOps.set(key, (c = [0, 0, 0]))
    c[rating] = (c[rating] ?? 0) + n
  }

  /** Moves the rollup operations into `ops`, by name. */
  resolve(values: RollupValues): void {
    for (const [key, [normal, warning, incident]] of this.globalOps) {
      const s = values.value(AT.service, Math.floor(key / 2 ** 21))
      const o = values.value(AT.name, key % 2 ** 21)
      this.addOperation(
        { key: `${s}\u0000${o}`, serviceType: s, traceName: o },
        normal,
        warning,
        incident,
      )
    }
    this.globalOps.clear()
  }

  add(bucket: number, rating: number, n: number): void {
    let c = this.counts.get(bucket)
    if (c === undefined) this.counts.set(bucket, (c = [0, 0, 0]))
    c[rating] = (c[rating] ?? 0) + n
  }

  addOperation(
    operation: { key: string; serviceType: string; traceName: string },
    normal: number,
    warning: number,
    incident: number,
  ): void {
    let entry = this.ops.get(operation.key)
    if (entry === undefined)
      this.ops.set(
        operation.key,
        (entry = {
          serviceType: operation.serviceType,
          traceName: operation.traceName,
          count: 0,
          warning: 0,
          incident: 0,
        }),
      )
    entry.count += normal + warning + incident
    entry.warning += warning
    entry.incident += incident
  }
}

/** The rollup column index of each column a rollup query needs. */
const AT = {
  service: ROLLUP_COLUMNS.indexOf('service_type'),
  name: ROLLUP_COLUMNS.indexOf('trace_name'),
  rating: ROLLUP_COLUMNS.indexOf('trace_rating'),
}

/** Counts a whole block from its rollup. */
function countRollup(
  rollup: BlockRollup,
  checks: readonly [number, number][],
  ratingOf: (id: number) => number,
  start: number,
  step: number,
  tally: Tally,
): void {
  const width = ROLLUP_COLUMNS.length
  const ids = rollup.ids
  const grouped = checks.filter(([at]) => at < width)
  // A filter on per-trace columns: the rows of the matching traces, counted.
  let hits: Uint32Array | undefined
  const perTrace = checks.filter(([at]) => at >= width)
  if (perTrace.length > 0) {
    hits = new Uint32Array(rollup.rows)
    const columns = perTrace.map(([at, id]) => [rollup.positional[at - width], id] as const)
    const rowOf = rollup.rowOf
    traces: for (let p = 0; p < rowOf.length; p++) {
      for (const [column, id] of columns) if (column?.[p] !== id) continue traces
      const r = rowOf[p] ?? 0
      hits[r] = (hits[r] ?? 0) + 1
    }
  }
  let lastHour = -1
  let bucket = 0
  rows: for (let r = 0; r < rollup.rows; r++) {
    const base = r * width
    for (const [at, id] of grouped) if (ids[base + at] !== id) continue rows
    const n = hits === undefined ? (rollup.count[r] ?? 0) : (hits[r] ?? 0)
    if (n === 0) continue
    const hour = rollup.hour[r] ?? 0
    if (hour !== lastHour) {
      lastHour = hour
      bucket = Math.trunc((rollup.firstHour + hour * HOUR_MS - start) / step)
    }
    const rating = ratingOf(ids[base + AT.rating] ?? 0)
    tally.add(bucket, rating, n)
    tally.addGlobalOperation(ids[base + AT.service] ?? 0, ids[base + AT.name] ?? 0, rating, n)
  }
}

/** Counts a block trace by trace (on dictionary ids, into typed arrays). */
function countTraces(
  meta: BlockMeta,
  dims: BlockDims,
  match: (p: number) => boolean,
  filter: TraceFilter,
  start: number,
  step: number,
  tally: Tally,
): void {
  const rating = dims.columns.trace_rating
  const service = dims.columns.service_type
  const name = dims.columns.trace_name
  const ratingOf = Uint8Array.from(rating.dict, ratingIndex)
  const names = name.dict.length
  const operations = service.dict.length * names
  // Per operation (service id × name id) and rating; a Map when the product is too large.
  const dense = operations <= 1 << 16 ? new Uint32Array(3 * operations) : undefined
  const sparse = dense === undefined ? new Map<number, number>() : undefined
  const first = Math.trunc((Math.max(meta.minTime, filter.from) - start) / step)
  const last = Math.trunc((Math.min(meta.maxTime, filter.to) - start) / step)
  const buckets = new Float64Array(3 * (last - first + 1))
  for (let p = 0; p < dims.count; p++) {
    const time = dims.times[p] ?? 0
    if (time <= filter.from || time >= filter.to || !match(p)) continue
    const r = ratingOf[rating.ids[p] ?? 0] ?? 0
    const b = 3 * (Math.trunc((time - start) / step) - first) + r
    buckets[b] = (buckets[b] ?? 0) + 1
    const o = 3 * ((service.ids[p] ?? 0) * names + (name.ids[p] ?? 0)) + r
    if (dense !== undefined) dense[o] = (dense[o] ?? 0) + 1
    else sparse?.set(o, (sparse.get(o) ?? 0) + 1)
  }
  for (let b = 0; b < buckets.length; b++) {
    const n = buckets[b] ?? 0
    if (n > 0) tally.add(first + Math.floor(b / 3), b % 3, n)
  }
  const opCounts: Iterable<[number, number]> =
    dense !== undefined ? nonZero(dense) : (sparse as Map<number, number>)
  const byOp = new Map<number, [number, number, number]>()
  for (const [o, n] of opCounts) {
    const k = Math.floor(o / 3)
    let c = byOp.get(k)
    if (c === undefined) byOp.set(k, (c = [0, 0, 0]))
    c[o % 3] = n
  }
  for (const [k, [normal, warning, incident]] of byOp) {
    const s = service.dict[Math.floor(k / names)] ?? ''
    const o = name.dict[k % names] ?? ''
    tally.addOperation(
      { key: `${s}\u0000${o}`, serviceType: s, traceName: o },
      normal,
      warning,
      incident,
    )
  }
}

function* nonZero(array: Uint32Array): Iterable<[number, number]> {
  for (let i = 0; i < array.length; i++) if (array[i] !== 0) yield [i, array[i] ?? 0]
}

/** See the module comment. */
export function activityBlocks(
  dir: BlockDirectory,
  reader: BlockReader,
  filter: TraceFilter,
  start: number,
  step: number,
  top: number,
): TraceActivity {
  const compiled = compile(filter)
  const hourly = step % HOUR_MS === 0 && start % HOUR_MS === 0
  const rollupFilter =
    hourly &&
    compiled.search === null &&
    compiled.tests.every(([column]) => ROLLUP_FILTER_COLUMNS.includes(column))
  const tally = new Tally()
  const values = reader.rollupValues
  const ratings = new Map<number, number>()
  const ratingOf = (id: number): number => {
    let r = ratings.get(id)
    if (r === undefined)
      ratings.set(id, (r = ratingIndex(id === 0 ? null : values.value(AT.rating, id))))
    return r
  }
  for (const meta of dir.project(filter.projectId)) {
    if (meta.maxTime <= filter.from || meta.minTime >= filter.to) continue
    if (rollupFilter && meta.minTime > filter.from && meta.maxTime < filter.to) {
      if (!compiled.bloomKeys.every((key) => bloomMayContain(meta.bloom, key))) continue
      const rollup = reader.rollup(meta)
      // Checks after the rollup exists: its values are interned by then.
      const checks = rollup === undefined ? null : rollupChecks(compiled, values)
      if (rollup !== undefined) {
        if (checks !== null) countRollup(rollup, checks, ratingOf, start, step, tally)
        continue
      }
    }
    const m = matcher(reader, meta, compiled)
    if (m !== null) countTraces(meta, m.dims, m.match, filter, start, step, tally)
  }
  tally.resolve(values)
  const rows = [...tally.counts]
    .sort((x, y) => x[0] - y[0])
    .flatMap(([b, [normal, warning, incident]]) => [
      { b, r: 'normal', n: normal },
      { b, r: 'warning', n: warning },
      { b, r: 'incident', n: incident },
    ])
    .filter((row) => row.n > 0)
  const { buckets, total } = activityBuckets(rows)
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0)
  const operations = [...tally.ops.values()]
    .sort(
      (x, y) =>
        y.count - x.count || cmp(x.serviceType, y.serviceType) || cmp(x.traceName, y.traceName),
    )
    .slice(0, top)
  return { buckets, operations, total }
}

/** Time without a busy stretch of appends after which the store counts as idle, ms. */
const IDLE_MS = 2_000
/**
 * Traces appended within IDLE_MS that make the store busy: fewer (self-audit traces, the insight
 * job's traces, a trickle of clients) leave it idle, else a steady trickle would keep warming off.
 */
export const BUSY_TRACES = 1_000

/** Whether appends keep the store busy: BUSY_TRACES or more within a stretch of IDLE_MS. Pure. */
export class AppendLoad {
  /** When appends last made the store busy. */
  #lastBusy = -Infinity
  /** Start of the current stretch of appends, and the traces appended in it. */
  #stretchStart = -Infinity
  #stretchTraces = 0

  appended(count: number, now: number): void {
    if (now - this.#stretchStart > IDLE_MS) {
      this.#stretchStart = now
      this.#stretchTraces = 0
    }
    this.#stretchTraces += count
    if (this.#stretchTraces >= BUSY_TRACES) this.#lastBusy = now
  }

  /** How long the store has yet to stay without a busy stretch to be idle, ms (0: idle). */
  idleIn(now: number): number {
    return Math.max(0, IDLE_MS - (now - this.#lastBusy))
  }
}

/** Longest stretch of warming on the event loop at a time, and the pause between two, ms. */
const SLICE_MS = 5
const PAUSE_MS = 20

/**
 * Builds the rollups of blocks ahead of activity queries, newest blocks first, in short slices
 * while fewer than BUSY_TRACES traces have been appended within IDLE_MS, and only while the rollup cache has room: the first
 * activity count over a big tenant's week then reads rollups instead of thousands of dims. Started
 * by a store that serves (not by a read-only audit); stopped before the store closes.
 */
export class RollupWarmer {
  readonly #blocks: () => readonly BlockMeta[]
  readonly #reader: BlockReader
  #timer: NodeJS.Timeout | undefined
  readonly #load = new AppendLoad()
  #queue: BlockMeta[] = []
  #stopped = true

  constructor(blocks: () => readonly BlockMeta[], reader: BlockReader) {
    this.#blocks = blocks
    this.#reader = reader
  }

  start(): void {
    this.#stopped = false
    this.wake()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /**
   * `count` traces were appended: past BUSY_TRACES within IDLE_MS, warming waits until the store is
   * idle again.
   */
  appended(count: number): void {
    this.#load.appended(count, performance.now())
    this.wake()
  }

  /** Blocks may lack rollups (new ones were committed, or warming has not run yet). */
  wake(): void {
    if (this.#stopped || this.#timer !== undefined) return
    this.#queue = []
    this.#schedule(PAUSE_MS)
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#slice()
    }, ms)
    this.#timer.unref()
  }

  #slice(): void {
    if (this.#stopped) return
    const wait = this.#load.idleIn(performance.now())
    if (wait > 0) return this.#schedule(wait)
    if (this.#queue.length === 0)
      this.#queue = [...this.#blocks()].sort((a, b) => a.maxTime - b.maxTime) // newest last
    const until = performance.now() + SLICE_MS
    while (this.#queue.length > 0 && performance.now() < until) {
      if (!this.#reader.rollupRoom()) {
        this.#queue = []
        return
      }
      const meta = this.#queue.pop() as BlockMeta
      try {
        this.#reader.rollup(meta, false)
      } catch {
        // A damaged block: queries and the audit report it; warming skips it.
      }
    }
    if (this.#queue.length > 0) this.#schedule(PAUSE_MS)
  }
}

/**
 * @module bench/load-base-data
 * Fills a store with `count` traces of one project, spread evenly (with jitter) over the last 6
 * days, by appending straight through the store in 1,000-trace batches (faster than HTTP; the stored
 * rows are the same). Keeps a sample of stored trace ids for id lookups and paging. `loadBaseData`
 * fills an SQLite file; `appendBaseTraces` any open store (the PostgreSQL section's).
 */
import { randomUUID } from 'node:crypto'
import { statSync } from 'node:fs'
import { normalizeTrace, type TraceRecord } from '../src/model/index.js'
import { openStore } from '../src/store/open-store.js'
import type { Store } from '../src/store/index.js'
import { ProgressBar } from './progress-bar.js'
import { TraceGenerator } from './trace-generator.js'

export interface BaseData {
  readonly sampleIds: readonly string[]
  readonly seconds: number
  readonly dbBytes: number
}

const SPAN_MS = 6 * 86_400_000

export async function loadBaseData(
  dbPath: string,
  projectId: string,
  count: number,
): Promise<BaseData> {
  const store = await openStore({ url: `sqlite:${dbPath}` })
  let loaded: Omit<BaseData, 'dbBytes'>
  try {
    loaded = await appendBaseTraces(store, projectId, count)
  } finally {
    await store.close()
  }
  let dbBytes = 0
  for (const suffix of ['', '-wal']) {
    try {
      dbBytes += statSync(dbPath + suffix).size
    } catch {
      // no WAL file
    }
  }
  return { ...loaded, dbBytes }
}

/** Appends the `count` traces to an open store; returns the sample ids and the seconds it took. */
export async function appendBaseTraces(
  store: Store,
  projectId: string,
  count: number,
): Promise<Omit<BaseData, 'dbBytes'>> {
  const generator = new TraceGenerator(1)
  const now = Date.now()
  const start = now - SPAN_MS
  const every = Math.max(1, Math.floor(count / 5000))
  const sampleIds: string[] = []
  const bar = new ProgressBar(`loading ${count.toLocaleString('en-US')} traces`, count)
  const started = performance.now()
  for (let first = 0; first < count; first += 1000) {
    const batch: TraceRecord[] = []
    for (let i = first; i < Math.min(count, first + 1000); i++) {
      const time = start + Math.floor((i / count) * (SPAN_MS - 120_000)) + generator.pick(1000)
      const result = normalizeTrace(generator.next(time), {
        projectId,
        now: time + 200 + generator.pick(2000),
        newId: randomUUID,
      })
      if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
      batch.push(result.trace)
      if (i % every === 0) sampleIds.push(result.trace.trace_id)
    }
    await store.traces.append(batch)
    bar.update(first + batch.length)
  }
  bar.done()
  return { sampleIds, seconds: (performance.now() - started) / 1000 }
}

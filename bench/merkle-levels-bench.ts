/**
 * @module bench/merkle-levels-bench
 * What the Merkle log costs the SQLite store: `merkle_nodes` bytes per trace (dbstat) and the time
 * of the batches' Merkle appends (MerkleBatch.finish: frontier reads, node hashing, node inserts)
 * per trace, for MERKLE_BENCH_TRACES traces (default 100,000) in 100 projects, batches of 1,000
 * (10 traces of each project). Run on two builds to compare (see the report of the change).
 *   node .test-build/bench/merkle-levels-bench.js
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { MerkleBatch } from '../src/store/sqlite/sqlite-merkle-store.js'
import { makeTrace } from '../test/helpers/make-trace.js'

const TOTAL = Number(process.env.MERKLE_BENCH_TRACES ?? 100_000)
const PROJECTS = 100
const BATCH = 1000

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-merkle-bench-'))
  const path = join(dir, 'opencts.db')
  let finishNs = 0n
  const proto = MerkleBatch.prototype
  const original = Object.getOwnPropertyDescriptor(proto, 'finish')?.value as (
    this: MerkleBatch,
  ) => void
  proto.finish = function (this: MerkleBatch): void {
    const start = process.hrtime.bigint()
    original.call(this)
    finishNs += process.hrtime.bigint() - start
  }
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const projects = Array.from({ length: PROJECTS }, (_, i) => i.toString(16).padStart(32, '0'))
  const now = Date.now()
  let appendNs = 0n
  for (let done = 0; done < TOTAL; done += BATCH) {
    const batch = Array.from({ length: BATCH }, (_, i) =>
      makeTrace({ project_id: projects[i % PROJECTS] ?? '', time: now - TOTAL + done + i }),
    )
    const start = process.hrtime.bigint()
    await store.traces.append(batch)
    appendNs += process.hrtime.bigint() - start
  }
  await store.close()
  const db = new Database(path, { readonly: true })
  const bytes = db
    .prepare("SELECT sum(pgsize) AS b, count(*) AS pages FROM dbstat WHERE name = 'merkle_nodes'")
    .get() as { b: number; pages: number }
  const rows = (db.prepare('SELECT count(*) AS n FROM merkle_nodes').get() as { n: number }).n
  db.close()
  rmSync(dir, { recursive: true, force: true })
  const us = (ns: bigint): string => (Number(ns) / 1000 / TOTAL).toFixed(2)
  console.log(
    JSON.stringify({
      traces: TOTAL,
      merkleNodeRows: rows,
      merkleNodeBytes: bytes.b,
      bytesPerTrace: (bytes.b / TOTAL).toFixed(1),
      merkleFinishUsPerTrace: us(finishNs),
      appendUsPerTrace: us(appendNs),
    }),
  )
}

await main()

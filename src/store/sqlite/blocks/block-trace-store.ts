/**
 * @module store/sqlite/blocks/block-trace-store
 * TraceStore on the block layout (schema version 8; see block-schema). A batch becomes one block per
 * project and UTC day (at most MAX_BLOCK_TRACES each), encoded before the write transaction (in an
 * ingest worker through `preparer`, or here for `append`); the transaction only checks duplicates,
 * assigns seqs (contiguous, from `trace_head`) and leaf indexes, and writes the block row, its
 * `trace_keys` rows, the operator and catalogue upserts and the Merkle nodes. The in-memory
 * directory and key filter change only once that transaction committed. A project's small blocks
 * are merged in the append transaction (see block-merge).
 */
import { ctsError } from '../../../errors/index.js'
import type { TraceRecord } from '../../../model/index.js'
import type {
  AppendResult,
  CatalogueEntry,
  MerkleHashing,
  PageCursor,
  PreparedBatch,
  SequencedTrace,
  StatisticsSpec,
  TraceActivity,
  TraceStatistics,
  TraceFilter,
  TracePage,
  TraceStore,
} from '../../store.js'
import type { StorageCondition } from '../../../platform/storage-condition.js'
import { guard, run } from '../driver-errors.js'
import { MerkleAppender } from '../sqlite-merkle-store.js'
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import { chunkInRow, dimsLayout, type BlockDims, type PageColumns } from './block-codec.js'
import { BlockDirectory, type BlockMeta } from './block-directory.js'
import { BlockReader, firstPositionAfter, positionOfSeq, seqAt } from './block-reader.js'
import { KeyIndex } from './key-index.js'
import { activityBlocks, RollupWarmer } from './block-activity.js'
import { statisticsBlocks } from './block-statistics.js'
import { searchScope } from './block-search.js'
import { pageBlocks } from './block-query.js'
import { traceKey } from './hashes.js'
import { positionsOf, valueKey } from './value-index.js'
import type { Postings } from './value-postings.js'
import { prepareBatch } from './prepare-batch.js'
import { BlockWriter, type Staged } from './block-writer.js'

/** Batches at least this large have their leaves hashed off the event loop (when possible). */
const OFFLOAD_MIN_TRACES = 64

/** A stored trace found by id. */
export interface TraceLocation {
  readonly meta: BlockMeta
  readonly position: number
  readonly seq: number
}

/** A stored trace read in seq order, with what the Merkle audit needs. */
export interface StoredRow {
  readonly seq: number
  readonly meta: BlockMeta
  readonly position: number
  readonly document: string
}

export class BlockTraceStore implements TraceStore {
  readonly preparer = { module: new URL('./prepare-batch.js', import.meta.url).href }
  readonly #db: SqliteDatabase
  readonly #dir: BlockDirectory
  readonly #reader: BlockReader
  readonly #keys: KeyIndex
  readonly #writer: BlockWriter
  readonly #warmer: RollupWarmer
  readonly #hashing: MerkleHashing | undefined
  readonly #merkle: MerkleAppender | undefined
  readonly #storage: StorageCondition | undefined
  readonly #selectHead: SqliteStatement
  readonly #statements = new Map<string, SqliteStatement>()
  /** Changes of transactions this store did not commit itself (see #settle). */
  #staged: Staged[] = []

  constructor(db: SqliteDatabase, merkle?: MerkleHashing, storage?: StorageCondition) {
    this.#db = db
    this.#hashing = merkle
    this.#storage = storage
    this.#dir = BlockDirectory.load(db)
    this.#reader = new BlockReader(db)
    this.#keys = new KeyIndex(db, this.#storedCount())
    this.#merkle =
      merkle === undefined ? undefined : new MerkleAppender(db, merkle, this.leafDocuments)
    this.#selectHead = db.prepare('SELECT seq FROM trace_head WHERE id = 1')
    this.#writer = new BlockWriter(db, this.#dir, this.#reader, this.#keys, (p, id, h) =>
      this.#locate(p, id, h),
    )
    this.#warmer = new RollupWarmer(() => this.#dir.all(), this.#reader)
  }

  /** Whether a decoded index's page columns cut the body as the dims do (see samePageLayout). */
  readonly #pageLayoutHolds = new WeakMap<PageColumns, boolean>()

  /**
   * Whether the value index lists a stored position under its resource id and name, and its page
   * columns give the position's rank, time and document length as the dims do (else a resource
   * filter would not find the trace, or place it wrongly: the audit reports it).
   */
  valueIndexHolds(meta: BlockMeta, position: number, columns: Record<string, unknown>): boolean {
    const rows = this.#reader.vals(meta)
    const page = rows.page
    if (page !== null) {
      const dims = this.#reader.dims(meta)
      // The block-wide part once per decoded index (the audit asks for every position).
      let layoutHolds = this.#pageLayoutHolds.get(page)
      if (layoutHolds === undefined)
        this.#pageLayoutHolds.set(page, (layoutHolds = samePageLayout(page, dims)))
      if (
        !layoutHolds ||
        page.category !== columns.category ||
        page.ranks[position] !== this.#reader.ranks(dims)[position] ||
        meta.minTime + (page.times[position] ?? 0) !== dims.times[position] ||
        page.docLengths[position] !== dims.docLengths[position]
      )
        return false
    }
    for (const column of ['resource_id', 'resource_name'] as const) {
      const value = columns[column]
      if (typeof value !== 'string') continue
      const key = valueKey(meta.projectId, column, value)
      const postings = this.#reader.postings(meta, key)
      if (postings !== undefined) {
        if (postings === null || !this.#postingHolds(meta, postings, position, columns))
          return false
        continue
      }
      const positions = positionsOf(rows, key)
      if (positions === null || !positions.includes(position)) return false
    }
    return true
  }

  /**
   * Whether postings list a position exactly once, with its time and the place of its document as
   * the dims give them (a wrong place would show another trace's document in resource pages).
   */
  #postingHolds(
    meta: BlockMeta,
    postings: Postings,
    position: number,
    columns: Record<string, unknown>,
  ): boolean {
    if (postings.category !== columns.category) return false
    const at: number[] = []
    postings.positions.forEach((p, k) => {
      if (p === position) at.push(k)
    })
    const k = at[0]
    if (at.length !== 1 || k === undefined) return false
    const dims = this.#reader.dims(meta)
    if (meta.minTime + (postings.times[k] ?? 0) !== dims.times[position]) return false
    const layout = dimsLayout(dims)
    const rank = this.#reader.ranks(dims)[position] ?? 0
    const chunk = Math.floor(rank / dims.chunkTraces)
    const { row, from, to } = chunkInRow(layout, chunk)
    let docFrom = 0
    for (let r = chunk * dims.chunkTraces; r < rank; r++) docFrom += layout.lengthAt(r)
    const place = postings.place(k)
    return (
      place.row === row &&
      place.chunkFrom === from &&
      place.chunkTo === to &&
      place.docFrom === docFrom &&
      place.docLength === layout.lengthAt(rank)
    )
  }

  /** Builds activity rollups in idle time from now on (a serving store; see RollupWarmer). */
  startWarming(): void {
    this.#warmer.start()
  }

  /** Stops building rollups (before the database closes). */
  stopWarming(): void {
    this.#warmer.stop()
  }

  #storedCount(): number {
    let n = 0
    for (const b of this.#dir.all()) n += b.count
    return n
  }

  #stmt(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  // ---- in-memory state after commits ----

  /** Applies committed changes to the directory and the key filter. */
  #apply(staged: Staged): void {
    for (const id of staged.remove) {
      this.#dir.remove(id)
      this.#reader.forget(id)
    }
    for (const meta of staged.add.values()) this.#dir.add(meta)
    this.#keys.committed(staged.keys, this.#storedCount())
    this.#warmer.appended(staged.keys.length)
  }

  #discard(staged: Staged): void {
    for (const id of staged.add.keys()) this.#reader.forget(id)
  }

  /**
   * Settles the changes `appendInTransaction` made inside a caller's transaction: committed when
   * their probe block is stored (checked before any other statement of this store runs, so no id
   * can have been reused meanwhile), rolled back otherwise.
   */
  #settle(): void {
    if (this.#staged.length === 0) return
    const pending = this.#staged
    this.#staged = []
    for (const staged of pending) {
      const probe = staged.probe
      const row =
        probe === undefined
          ? undefined
          : this.#stmt('SELECT min_seq FROM trace_blocks WHERE id = ?').get(probe.id)
      if (probe === undefined || (row as { min_seq: number } | undefined)?.min_seq === probe.minSeq)
        this.#apply(staged)
      else this.#discard(staged)
    }
  }

  // ---- lookups (also used by the Merkle store) ----

  /** The stored trace of `traceId` in the project, or undefined. */
  locate(projectId: string, traceId: string): TraceLocation | undefined {
    this.#settle()
    return this.#locate(projectId, traceId, traceKey(projectId, traceId))
  }

  #locate(projectId: string, traceId: string, h: number): TraceLocation | undefined {
    if (!this.#keys.mayContain(h)) return undefined
    const list = this.#dir.project(projectId)
    if (list.length === 0) return undefined
    const low = this.#dir.lowestSeq() ?? 0
    const high = this.#head()
    for (const seq of this.#keys.seqsOf(h, low, high)) {
      const meta = this.#dir.blockOfSeq(projectId, seq)
      if (meta === undefined) continue
      const dims = this.#reader.dims(meta)
      const position = positionOfSeq(meta, dims, seq)
      if (position < 0) continue
      if (this.#reader.strs(meta).traceIds[position] === traceId) return { meta, position, seq }
    }
    return undefined
  }

  #head(): number {
    return (this.#selectHead.get() as { seq: number } | undefined)?.seq ?? 0
  }

  /** The stored document at a position. */
  documentAt(meta: BlockMeta, position: number): string {
    const dims = this.#reader.dims(meta)
    const rank = this.#reader.ranks(dims)[position] ?? 0
    return this.#reader.documents(meta, dims, [rank])[0] ?? ''
  }

  /** The stored trace at a leaf index of the project's log, or undefined. */
  locateLeaf(projectId: string, leafIndex: number): TraceLocation | undefined {
    this.#settle()
    const meta = this.#dir.blockOfLeaf(projectId, leafIndex)
    if (meta === undefined || meta.minLeaf === null) return undefined
    const position = leafIndex - meta.minLeaf
    return { meta, position, seq: seqAt(meta, this.#reader.dims(meta), position) }
  }

  /**
   * The stored documents of the project's leaves [from, to), in leaf order; fewer when a leaf is
   * not stored (the Merkle store's low levels are recomputed from them).
   */
  readonly leafDocuments = (projectId: string, from: number, to: number): string[] => {
    const out: string[] = []
    for (let leaf = from; leaf < to; leaf++) {
      const at = this.locateLeaf(projectId, leaf)
      if (at === undefined) break
      out.push(this.documentAt(at.meta, at.position))
    }
    return out
  }

  /** The indexed values of a position, as `traces` columns (for the audit's column check). */
  columnsAt(meta: BlockMeta, position: number): Record<string, unknown> {
    const values = this.#writer.valuesAt(meta, position)
    const dims = this.#reader.dims(meta)
    return { ...values, project_id: meta.projectId, time: dims.times[position] }
  }

  /**
   * Stored traces with `seq > afterSeq` in seq order, at most `limit`, optionally of one project up
   * to `maxSeq`. Blocks are visited by min_seq; merged blocks interleave with others, so rows are
   * collected and sorted, and the walk stops once the next block starts past the limit-th seq. A
   * block's seqs rise with its positions: its first one past `afterSeq` is found by bisection, and
   * its documents are read together (each chunk decompressed once, not once per document).
   */
  scan(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): StoredRow[] {
    this.#settle()
    const blocks = scope === undefined ? this.#dir.all() : this.#dir.project(scope.projectId)
    const maxSeq = scope?.maxSeq ?? Infinity
    let picked: { seq: number; meta: BlockMeta; dims: BlockDims; position: number }[] = []
    for (const meta of blocks) {
      if (meta.maxSeq <= afterSeq) continue
      if (meta.minSeq > maxSeq) break
      const last = picked.length >= limit ? picked[limit - 1] : undefined
      if (last !== undefined && meta.minSeq > last.seq) break
      const dims = this.#reader.dims(meta)
      let taken = 0
      for (let p = firstPositionAfter(meta, dims, afterSeq); p < dims.count && taken < limit; p++) {
        const seq = seqAt(meta, dims, p)
        if (seq > maxSeq) break
        picked.push({ seq, meta, dims, position: p })
        taken++
      }
      if (taken > 0) picked = picked.sort((a, b) => a.seq - b.seq).slice(0, limit)
    }
    const ranks = new Map<BlockMeta, number[]>()
    for (const r of picked) {
      const list = ranks.get(r.meta)
      const rank = this.#reader.ranks(r.dims)[r.position] ?? 0
      if (list === undefined) ranks.set(r.meta, [rank])
      else list.push(rank)
    }
    const documents = new Map<BlockMeta, string[]>()
    for (const r of picked)
      if (!documents.has(r.meta))
        documents.set(r.meta, this.#reader.documents(r.meta, r.dims, ranks.get(r.meta) ?? []))
    const taken = new Map<BlockMeta, number>()
    return picked.map(({ seq, meta, position }) => {
      const k = taken.get(meta) ?? 0
      taken.set(meta, k + 1)
      return { seq, meta, position, document: documents.get(meta)?.[k] ?? '' }
    })
  }

  // ---- append ----

  /**
   * Stores prepared batches in the transaction already open (config changes commit their audit
   * traces with the change); their in-memory changes are settled before the next operation.
   */
  #appendPreparedInTransaction(batches: readonly PreparedBatch[]): Map<string, AppendResult> {
    this.#settle()
    const log = this.#merkle?.begin()
    const { results, staged } = this.#writer.write(batches, this.#head(), log, this.#hashing)
    log?.finish()
    this.#staged.push(staged)
    return results
  }

  /** See SqliteTraceAppender; must run inside a transaction. */
  appendInTransaction(
    traces: readonly TraceRecord[],
    leafHashes?: readonly Buffer[],
  ): AppendResult {
    const batches = this.#prepareAll(traces, leafHashes)
    return combine(traces, this.#appendPreparedInTransaction(batches))
  }

  /** One PreparedBatch per project (first appearance order), made on this thread. */
  #prepareAll(traces: readonly TraceRecord[], leafHashes?: readonly Buffer[]): PreparedBatch[] {
    const groups = new Map<string, number[]>()
    traces.forEach((t, i) => {
      const list = groups.get(t.project_id)
      if (list === undefined) groups.set(t.project_id, [i])
      else list.push(i)
    })
    const hashing = this.#hashing
    return [...groups].map(([projectId, indexes]) => {
      const group = indexes.map((i) => traces[i] as TraceRecord)
      const documents = group.map((t) =>
        hashing === undefined ? JSON.stringify(t) : hashing.document(t),
      )
      const hashes =
        hashing === undefined
          ? null
          : documents.map((d, k) => leafHashes?.[indexes[k] ?? 0] ?? hashing.leafHash(d))
      return prepareBatch({ projectId, traces: group, documents, leafHashes: hashes })
    })
  }

  async append(traces: readonly TraceRecord[]): Promise<AppendResult> {
    const hashing = this.#hashing
    let leafHashes: Buffer[] | undefined
    if (hashing?.leafHashes !== undefined && traces.length >= OFFLOAD_MIN_TRACES) {
      const documents = guard('write', () => traces.map((t) => hashing.document(t)))
      leafHashes = await hashing.leafHashes(documents)
    }
    const batches = guard('write', () => this.#prepareAll(traces, leafHashes))
    return this.#write(batches).then((results) => combine(traces, results))
  }

  appendPrepared(batch: PreparedBatch): Promise<AppendResult> {
    return this.#write([batch]).then((results) => results.get(batch.projectId) ?? emptyResult())
  }

  #write(batches: readonly PreparedBatch[]): Promise<Map<string, AppendResult>> {
    return run('write', () => {
      this.#settle()
      const { results, staged } = this.#db.transaction(() => {
        const log = this.#merkle?.begin()
        const out = this.#writer.write(batches, this.#head(), log, this.#hashing)
        log?.finish()
        return out
      })()
      this.#apply(staged)
      this.#merkle?.committed()
      for (const r of results.values())
        if (r.inserted.length > 0) {
          this.#storage?.markWritable()
          break
        }
      return results
    })
  }

  // ---- reads ----

  page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage> {
    return run('read', () => {
      this.#settle()
      let anchor: { time: number; seq: number } | null = null
      if (after !== null) {
        const at = this.#locate(
          filter.projectId,
          after.traceId,
          traceKey(filter.projectId, after.traceId),
        )
        if (at === undefined)
          throw ctsError(
            'OCTS_ERR_QUERY',
            `Query failed: the next marker ${after.traceId} does not identify a stored trace of this project (expired after 7 days, or not a marker).`,
          )
        anchor = { time: this.#reader.dims(at.meta).times[at.position] ?? 0, seq: at.seq }
      }
      this.#searchScope(filter)
      return pageBlocks(this.#dir, this.#reader, filter, anchor, limit, (column, value) => {
        const key = valueKey(filter.projectId, column, value)
        return (meta) => {
          const postings = this.#reader.postings(meta, key)
          if (postings !== undefined)
            return postings === null
              ? null
              : { positions: postings.positions, page: null, postings }
          const rows = this.#reader.vals(meta)
          const positions = positionsOf(rows, key)
          return positions === null ? null : { positions, page: rows.page }
        }
      })
    })
  }

  /** Refuses a search over more traces than its bound (block-search). */
  #searchScope(filter: TraceFilter): void {
    searchScope(this.#dir, this.#reader, filter)
  }

  activity(filter: TraceFilter, start: number, step: number, top: number): Promise<TraceActivity> {
    return run('read', () => {
      this.#settle()
      this.#searchScope(filter)
      return activityBlocks(this.#dir, this.#reader, filter, start, step, top)
    })
  }

  statistics(filter: TraceFilter, spec: StatisticsSpec): Promise<TraceStatistics> {
    return run('read', () => {
      this.#settle()
      this.#searchScope(filter)
      return statisticsBlocks(this.#dir, this.#reader, filter, spec)
    })
  }

  get(projectId: string, traceId: string): Promise<TraceRecord | undefined> {
    return run('read', () => {
      const at = this.locate(projectId, traceId)
      return at === undefined
        ? undefined
        : (JSON.parse(this.documentAt(at.meta, at.position)) as TraceRecord)
    })
  }

  /**
   * Drops whole blocks whose traces are all before `time`, oldest first, up to `maxRows` traces; a
   * block larger than what is left of the budget loses its oldest positions (commit order, so its
   * leaves stay contiguous). A block holding traces at or after `time` stays until all have passed
   * (blocks never span a UTC day, so that is at most a day; its older traces are outside every
   * query window of the retention).
   */
  purgeBefore(time: number, maxRows: number): Promise<number> {
    return run('write', () => {
      this.#settle()
      const expired = this.#dir
        .all()
        .filter((b) => b.maxTime < time)
        .sort((a, b) => a.maxTime - b.maxTime || a.minSeq - b.minSeq)
      if (expired.length === 0 || maxRows <= 0) return 0
      const { purged, staged } = this.#db.transaction(() => this.#writer.purge(expired, maxRows))()
      this.#apply(staged)
      return purged
    })
  }

  readFrom(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): Promise<SequencedTrace[]> {
    return run('read', () =>
      this.scan(afterSeq, limit, scope).map((r) => ({
        seq: r.seq,
        trace: JSON.parse(r.document) as TraceRecord,
      })),
    )
  }

  headSeq(): Promise<number> {
    return run('read', () => {
      this.#settle()
      return this.#head()
    })
  }

  operators(projectId: string, since: number): Promise<string[]> {
    return run('read', () => {
      const rows = this.#stmt(
        'SELECT user_name FROM operators WHERE project_id = ? AND last_seen >= ? ORDER BY user_name',
      ).all(projectId, since) as { user_name: string }[]
      return rows.map((r) => r.user_name)
    })
  }

  catalogue(projectId: string): Promise<CatalogueEntry[]> {
    return run(
      'read',
      () =>
        this.#stmt(
          'SELECT service_type, resource_type, trace_name FROM catalogue WHERE project_id = ? ORDER BY service_type, resource_type, trace_name',
        ).all(projectId) as CatalogueEntry[],
    )
  }
}

function emptyResult(): AppendResult {
  return { inserted: [], duplicates: [], leafIndexes: new Map() }
}

/** One AppendResult for a batch of many projects, in batch order. */
function combine(
  traces: readonly TraceRecord[],
  results: ReadonlyMap<string, AppendResult>,
): AppendResult {
  if (results.size === 1) return [...results.values()][0] ?? emptyResult()
  const inserted: string[] = []
  const duplicates: string[] = []
  const leafIndexes = new Map<string, number | null>()
  const fresh = new Map<string, Set<string>>()
  for (const [projectId, r] of results) {
    fresh.set(projectId, new Set(r.inserted))
    for (const [id, leaf] of r.leafIndexes) leafIndexes.set(id, leaf)
  }
  for (const t of traces) {
    const set = fresh.get(t.project_id)
    if (set?.delete(t.trace_id) === true) inserted.push(t.trace_id)
    else duplicates.push(t.trace_id)
  }
  return { inserted, duplicates, leafIndexes }
}

/** Whether page columns cut the body as the dims do (and the block's seqs are its positions). */
function samePageLayout(page: PageColumns, dims: BlockDims): boolean {
  return (
    dims.seqOffsets === null &&
    page.ranks.length === dims.count &&
    page.chunkTraces === dims.chunkTraces &&
    page.rowChunks === dims.rowChunks &&
    page.chunkOffsets.length === dims.chunkOffsets.length &&
    page.chunkOffsets.every((v, k) => v === dims.chunkOffsets[k])
  )
}

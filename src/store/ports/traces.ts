/**
 * @module store/ports/traces
 * The trace port: append a batch, page newest-first by a filter, get by id, count, purge, read from a commit cursor.
 */
import type { TraceCategory, TraceRating, TraceRecord } from '../../model/index.js'

/** The fields a search (`q=`) may name; `user_name` is the API's `user`. */
export type SearchField =
  | 'service_type'
  | 'resource_type'
  | 'resource_id'
  | 'resource_name'
  | 'trace_name'
  | 'trace_rating'
  | 'tracker_name'
  | 'user_name'
  | 'access_key_id'
  | 'enterprise_project_id'
  | 'source_ip'
  | 'code'

/**
 * A search (query/search-query parses it). A node never yields "unknown": a trace without a value
 * in a field matches no `match` and no `compare` on it, and so matches their `not`.
 */
export type SearchNode =
  | { readonly kind: 'and' | 'or'; readonly nodes: readonly SearchNode[] }
  | { readonly kind: 'not'; readonly node: SearchNode }
  /** The field's value equals `value`, or with `prefix` starts with it (case-sensitive). */
  | {
      readonly kind: 'match'
      readonly field: SearchField
      readonly value: string
      readonly prefix: boolean
    }
  /** `code` read as a decimal integer compares so with `value` (a code that is not one: no match). */
  | {
      readonly kind: 'compare'
      readonly field: 'code'
      readonly op: '<' | '<=' | '>' | '>='
      readonly value: number
    }
  /**
   * `value` (lower case) occurs in the resource name, resource id or trace name, ASCII letters
   * compared without case.
   */
  | { readonly kind: 'text'; readonly value: string }

/** A search with the bound of its cost. */
export interface TraceSearch {
  readonly root: SearchNode
  /**
   * The most traces the window and the exact filters may select for the search to be run over
   * them: past that the store refuses the query (OCTS_ERR_QUERY, 400) saying how to narrow it.
   */
  readonly maxScan: number
}

/** Filter of a trace page. Every string filter is an exact, case-sensitive match. */
export interface TraceFilter {
  readonly projectId: string
  /** Exclusive lower bound on `time` (ms). */
  readonly from: number
  /** Exclusive upper bound on `time` (ms). */
  readonly to: number
  readonly category: TraceCategory
  readonly trackerName?: string
  readonly serviceType?: string
  readonly resourceType?: string
  readonly resourceId?: string
  readonly resourceName?: string
  readonly traceName?: string
  readonly traceRating?: TraceRating
  readonly userName?: string
  readonly accessKeyId?: string
  readonly enterpriseProjectId?: string
  /** Traces must also match this search. */
  readonly search?: TraceSearch
}

/**
 * Position in the newest-first order: the page continues strictly after the trace `traceId` (a
 * previous page's marker). Ties on `time` are broken by commit order, newest first.
 */
export interface PageCursor {
  readonly traceId: string
}

/** Counts of the traces matching a filter, per interval and per operation (the activity chart). */
export interface TraceActivity {
  /** Non-empty intervals only: `index` i covers [start + i * step, start + (i + 1) * step). */
  readonly buckets: { index: number; normal: number; warning: number; incident: number }[]
  /** The largest operations, by count (then service, then name). */
  readonly operations: {
    serviceType: string
    traceName: string
    count: number
    warning: number
    incident: number
  }[]
  readonly total: number
}

/** What statistics may group by or count distinct values of (`user_name` is the API's `user`). */
export type StatField =
  | 'service_type'
  | 'resource_type'
  | 'trace_name'
  | 'user_name'
  | 'source_ip'
  | 'trace_rating'
  | 'code'
  | 'access_key_id'

/** What `statistics` counts (see TraceStore.statistics). */
export interface StatisticsSpec {
  /** Zero to two fields, in the order of the groups' values. */
  readonly groupBy: readonly StatField[]
  /** Also count the distinct values of this field per group. */
  readonly distinct: StatField | null
  /** Groups returned, the largest first; the rest are folded into `other`. */
  readonly top: number
  /** Counts per interval too: index i covers [start + i × step, start + (i + 1) × step). */
  readonly buckets: { readonly start: number; readonly step: number } | null
}

/** Counts of one group (or of the folded rest). */
export interface StatisticsCounts {
  readonly count: number
  /** Distinct values of the spec's `distinct` field (null when none was asked). */
  readonly distinct: number | null
  /** Non-empty intervals by index (null when no buckets were asked). */
  readonly buckets: readonly { readonly index: number; readonly count: number }[] | null
}

export interface StatisticsGroup extends StatisticsCounts {
  /** The group's value of each `groupBy` field (null: the trace has none). */
  readonly values: readonly (string | null)[]
}

export interface TraceStatistics {
  /** Traces matching the filter. */
  readonly total: number
  /** The `top` largest groups by count (then values); one group of no values without `groupBy`. */
  readonly groups: readonly StatisticsGroup[]
  /** The groups past `top`, folded (`groups` says how many); null when none. */
  readonly other: (StatisticsCounts & { readonly groups: number }) | null
}

export interface TracePage {
  readonly traces: TraceRecord[]
  /** True when at least one more trace matches after the last one returned. */
  readonly hasMore: boolean
}

export interface AppendResult {
  /** Ids stored by this call. */
  readonly inserted: string[]
  /** Ids that were already stored (idempotent re-report); not stored again. */
  readonly duplicates: string[]
  /**
   * The leaf index in its project's Merkle log of every trace of the batch (new and already
   * stored), by trace id; null for a trace stored while the log was off. Empty when the log is off.
   */
  readonly leafIndexes: ReadonlyMap<string, number | null>
}

/** A committed trace with its position in the store's commit order (for downstream cursors). */
export interface SequencedTrace {
  readonly seq: number
  readonly trace: TraceRecord
}

export interface CatalogueEntry {
  readonly service_type: string
  readonly resource_type: string
  readonly trace_name: string
}

/**
 * Work an engine does on a batch off the event loop. The ingest worker threads parse and normalise
 * a batch, compute each trace's stored document (and its leaf hash when the Merkle log is on), then
 * import `module` and call its `prepareBatch`; the result is handed to `appendPrepared` on the main
 * thread. An engine without a preparer gets the normalised traces through `append`.
 */
export interface TracePreparer {
  /** URL (`file:`) of a module exporting `prepareBatch` (a {@link PrepareBatch}). */
  readonly module: string
}

/** What the ingest worker gives an engine's `prepareBatch`: one project's normalised batch. */
export interface PrepareInput {
  readonly projectId: string
  /** Normalised traces, batch order (a repeated id may occur; the engine stores it once). */
  readonly traces: readonly TraceRecord[]
  /** The stored document of each trace (MerkleHashing.document), same order. */
  readonly documents: readonly string[]
  /** The leaf hash of each document, same order; null when the Merkle log is off. */
  readonly leafHashes: readonly Buffer[] | null
}

/** An engine's encoding of a batch, made in a worker thread (structured-cloneable). */
export interface PreparedBatch {
  readonly projectId: string
  /** Trace ids in batch order (as `append`'s input order). */
  readonly traceIds: readonly string[]
  /** Engine-specific payload; its ArrayBuffers listed in `transfer` are moved, not copied. */
  readonly payload: unknown
  readonly transfer: readonly ArrayBuffer[]
}

/** The function a preparer module exports as `prepareBatch`. */
export type PrepareBatch = (input: PrepareInput) => PreparedBatch

export interface TraceStore {
  /** Present when the engine encodes batches off the event loop (see TracePreparer). */
  readonly preparer?: TracePreparer
  /**
   * Stores a batch made by the preparer's `prepareBatch`, with the semantics of `append` (one
   * durable transaction, duplicates skipped, Merkle leaves appended).
   */
  appendPrepared?(batch: PreparedBatch): Promise<AppendResult>
  /**
   * Stores a batch in one durable transaction: either every new trace is stored or none is.
   * A `trace_id` already stored is skipped (reported in `duplicates`), as is a repeat within the batch.
   * When the promise resolves the traces are durable and visible to `page` and `get`.
   */
  append(traces: readonly TraceRecord[]): Promise<AppendResult>
  /**
   * Returns up to `limit` traces matching `filter`, newest first, strictly after `after` when given.
   * Throws OCTS_ERR_QUERY when `after` is not a stored trace of the project.
   */
  page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage>
  /** The trace with this id in this project, or undefined. */
  /**
   * Counts the traces matching `filter` per `step` ms from `start` by rating, and per operation
   * (the `top` largest), in the store (never loading the traces).
   */
  activity(filter: TraceFilter, start: number, step: number, top: number): Promise<TraceActivity>
  /**
   * Counts the traces matching `filter` grouped by up to two fields, with distinct counts and
   * intervals when asked, in the store. Throws OCTS_ERR_QUERY (a 400 saying so) when it would track
   * more than STATISTICS_MAX_CELLS combinations of group, distinct value and interval.
   */
  statistics(filter: TraceFilter, spec: StatisticsSpec): Promise<TraceStatistics>
  get(projectId: string, traceId: string): Promise<TraceRecord | undefined>
  /**
   * Deletes traces whose `time` is before `time`, at most `maxRows` per call; returns the count.
   * An engine that stores traces by day (PostgreSQL's day partitions) purges whole days only: the
   * day `time` falls in is kept until it has passed (its older traces are never shown: queries and
   * `get` answer within the retention), and a day's rows go at once once its keys are deleted.
   */
  purgeBefore(time: number, maxRows: number): Promise<number>
  /**
   * Committed traces with `seq > afterSeq`, in commit order, at most `limit`; with `scope`, only
   * those of `scope.projectId` with `seq <= scope.maxSeq`. The bound keeps one call's scan short
   * when the project has few traces among many (callers walk the sequence window by window).
   */
  readFrom(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): Promise<SequencedTrace[]>
  /** The highest `seq` ever committed (0 for an empty store); never goes backwards. */
  headSeq(): Promise<number>
  /** Distinct operator names of the project seen at or after `since` (ms), sorted. */
  operators(projectId: string, since: number): Promise<string[]>
  /** Distinct (service, resource type, trace name) seen in the project, sorted. */
  catalogue(projectId: string): Promise<CatalogueEntry[]>
}

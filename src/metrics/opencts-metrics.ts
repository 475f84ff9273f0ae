/**
 * @module metrics/opencts-metrics
 * The metrics of an OpenCTS server (docs/metrics.md lists each with its labels and meaning). Other
 * modules report through the methods below and never touch the registry; values owned elsewhere
 * (outbox depth, transfer lag) are read from callbacks at scrape time. Every label set is bounded
 * (10,000 per metric, then `{overflow="true"}`), whatever services, trace names or sinks appear.
 */
import { performance } from 'node:perf_hooks'
import type { TraceRecord } from '../model/index.js'
import type { Counter } from './counter.js'
import type { Gauge } from './gauge.js'
import type { Histogram } from './histogram.js'
import { MetricsRegistry } from './registry.js'
import { renderPrometheus } from './render-prometheus.js'

/** Outcome of one delivery attempt of a notification (or other outbox message). */
export type DeliveryOutcome = 'delivered' | 'failed' | 'dead'
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'failed', 'dead']

/** The ListTraces API version (`v1.0`, `v2.0` legacy, `v3`). */
export type QueryApi = 'v1.0' | 'v2.0' | 'v3'
export const QUERY_APIS: readonly QueryApi[] = ['v1.0', 'v2.0', 'v3']

/** How far one tracker's transfer to object storage is behind (transfer-lag.ts). */
export interface TransferLag {
  readonly tracker: string
  readonly project: string
  readonly seconds: number
}

/** Where data is written: the SQLite store (`database`) or the object folder (`objects`). */
export type StorageName = 'database' | 'objects'

/** What the metrics read of a storage's disk-full condition (platform/storage-condition). */
export interface WatchedStorage {
  readonly full: boolean
  onFull(listener: () => void): void
}

/** Connections of the store's pool (PostgreSQL): open, idle, and callers waiting for one. */
export interface StorePool {
  readonly size: number
  readonly idle: number
  readonly waiting: number
}

/** A lease of background work this node competes for, and whether it holds it now. */
export interface LeaseHeld {
  readonly lease: string
  readonly held: boolean
}

export interface OpenCtsMetricsOptions {
  /** `process_start_time_seconds` (default: this process's start, `performance.timeOrigin`). */
  readonly startTimeSeconds?: number
  /** Distinct label sets per metric (default 10,000). */
  readonly maxSeries?: number
}

export class OpenCtsMetrics {
  readonly registry: MetricsRegistry
  readonly #ingested: Counter<'service' | 'trace_name' | 'rating'>
  readonly #ingestDuration: Histogram
  readonly #queryDuration: Histogram<'api'>
  readonly #deliveries: Counter<'outcome'>
  readonly #logStream: Counter<'sink' | 'outcome'>
  readonly #outboxDepth: Gauge
  readonly #transferLag: Gauge<'project' | 'tracker'>
  readonly #storageFullErrors: Counter<'store'>
  readonly #storePool: Gauge<'state'>
  readonly #leases: Gauge<'lease'>
  readonly #ingestSteps: Gauge<'step'>
  readonly #storage = new Map<StorageName, WatchedStorage>()
  #version = 'unknown'

  constructor(options: OpenCtsMetricsOptions = {}) {
    // A failing callback (e.g. the store is down) is counted here, read later than it is declared.
    const registry = new MetricsRegistry({
      ...(options.maxSeries === undefined ? {} : { maxSeries: options.maxSeries }),
      onCollectError: (metric) => errors.inc({ metric }),
    })
    const errors = registry.counter({
      name: 'opencts_metrics_callback_errors_total',
      help: 'Scrapes in which the value of a metric could not be read (that metric had no samples).',
      labelNames: ['metric'],
    })
    this.registry = registry
    this.#ingested = registry.counter({
      name: 'opencts_traces_ingested_total',
      help: 'Traces committed to the store (reported and self-audit), by service, trace name and rating.',
      labelNames: ['service', 'trace_name', 'rating'],
    })
    this.#ingestDuration = registry.histogram({
      name: 'opencts_ingest_duration_seconds',
      help: 'Duration of trace ingest requests (POST /v3/{project_id}/traces), any outcome.',
    })
    this.#queryDuration = registry.histogram({
      name: 'opencts_query_duration_seconds',
      help: 'Duration of ListTraces requests by API version, any outcome.',
      labelNames: ['api'],
    })
    this.#deliveries = registry.counter({
      name: 'opencts_deliveries_total',
      help: 'Delivery attempts of outbox messages by outcome (delivered, failed and retried, dead).',
      labelNames: ['outcome'],
    })
    this.#logStream = registry.counter({
      name: 'opencts_log_stream_records_total',
      help: 'Trace records sent to log stream sinks, by sink and outcome.',
      labelNames: ['sink', 'outcome'],
    })
    this.#outboxDepth = registry.gauge({
      name: 'opencts_outbox_depth',
      help: 'Messages waiting in the delivery outbox.',
      collect: async () => [{ labels: {}, value: 0 }],
    })
    this.#transferLag = registry.gauge({
      name: 'opencts_transfer_lag_seconds',
      help: 'Age of the oldest trace of the tracker project not yet passed by its transfer to object storage.',
      labelNames: ['project', 'tracker'],
    })
    registry.gauge({
      name: 'opencts_storage_full',
      help: 'Whether writes to the database or the object folder fail for lack of disk space now (1) or not (0).',
      labelNames: ['store'],
      collect: async () =>
        [...this.#storage].map(([store, condition]) => ({
          labels: { store },
          value: condition.full ? 1 : 0,
        })),
    })
    this.#storageFullErrors = registry.counter({
      name: 'opencts_storage_full_errors_total',
      help: 'Writes refused for lack of disk space, by store (database, objects).',
      labelNames: ['store'],
    })
    this.#storePool = registry.gauge({
      name: 'opencts_store_pool_connections',
      help: 'Connections of the pool to the database (PostgreSQL): total open, idle, and callers waiting for one.',
      labelNames: ['state'],
    })
    this.#leases = registry.gauge({
      name: 'opencts_lease_held',
      help: 'Whether this node holds the lease of a background job now (1) or another node does (0).',
      labelNames: ['lease'],
    })
    this.#ingestSteps = registry.gauge({
      name: 'opencts_ingest_step_microseconds_per_trace',
      help: 'Mean time per trace of each step of ingest preparation since start (parse, normalise, document, hash, prepare), in microseconds, where the steps ran (worker threads or the event loop).',
      labelNames: ['step'],
    })
    const start = options.startTimeSeconds ?? performance.timeOrigin / 1000
    registry.gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since the Unix epoch in seconds.',
      collect: async () => [{ labels: {}, value: start }],
    })
    registry.gauge({
      name: 'opencts_build_info',
      help: 'Always 1; the OpenCTS version in its label.',
      labelNames: ['version'],
      collect: async () => [{ labels: { version: this.#version }, value: 1 }],
    })
    // Known series start at 0, so rates and alerts work from the first event on.
    for (const outcome of DELIVERY_OUTCOMES) this.#deliveries.inc({ outcome }, 0)
    this.#ingestDuration.touch({})
    for (const api of QUERY_APIS) this.#queryDuration.touch({ api })
  }

  /** Counts committed traces (subscribed to the ingest Publisher). */
  tracesIngested(
    traces: readonly Pick<TraceRecord, 'service_type' | 'trace_name' | 'trace_rating'>[],
  ): void {
    // One increment per distinct (service, trace name, rating) of the batch, not one per trace:
    // the series lookup builds its label key each time (~1 µs), on the event loop, for every
    // ingested trace.
    const counts = new Map<string, Map<string, Map<string, number>>>()
    for (const { service_type: service, trace_name: name, trace_rating: rating } of traces) {
      let byName = counts.get(service)
      if (byName === undefined)
        counts.set(service, (byName = new Map<string, Map<string, number>>()))
      let byRating = byName.get(name)
      if (byRating === undefined) byName.set(name, (byRating = new Map<string, number>()))
      byRating.set(rating, (byRating.get(rating) ?? 0) + 1)
    }
    for (const [service, byName] of counts)
      for (const [name, byRating] of byName)
        for (const [rating, n] of byRating)
          this.#ingested.inc({ service, trace_name: name, rating }, n)
  }

  /** Records one ingest request's duration. */
  ingestDuration(seconds: number): void {
    this.#ingestDuration.observe({}, seconds)
  }

  /** Records one ListTraces request's duration. */
  queryDuration(api: QueryApi, seconds: number): void {
    this.#queryDuration.observe({ api }, seconds)
  }

  /** Counts one delivery attempt's outcome: `failed` will be retried, `dead` will not. */
  deliveryOutcome(outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ outcome })
  }

  /** Counts `records` (default 1) trace records sent to a log stream sink with this outcome. */
  logStreamOutcome(sink: string, outcome: string, records = 1): void {
    this.#logStream.inc({ sink, outcome }, records)
  }

  /** Where `opencts_outbox_depth` is read at each scrape (default: always 0). */
  setOutboxDepth(depth: () => Promise<number>): void {
    this.#outboxDepth.collectWith(async () => [{ labels: {}, value: await depth() }])
  }

  /** Where `opencts_transfer_lag_seconds` is read at each scrape (default: no tracker). */
  setTransferLag(lag: () => Promise<readonly TransferLag[]>): void {
    this.#transferLag.collectWith(async () =>
      (await lag()).map((l) => ({
        labels: { project: l.project, tracker: l.tracker },
        value: l.seconds,
      })),
    )
  }

  /** Where `opencts_store_pool_connections` is read at each scrape (undefined: no pool, no sample). */
  setStorePool(pool: () => Promise<StorePool | undefined>): void {
    this.#storePool.collectWith(async () => {
      const now = await pool()
      if (now === undefined) return []
      return [
        { labels: { state: 'total' }, value: now.size },
        { labels: { state: 'idle' }, value: now.idle },
        { labels: { state: 'waiting' }, value: now.waiting },
      ]
    })
  }

  /** Where `opencts_lease_held` is read at each scrape (default: no lease). */
  setLeases(leases: () => readonly LeaseHeld[]): void {
    this.#leases.collectWith(async () =>
      leases().map((l) => ({ labels: { lease: l.lease }, value: l.held ? 1 : 0 })),
    )
  }

  /**
   * Where `opencts_ingest_step_microseconds_per_trace` is read at each scrape: cumulative µs per
   * step and the traces they covered (no sample before the first trace).
   */
  setIngestSteps(
    steps: () => { readonly micros: Readonly<Record<string, number>>; readonly traces: number },
  ): void {
    this.#ingestSteps.collectWith(async () => {
      const now = steps()
      if (now.traces === 0) return []
      return Object.entries(now.micros).map(([step, micros]) => ({
        labels: { step },
        value: micros / now.traces,
      }))
    })
  }

  /** Exports `condition` as `opencts_storage_full{store}` and counts its refused writes. */
  watchStorage(store: StorageName, condition: WatchedStorage): void {
    this.#storage.set(store, condition)
    this.#storageFullErrors.inc({ store }, 0)
    condition.onFull(() => this.#storageFullErrors.inc({ store }))
  }

  /** The version exported by `opencts_build_info` (set by the HTTP app). */
  setVersion(version: string): void {
    this.#version = version
  }

  /** Every metric in the Prometheus text format 0.0.4 (runs the callbacks). */
  async render(): Promise<string> {
    return renderPrometheus(await this.registry.collect())
  }
}

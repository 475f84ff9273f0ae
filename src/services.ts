/**
 * @module services
 * Wires the capability modules together over one store. Used by the composition roots
 * (`server.ts`, tests); the HTTP layer receives the result and never constructs services itself.
 */
import {
  Authenticator,
  FailureThrottle,
  IdentityAdmin,
  type MasterKey,
  type ScryptCost,
} from './auth/index.js'
import type { OpenCtsConfig } from './config/config.js'
import { Ingestor, Publisher, SelfAudit, commitTraces, type ServiceResult } from './ingest/index.js'
import { PreparePool } from './ingest/prepare-pool.js'
import { OpenCtsMetrics, storeTransferLag } from './metrics/index.js'
import type { Clock, IdSource } from './platform/clock.js'
import type { StorageCondition } from './platform/storage-condition.js'
import { TraceQuery } from './query/index.js'
import type { Project } from './auth/index.js'
import type { Store, StoreHealth, TraceStore } from './store/index.js'
import { NotificationService } from './notifications/index.js'
import { TagService, TrackerService, getQuotas } from './trackers/index.js'
import { ProjectRegistry } from './trackers/project-registry.js'
import { KmsKeys } from './transfer/kms-keys.js'
import { SigningKeys } from './transfer/signing-keys.js'
import type { ObjectSink } from './transfer/object-sink.js'
import { TransferService } from './transfer/transfer-service.js'
import type { Tracker } from './model/index.js'
import { readFileSync } from 'node:fs'
import { DeliveryService } from './delivery/delivery-service.js'
import { DeliveryWorker, type EmailPort } from './delivery/delivery-worker.js'
import { HttpPoster } from './delivery/http-poster.js'
import { NotificationMatcher } from './delivery/notification-matcher.js'
import { TopicService } from './delivery/topic-service.js'
import { Checkpointer } from './log/checkpointer.js'
import { LogKeys } from './log/log-keys.js'
import { LogService } from './log/log-service.js'
import { AlarmService } from './alarms/alarm-service.js'
import { AlarmEvaluator } from './alarms/alarm-evaluator.js'
import type { AlarmRule } from './store/index.js'
import { detectorSettings } from './insights/detector-settings.js'
import { InsightJob } from './insights/insight-job.js'
import { InsightQuery } from './insights/insight-query.js'
import type { InsightRecord } from './store/index.js'

/** What the query-side routes read of stored traces (activity, catalogue, export): reads only. */
export type TraceReads = Pick<
  TraceStore,
  'page' | 'get' | 'activity' | 'statistics' | 'catalogue' | 'operators'
>

/** The store's condition as `/health` reports it. */
export interface StoreStatus {
  /** Engine, location without credentials, reachability, connection pool. */
  health(): Promise<StoreHealth>
  /** One cheap read; throws the store's error when it does not answer. */
  read(now: number): Promise<void>
  /** Whether writes fail for lack of space. */
  readonly storage: StorageCondition
  /** Commits a small write needing new space (clears `storage` when it succeeds). */
  probeSpace(): Promise<void>
  /** The leases this node holds now. */
  leases(): readonly string[]
}

/** What the HTTP layer is given: the services, never the whole store. */
export type HttpServices = Omit<Services, 'store'>

export interface Services {
  readonly config: OpenCtsConfig
  /** For the composition root and tests; the HTTP layer gets HttpServices, without it. */
  readonly store: Store
  /** Reads of stored traces for the query-side routes. */
  readonly traceReads: TraceReads
  /** `/health`'s view of the store. */
  readonly storeStatus: StoreStatus
  /** The tracker and notification quotas of a project (`GET /v3/{project_id}/quotas`). */
  quotas(projectId: string): Promise<ServiceResult>
  /** The projects of an account, sorted by name (the account-wide catalogue). */
  accountProjects(accountId: string): Promise<Project[]>
  readonly clock: Clock
  readonly ids: IdSource
  readonly publisher: Publisher
  /**
   * Wake-ups after commits of traces, this node's (the publisher) and, on a store shared by several
   * nodes, the other nodes' (`store.coordination.onRemoteCommit`): for consumers that read what
   * was committed from the store (notification delivery, log streams).
   */
  readonly commits: CommitSignal
  readonly audit: SelfAudit
  readonly ingestor: Ingestor
  readonly projects: ProjectRegistry
  readonly traceQuery: TraceQuery
  readonly trackers: TrackerService
  readonly notifications: NotificationService
  readonly tags: TagService
  readonly identity: IdentityAdmin
  readonly auth: Authenticator
  /** Encryption master keys of trace files (a tracker's `kms_id`). */
  readonly kmsKeys: KmsKeys
  /** Digest signing keys and their validity windows. */
  readonly signingKeys: SigningKeys
  /** Disk-full condition of the object folder (null for S3 or no sink): `/health`, metrics. */
  readonly objectStorage: StorageCondition | null
  /** Transfer to object storage; null when no object sink was given (tests of other parts). */
  readonly transfer: TransferService | null
  /** Prometheus metrics (`GET /metrics`); committed traces are counted through `publisher`. */
  readonly metrics: OpenCtsMetrics
  /** Topics, subscriptions, function endpoints and deliveries (the API). */
  readonly topics: TopicService
  /** Key-event notification delivery (started by the server). */
  readonly delivery: DeliveryService
  /** The verifiable log's checkpoints, proofs and keys (the API). */
  readonly log: LogService
  /** Signs checkpoints of grown logs every `checkpointIntervalMs` (started by the server). */
  readonly checkpointer: Checkpointer
  /** Alarm rules and their history (the API). */
  readonly alarms: AlarmService
  /** Evaluates the alarm rules every `alarmIntervalSeconds` (started by the server). */
  readonly alarmEvaluator: AlarmEvaluator
  /** Lists a project's insights (the API). */
  readonly insights: InsightQuery
  /** The insight detectors over the trace stream (started by the server under its lease). */
  readonly insightJob: InsightJob
}

/** Calls its listeners after commits; `subscribe` returns the unsubscribe. */
export interface CommitSignal {
  subscribe(listener: () => void): () => void
}

/** This node's commits (`publisher`) and the other nodes' (`coordination`), as one signal. */
export function commitSignal(
  publisher: Publisher,
  coordination: Store['coordination'],
): CommitSignal {
  return {
    subscribe(listener) {
      const local = publisher.subscribe(() => listener())
      const remote = coordination.onRemoteCommit(listener)
      return () => {
        local()
        remote()
      }
    },
  }
}

export interface ServiceDeps {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly clock: Clock
  readonly ids: IdSource
  /** Called when a commit listener throws (logged by the server). */
  readonly onListenerError?: (error: unknown) => void
  /** An ingest worker thread could not start or died (its batches were prepared inline). */
  readonly onIngestWorkerError?: (error: unknown) => void
  /** Seals secret keys at rest; loaded from outside the database by the composition root. */
  readonly masterKey: MasterKey
  /** scrypt cost of password hashes (tests lower it; the default is OWASP's). */
  readonly passwordCost?: ScryptCost
  /** Where trackers' buckets live; enables transfer and `is_obs_created`. */
  readonly objectSink?: ObjectSink
  /** Failures of a transfer cycle (logged by the server). */
  readonly onTransferError?: (error: unknown, tracker: Tracker) => void
  /** Tracker health changes of transfer (logged by the server). */
  readonly onTrackerHealth?: (tracker: Tracker) => void
  /** Failures of a delivery run (logged by the server). */
  readonly onDeliveryError?: (error: unknown) => void
  /** Sends email deliveries; without it they wait (and retry) until SMTP is configured. */
  readonly email?: EmailPort
  /** Failures of a checkpoint run (logged by the server). */
  readonly onCheckpointError?: (error: unknown) => void
  /** Failures of the evaluation of an alarm rule (logged by the server). */
  readonly onAlarmError?: (error: unknown, rule: AlarmRule) => void
  /** Failures of an insight detection cycle (logged by the server). */
  readonly onInsightError?: (error: unknown) => void
  /** Each insight event stored (logged by the server). */
  readonly onInsight?: (insight: InsightRecord) => void
}

export function createServices(deps: ServiceDeps): Services {
  const { config, store, clock, ids } = deps
  const publisher = new Publisher(deps.onListenerError)
  const audit = new SelfAudit(clock, ids)
  const retentionMs = config.retentionDays * 86_400_000
  const projects = new ProjectRegistry({
    config: store.config,
    clock,
    ids,
    audit,
    publisher,
    domainOf: async (projectId) => (await store.identity.getProject(projectId))?.accountId ?? '',
  })
  const passwordCost = deps.passwordCost === undefined ? {} : { passwordCost: deps.passwordCost }
  const kmsKeys = new KmsKeys({ keys: store.keys, sealer: deps.masterKey, clock, ids })
  const signingKeys = new SigningKeys({
    keys: store.keys,
    sealer: deps.masterKey,
    clock,
    rotationMs: config.signingKeyRotationDays * 86_400_000,
  })
  const logKeys = new LogKeys({
    store: store.merkle,
    sealer: deps.masterKey,
    clock,
    keyName: config.logKeyName,
  })
  const checkpointer = new Checkpointer({
    store: store.merkle,
    keys: logKeys,
    clock,
    intervalMs: config.checkpointIntervalMs,
    ...(deps.onCheckpointError === undefined ? {} : { onError: deps.onCheckpointError }),
  })
  const log = new LogService({ store: store.merkle, keys: logKeys, enabled: config.merkleLog })
  const sink = deps.objectSink
  const metrics = new OpenCtsMetrics()
  publisher.subscribe((traces) => metrics.tracesIngested(traces))
  metrics.watchStorage('database', store.storage)
  metrics.setStorePool(async () => (await store.health()).pool)
  if (sink?.storage !== undefined) metrics.watchStorage('objects', sink.storage)
  if (sink !== undefined)
    metrics.setTransferLag(
      storeTransferLag({
        traces: store.traces,
        transfer: store.transfer,
        config: store.config,
        clock,
      }),
    )
  // The topic service wakes the delivery service, which is built next from the topic service.
  const wake: { deliveries?: () => void } = {}
  const topics = new TopicService({
    delivery: store.delivery,
    sealer: deps.masterKey,
    clock,
    ids,
    region: config.region,
    onRedeliver: () => wake.deliveries?.(),
  })
  const deliveryService = new DeliveryService({
    matcher: new NotificationMatcher({
      traces: store.traces,
      config: store.config,
      delivery: store.delivery,
      clock,
    }),
    worker: new DeliveryWorker({
      delivery: store.delivery,
      clock,
      policy: {
        maxAttempts: config.deliveryMaxAttempts,
        baseDelayMs: config.deliveryBackoffMs,
        maxDelayMs: config.deliveryMaxBackoffMs,
      },
      http: new HttpPoster({
        timeoutMs: config.deliveryTimeoutMs,
        ...(config.deliveryCaFile === ''
          ? {}
          : { ca: readFileSync(config.deliveryCaFile, 'utf8') }),
      }),
      email: deps.email ?? null,
      secretOf: (delivery) => topics.secretOf(delivery),
      onOutcome: (outcome) => metrics.deliveryOutcome(outcome),
    }),
    delivery: store.delivery,
    clock,
    pollMs: 1000,
    onError: deps.onDeliveryError ?? (() => undefined),
  })
  wake.deliveries = () => deliveryService.wake()
  const ingestor = new Ingestor({
    traces: store.traces,
    clock,
    ids,
    publisher,
    retentionMs,
    merkleLog: config.merkleLog,
    pool: new PreparePool({
      workers: config.ingestWorkers,
      newId: () => ids.uuid(),
      ...(deps.onIngestWorkerError === undefined
        ? {}
        : { onWorkerError: deps.onIngestWorkerError }),
    }),
  })
  metrics.setIngestSteps(() => {
    const now = ingestor.prepareStats()
    const { parse, normalise, document, hash, prepare } = now
    return { micros: { parse, normalise, document, hash, prepare }, traces: now.traces }
  })

  metrics.setOutboxDepth(async () => (await store.delivery.deliveryCounts()).pending)
  const alarmEvaluator = new AlarmEvaluator({
    alarms: store.alarms,
    traces: store.traces,
    delivery: store.delivery,
    clock,
    ids,
    retentionMs,
    intervalMs: config.alarmIntervalSeconds * 1000,
    onNotified: () => deliveryService.wake(),
    onError: deps.onAlarmError ?? (() => undefined),
  })
  return {
    config,
    store,
    traceReads: store.traces,
    storeStatus: {
      health: () => store.health(),
      read: async (now) => {
        await store.traces.operators('', now)
      },
      storage: store.storage,
      probeSpace: () => store.probeSpace(),
      leases: () => store.coordination.held(),
    },
    quotas: (projectId) => getQuotas(store.config, projectId),
    accountProjects: (accountId) => store.identity.listProjects(accountId),
    clock,
    ids,
    publisher,
    commits: commitSignal(publisher, store.coordination),
    audit,
    ingestor,
    projects,
    traceQuery: new TraceQuery({
      traces: store.traces,
      clock,
      retentionMs,
      searchMaxScan: config.searchMaxScan,
    }),
    trackers: new TrackerService({
      traces: store.traces,
      config: store.config,
      audit,
      publisher,
      clock,
      ids,
      kmsKeyExists: (kmsId) => kmsKeys.exists(kmsId),
      ...(sink === undefined
        ? {}
        : {
            buckets: {
              exists: (bucket: string) => sink.bucketExists(bucket),
              create: (bucket: string) => sink.createBucket(bucket),
            },
          }),
    }),
    notifications: new NotificationService({
      traces: store.traces,
      config: store.config,
      audit,
      publisher,
      clock,
      ids,
    }),
    tags: new TagService({ config: store.config }),
    identity: new IdentityAdmin({
      store: store.identity,
      clock,
      masterKey: deps.masterKey,
      ...passwordCost,
    }),
    auth: new Authenticator({
      store: store.identity,
      clock,
      masterKey: deps.masterKey,
      audit,
      throttle: new FailureThrottle({
        clock,
        limit: config.authFailureLimit,
        windowMs: config.authLockoutSeconds * 1000,
        blockMs: config.authLockoutSeconds * 1000,
      }),
      record: async (trace) => {
        await projects.ensure(trace.project_id)
        await commitTraces({ traces: store.traces, publisher }, [trace])
      },
      ...passwordCost,
    }),
    kmsKeys,
    signingKeys,
    metrics,
    objectStorage: sink?.storage ?? null,
    topics,
    delivery: deliveryService,
    log,
    checkpointer,
    alarms: new AlarmService({
      alarms: store.alarms,
      delivery: store.delivery,
      traces: store.traces,
      audit,
      publisher,
      clock,
      ids,
      onNotified: () => deliveryService.wake(),
    }),
    alarmEvaluator,
    insights: new InsightQuery({ store: store.insights, clock, retentionMs }),
    insightJob: new InsightJob({
      traces: store.traces,
      insights: store.insights,
      commitTraces: (traces) => commitTraces({ traces: store.traces, publisher }, traces),
      audit,
      clock,
      settings: detectorSettings(config),
      intervalMs: config.insightsIntervalMs,
      ...(deps.onInsightError === undefined ? {} : { onError: deps.onInsightError }),
      ...(deps.onInsight === undefined ? {} : { onInsight: deps.onInsight }),
    }),
    transfer:
      sink === undefined
        ? null
        : new TransferService({
            traces: store.traces,
            transfer: store.transfer,
            config: store.config,
            sink,
            clock,
            signer: signingKeys,
            kms: kmsKeys,
            region: config.region,
            intervalMs: config.transferIntervalMs,
            digestPeriodSeconds: config.digestPeriodSeconds,
            isDefaultProject: async (projectId) =>
              (await store.identity.getProject(projectId))?.name === config.region,
            onError: deps.onTransferError ?? (() => undefined),
            ...(deps.onTrackerHealth === undefined ? {} : { onHealth: deps.onTrackerHealth }),
            ...(config.merkleLog
              ? {
                  latestCheckpoint: (projectId: string) => store.merkle.latestCheckpoint(projectId),
                }
              : {}),
          }),
  }
}

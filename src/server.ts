/**
 * @module server
 * Composition root of the OpenCTS server: opens the store its URL names (`openStore`: the SQLite
 * file under the data directory by default, or PostgreSQL shared by several nodes), the local
 * object folder or the S3 endpoint, wires services, sets the store up on its first start
 * (first-start), runs the background jobs each under its lease (leased-jobs) and listens.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { formatCredentialsProfile, resolveMasterKey, type AdminCredentials } from './auth/index.js'
import type { OpenCtsConfig } from './config/config.js'
import { firstStart, SETUP_LEASE } from './first-start.js'
import { buildApp } from './http/app.js'
import { LeasedJobs } from './leased-jobs.js'
import { OFFLOADED_TRACE_LOG_HASHING } from './log/leaf-hash-pool.js'
import { randomIds, systemClock, type Clock, type IdSource } from './platform/clock.js'
import type { Store } from './store/index.js'
import { lockDataDir, openStore, parseStoreUrl } from './store/open-store.js'
import { RetentionJob } from './store/retention-job.js'
import { createServices, type Services } from './services.js'
import { openObjectSink } from './transfer/open-object-sink.js'
import { EmailSender, emailSettingsFromConfig } from './delivery/email-sender.js'
import { emailPort } from './delivery/email-port.js'
import { createLogStreams } from './delivery/log-streams/create-log-streams.js'
import type { LogStreamService } from './delivery/log-streams/log-stream-service.js'

/** Checkpoints older than the retention are thinned to one per this span per project. */
const CHECKPOINT_KEEP_SPAN_MS = 3_600_000

export interface RunningServer {
  readonly app: FastifyInstance
  readonly services: Services
  /** `http://host:port` actually bound. */
  readonly url: string
  /** The store's URL (`sqlite:PATH` or `postgres://…`, which may hold a password: see redactUrl). */
  readonly storeUrl: string
  /** The SQLite file of an SQLite store; null on PostgreSQL. */
  readonly dbPath: string | null
  /** The local folder of buckets (used when no S3 endpoint is configured). */
  readonly objectsDir: string
  /** The administrator created by this start (first start only), secrets included; else null. */
  readonly bootstrap: AdminCredentials | null
  /** Where the first start wrote the administrator's credentials (mode 0600). */
  readonly credentialsFile: string
  /** The background jobs and their leases on this node. */
  readonly jobs: LeasedJobs
  /** Stops jobs, gives up their leases, finishes in-flight requests and closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly logStream?: NodeJS.WritableStream
  /** Progress of an upgrade of the store run at start (see OpenStoreOptions.onMigrationProgress). */
  readonly onStoreMigration?: (done: number, total: number) => void
  /** What the store discarded at open after a crash (see OpenStoreOptions.onRecovery). */
  readonly onStoreRecovery?: (message: string) => void
}

/**
 * Starts the server on `config.dataDir` (its master key file by default, its credentials file),
 * which it locks for its lifetime: a second server on the same directory fails with
 * OCTS_ERR_DATA_DIR_IN_USE naming the holder's PID. Several servers with their own data
 * directories may share one PostgreSQL store (and master key and object store). Throws
 * OCTS_ERR_STORE_UNAVAILABLE when the database cannot be reached, OCTS_ERR_STORE_SCHEMA when its
 * schema is newer than this OpenCTS.
 */
export async function startServer(
  config: OpenCtsConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  // Audit data and credentials: readable by the service's user only (an existing folder is kept as is).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const lock = lockDataDir(config.dataDir)
  try {
    const running = await startLocked(config, options)
    return {
      ...running,
      async close() {
        try {
          await running.close()
        } finally {
          lock.release()
        }
      },
    }
  } catch (error) {
    lock.release()
    throw error
  }
}

/** Runs every closing step in order, whatever fails; then rejects with the first failure. */
async function closeAll(steps: readonly (() => Promise<void> | void)[]): Promise<void> {
  const failures: unknown[] = []
  for (const step of steps) {
    try {
      await step()
    } catch (error) {
      failures.push(error)
    }
  }
  if (failures.length > 0)
    throw failures[0] instanceof Error ? failures[0] : new Error(String(failures[0]))
}

async function startLocked(config: OpenCtsConfig, options: StartOptions): Promise<RunningServer> {
  const objectsDir = config.objectsDir
  if (config.objectStore.kind === 'fs') mkdirSync(objectsDir, { recursive: true })
  const { key: masterKey } = resolveMasterKey(config)
  const location = parseStoreUrl(config.store)
  const objectSink = await openObjectSink(config.objectStore)
  let store: Store
  try {
    store = await openStore({
      url: config.store,
      poolSize: config.storePoolSize,
      sqliteSynchronous: config.sqliteSynchronous,
      ...(config.merkleLog ? { merkle: OFFLOADED_TRACE_LOG_HASHING } : {}),
      ...(options.onStoreMigration === undefined
        ? {}
        : { onMigrationProgress: options.onStoreMigration }),
      ...(options.onStoreRecovery === undefined ? {} : { onRecovery: options.onStoreRecovery }),
    })
  } catch (error) {
    await objectSink.close()
    throw error
  }
  const emailSettings = emailSettingsFromConfig(config)
  const emailSender = emailSettings === undefined ? undefined : new EmailSender(emailSettings)
  const clock = options.clock ?? systemClock
  // Background failures are logged by the app once it exists.
  const log = (fields: Record<string, unknown>, message: string): void =>
    appRef.current?.log.error(fields, message)
  const appRef: { current?: FastifyInstance } = {}
  const services = createServices({
    config,
    store,
    clock,
    ids: options.ids ?? randomIds,
    onListenerError: (error) => log({ err: error }, 'commit listener failed'),
    onIngestWorkerError: (error) =>
      log(
        { err: error },
        'an ingest worker thread failed; its batches are prepared on the event loop',
      ),
    masterKey,
    objectSink,
    onTransferError: (error, tracker) =>
      log(
        { err: error, tracker: tracker.tracker_name, project: tracker.project_id },
        'transfer failed',
      ),
    onDeliveryError: (error) => log({ err: error }, 'notification delivery failed'),
    onCheckpointError: (error) => log({ err: error }, 'signing checkpoints failed'),
    onAlarmError: (error, rule) =>
      log({ err: error, alarm: rule.id, project: rule.projectId }, 'evaluating an alarm failed'),
    onInsightError: (error) => log({ err: error }, 'insight detection failed'),
    onInsight: (insight) =>
      appRef.current?.log.info(
        {
          insight: insight.insight_id,
          type: insight.insight_type,
          state: insight.state,
          project: insight.project_id,
        },
        'insight',
      ),
    ...(emailSender === undefined ? {} : { email: emailPort(emailSender, store.traces) }),
    onTrackerHealth: (tracker) =>
      appRef.current?.log.warn(
        {
          tracker: tracker.tracker_name,
          project: tracker.project_id,
          status: tracker.status,
          detail: tracker.detail,
          bucket: tracker.obs_info.bucket_name,
        },
        'tracker transfer health changed',
      ),
  })
  const jobs = new LeasedJobs(store.coordination)
  jobs.report(SETUP_LEASE)
  const shutdown = (app?: FastifyInstance): Promise<void> =>
    closeAll([
      () => jobs.stop(),
      // Gives up the leases now, so that another node takes the jobs over at once.
      () => store.coordination.close(),
      () => app?.close(),
      () => objectSink.close(),
      () => store.close(),
    ])
  const credentialsFile = join(config.dataDir, 'credentials')
  let bootstrap: AdminCredentials | null
  let app: FastifyInstance
  try {
    bootstrap = await firstStart({
      config,
      store,
      services,
      onError: (error) => log({ err: error }, 'set-up after a lease take-over failed'),
    })
    app = await buildApp(services, {
      logLevel: config.logLevel,
      ...(options.logStream === undefined ? {} : { logStream: options.logStream }),
    })
  } catch (error) {
    await shutdown().catch(() => undefined)
    throw error
  }
  appRef.current = app
  services.metrics.setLeases(() => jobs.leases())
  let address: string
  try {
    addJobs(jobs, { config, store, services, clock, app, log })
    address = await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await shutdown(app).catch(() => undefined)
    throw error
  }
  // Written once listening, so that the endpoint is the address actually bound (also with port 0).
  if (bootstrap !== null) writeAdminCredentials(credentialsFile, bootstrap, address)
  return {
    app,
    services,
    url: address,
    storeUrl: config.store,
    dbPath: location.engine === 'sqlite' ? location.path : null,
    objectsDir,
    bootstrap,
    credentialsFile,
    jobs,
    close: () => shutdown(app),
  }
}

interface JobDeps {
  readonly config: OpenCtsConfig
  readonly store: Store
  readonly services: Services
  readonly clock: Clock
  readonly app: FastifyInstance
  readonly log: (fields: Record<string, unknown>, message: string) => void
}

/** The background jobs, one lease each (leased-jobs): they run on one node at a time. */
function addJobs(jobs: LeasedJobs, deps: JobDeps): void {
  const { config, store, services, clock, app, log } = deps
  const retention = new RetentionJob({
    traces: store.traces,
    clock,
    retentionMs: config.retentionDays * 86_400_000,
    intervalMs: config.purgeIntervalMs,
    onError: (error) => log({ err: error }, 'retention purge failed'),
    onPurged: (count) => app.log.info({ purged: count }, 'retention purge'),
    purgeTokens: () => services.auth.purgeExpiredTokens(),
    purgeDeliveries: (cutoff) => store.delivery.purgeDeliveries(cutoff),
    thinCheckpoints: (cutoff) => store.merkle.thinCheckpoints(cutoff, CHECKPOINT_KEEP_SPAN_MS),
    purgeInsights: (cutoff) => store.insights.purgeInsights(cutoff),
  })
  jobs.add({ name: 'retention', start: () => retention.start(), stop: () => retention.stop() })
  const transfer = services.transfer
  if (transfer !== null)
    jobs.add({ name: 'transfer', start: () => transfer.start(), stop: () => transfer.stop() })
  // Woken by this node's commits and, across nodes, by the others' (services.commits).
  jobs.add({
    name: 'delivery',
    start: () => services.delivery.start(services.commits),
    stop: () => services.delivery.stop(),
  })
  jobs.add({
    name: 'alarms',
    start: () => services.alarmEvaluator.start(),
    stop: () => services.alarmEvaluator.stop(),
  })
  // The detectors keep their state in memory between cycles: one node at a time (insights/).
  if (config.insights)
    jobs.add({
      name: 'insights',
      start: () => services.insightJob.start(),
      stop: () => services.insightJob.stop(),
    })
  if (config.merkleLog)
    jobs.add({
      name: 'checkpointer',
      start: () => services.checkpointer.start(),
      stop: () => services.checkpointer.stop(),
    })
  if (
    config.logStreamOtlpUrl !== '' ||
    config.logStreamSyslog !== '' ||
    config.logStreamFile !== ''
  ) {
    const create = (): LogStreamService | null =>
      createLogStreams(config, {
        store,
        clock,
        publisher: services.commits,
        onOutcome: (sink, outcome, count) =>
          services.metrics.logStreamOutcome(sink, outcome, count),
        onError: (error, sink) => log({ err: error, sink }, 'log stream failed'),
      })
    // Built now, so that a bad target fails the start; then a new streamer (and sinks) each time
    // the lease is taken again, since stopping one closes its sinks.
    let next = create()
    let streams: LogStreamService | null = null
    jobs.add({
      name: 'log-streams',
      start: () => {
        streams = next ?? create()
        next = null
        streams?.start()
      },
      stop: async () => {
        const running = streams
        streams = null
        await running?.stop()
      },
    })
  }
}

/** Writes the first-start administrator as the `default` profile of a credentials file, mode 0600. */
function writeAdminCredentials(path: string, admin: AdminCredentials, url: string): void {
  if (existsSync(path)) return
  // A wildcard listen address is reached through loopback on this machine.
  const endpoint = url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:')
  const text = formatCredentialsProfile(
    'default',
    {
      endpoint,
      account: admin.account,
      project_id: admin.projectId,
      project_name: admin.projectName,
      user: admin.user,
      password: admin.password,
      access_key: admin.accessKey,
      secret_key: admin.secretKey,
    },
    [
      'OpenCTS administrator, created on the first start of this data directory.',
      'Keep this file private (mode 0600). The opencts CLI reads it with --credentials FILE.',
    ],
  )
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' })
}

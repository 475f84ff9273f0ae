/**
 * @module server
 * Composition root of the OpenCTS server: picks the adapters (the SQLite file under the data
 * directory; the local object folder, or the S3 endpoint when one is configured), wires services,
 * starts the retention, transfer, notification delivery and log stream jobs and listens.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import {
  bootstrapAdmin,
  formatCredentialsProfile,
  loadOrCreateMasterKey,
  type AdminCredentials,
} from './auth/index.js'
import type { OpenCtsConfig } from './config/config.js'
import { buildApp } from './http/app.js'
import { OFFLOADED_TRACE_LOG_HASHING } from './log/leaf-hash-pool.js'
import { randomIds, systemClock, type Clock, type IdSource } from './platform/clock.js'
import { RetentionJob } from './store/retention-job.js'
import { openSqliteStore } from './store/sqlite/index.js'
import { lockDataDir } from './store/sqlite/data-dir-lock.js'
import { createServices, type Services } from './services.js'
import { openObjectSink } from './transfer/open-object-sink.js'
import { EmailSender, emailSettingsFromConfig } from './delivery/email-sender.js'
import { emailPort } from './delivery/email-port.js'
import { createLogStreams } from './delivery/log-streams/create-log-streams.js'

/** Checkpoints older than the retention are thinned to one per this span per project. */
const CHECKPOINT_KEEP_SPAN_MS = 3_600_000

export interface RunningServer {
  readonly app: FastifyInstance
  readonly services: Services
  /** `http://host:port` actually bound. */
  readonly url: string
  readonly dbPath: string
  /** The local folder of buckets (used when no S3 endpoint is configured). */
  readonly objectsDir: string
  /** The administrator created by this start (first start only), secrets included; else null. */
  readonly bootstrap: AdminCredentials | null
  /** Where the first start wrote the administrator's credentials (mode 0600). */
  readonly credentialsFile: string
  /** Stops accepting requests, finishes in-flight ones, stops jobs and closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly logStream?: NodeJS.WritableStream
}

/**
 * Starts the server on `config.dataDir`, which it locks for its lifetime (store/sqlite/data-dir-lock):
 * a second server on the same directory fails with OCTS_ERR_DATA_DIR_IN_USE naming the holder's PID.
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

async function startLocked(config: OpenCtsConfig, options: StartOptions): Promise<RunningServer> {
  const objectsDir = config.objectsDir
  if (config.objectStore.kind === 'fs') mkdirSync(objectsDir, { recursive: true })
  const objectSink = await openObjectSink(config.objectStore)
  const emailSettings = emailSettingsFromConfig(config)
  const emailSender = emailSettings === undefined ? undefined : new EmailSender(emailSettings)
  const dbPath = join(config.dataDir, 'opencts.db')
  const { key: masterKey } = loadOrCreateMasterKey(config.masterKeyFile)
  const store = openSqliteStore({
    path: dbPath,
    synchronous: config.sqliteSynchronous,
    ...(config.merkleLog ? { merkle: OFFLOADED_TRACE_LOG_HASHING } : {}),
  })
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
    masterKey,
    objectSink,
    onTransferError: (error, tracker) =>
      log(
        { err: error, tracker: tracker.tracker_name, project: tracker.project_id },
        'transfer failed',
      ),
    onDeliveryError: (error) => log({ err: error }, 'notification delivery failed'),
    onCheckpointError: (error) => log({ err: error }, 'signing checkpoints failed'),
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
  const credentialsFile = join(config.dataDir, 'credentials')
  let bootstrap: AdminCredentials | null
  try {
    bootstrap = await bootstrapAdmin(store.identity, services.identity, config.admin, config.region)
    await services.auth.checkMasterKey(config.masterKeyFile)
    // The first digest signing key exists before any digest period can end.
    await services.signingKeys.ensureCurrent()
  } catch (error) {
    await objectSink.close()
    await store.close()
    throw error
  }
  const app = await buildApp(services, {
    logLevel: config.logLevel,
    ...(options.logStream === undefined ? {} : { logStream: options.logStream }),
  })
  appRef.current = app
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
  })
  retention.start()
  services.transfer?.start()
  services.delivery.start(services.publisher)
  if (config.merkleLog) services.checkpointer.start()
  const logStreams = createLogStreams(config, {
    store,
    clock,
    publisher: services.publisher,
    onOutcome: (sink, outcome, count) => services.metrics.logStreamOutcome(sink, outcome, count),
    onError: (error, sink) => log({ err: error, sink }, 'log stream failed'),
  })
  logStreams?.start()
  let address: string
  try {
    address = await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    retention.stop()
    await services.transfer?.stop()
    await services.delivery.stop()
    await services.checkpointer.stop()
    await logStreams?.stop()
    await app.close()
    await objectSink.close()
    await store.close()
    throw error
  }
  // Written once listening, so that the endpoint is the address actually bound (also with port 0).
  if (bootstrap !== null) writeAdminCredentials(credentialsFile, bootstrap, address)
  const running = app
  return {
    app,
    services,
    url: address,
    dbPath,
    objectsDir,
    bootstrap,
    credentialsFile,
    async close() {
      retention.stop()
      await services.transfer?.stop()
      await services.delivery.stop()
      await services.checkpointer.stop()
      await logStreams?.stop()
      await running.close()
      await objectSink.close()
      await store.close()
    },
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

/**
 * @module server
 * Composition root of the OpenCTS server: picks the embedded adapters (SQLite file and local object
 * folder under the data directory), wires services, starts the retention job and listens.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { OpenCtsConfig } from './config/config.js'
import { buildApp } from './http/app.js'
import { randomIds, systemClock, type Clock, type IdSource } from './platform/clock.js'
import { RetentionJob } from './store/retention-job.js'
import { openSqliteStore } from './store/sqlite/index.js'
import { createServices, type Services } from './services.js'

export interface RunningServer {
  readonly app: FastifyInstance
  readonly services: Services
  /** `http://host:port` actually bound. */
  readonly url: string
  readonly dbPath: string
  readonly objectsDir: string
  /** Stops accepting requests, finishes in-flight ones, stops jobs and closes the store. */
  close(): Promise<void>
}

export interface StartOptions {
  readonly clock?: Clock
  readonly ids?: IdSource
  readonly logStream?: NodeJS.WritableStream
}

export async function startServer(
  config: OpenCtsConfig,
  options: StartOptions = {},
): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true })
  const objectsDir = join(config.dataDir, 'objects')
  mkdirSync(objectsDir, { recursive: true })
  const dbPath = join(config.dataDir, 'opencts.db')
  const store = openSqliteStore({ path: dbPath, synchronous: config.sqliteSynchronous })
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
  })
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
  })
  retention.start()
  let address: string
  try {
    address = await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    retention.stop()
    await app.close()
    await store.close()
    throw error
  }
  const running = app
  return {
    app,
    services,
    url: address,
    dbPath,
    objectsDir,
    async close() {
      retention.stop()
      await running.close()
      await store.close()
    },
  }
}

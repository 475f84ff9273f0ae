/**
 * The engines every port's contract suite runs on (`STORES`, default `sqlite,postgres`): for each, a
 * StoreFactory whose `open()` gives a fresh, empty store (a new SQLite file; a new PostgreSQL
 * database) and whose `reopen()` closes it and opens the same data again. `dropAll()` (call it in
 * `after`; `onEveryEngine` does) removes the PostgreSQL databases the factory created.
 *
 * PostgreSQL costs: a migrated schema takes ~0.5 s to create, a database ~0.1 s to copy, and DROP
 * DATABASE waits for a checkpoint (0.3–3 s on a busy server). So a factory migrates one template
 * database on its first `open()` and copies it for every store (`CREATE DATABASE … TEMPLATE`), and
 * `dropAll()` drops every database at once: concurrent drops share their checkpoints.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import type { MerkleHashing, Store } from '../../src/store/index.js'
import { migrate } from '../../src/store/postgres/migrations.js'
import { PgDatabase } from '../../src/store/postgres/pg-database.js'
import { createPool, safeLocation } from '../../src/store/postgres/pg-pool.js'
import {
  createTestDatabase,
  testEngines,
  type EngineName,
  type TestDatabase,
} from '../helpers/postgres.js'

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<Store>
  /** Closes `store` and opens the same data again. */
  reopen?(store: Store): Promise<Store>
}

export interface EngineFactory extends StoreFactory {
  readonly engine: EngineName
  /** The URL a store of this factory was opened on (to open it again, e.g. read-only). */
  urlOf(store: Store): string
  /** Drops every database this factory created (PostgreSQL); call in `after`. */
  dropAll(): Promise<void>
}

export interface EngineOptions {
  readonly merkle?: MerkleHashing
}

/** Databases dropped at once at most (each drop holds one admin connection). */
const DROP_PARALLELISM = 8

/**
 * A database holding exactly what the engine's migrations create: only `migrate` runs on it (no
 * store is opened, so nothing an open writes, e.g. a node's lease, is copied into the stores).
 */
async function migratedTemplate(): Promise<TestDatabase> {
  const database = await createTestDatabase('template')
  const pool = createPool({ url: database.url, size: 1 })
  try {
    await migrate(new PgDatabase(pool), safeLocation(database.url))
  } catch (error) {
    await pool.end()
    await database.drop()
    throw error
  }
  await pool.end()
  return database
}

async function dropEvery(databases: TestDatabase[]): Promise<void> {
  const queue = [...databases]
  const worker = async (): Promise<void> => {
    for (let database = queue.shift(); database !== undefined; database = queue.shift())
      await database.drop()
  }
  await Promise.all(Array.from({ length: DROP_PARALLELISM }, worker))
}

/** A factory of fresh stores of one engine. */
export function engineFactory(engine: EngineName, options: EngineOptions = {}): EngineFactory {
  const urls = new WeakMap<Store, string>()
  const databases: TestDatabase[] = []
  let template: Promise<TestDatabase> | undefined
  const openUrl = async (url: string): Promise<Store> => {
    const store = await openStore({
      url,
      poolSize: 4,
      ...(options.merkle === undefined ? {} : { merkle: options.merkle }),
    })
    urls.set(store, url)
    return store
  }
  return {
    engine,
    async open() {
      if (engine === 'sqlite')
        return openUrl(
          `sqlite:${join(mkdtempSync(join(tmpdir(), 'opencts-store-')), 'opencts.db')}`,
        )
      template ??= migratedTemplate()
      const database = await createTestDatabase('contract', { template: (await template).name })
      databases.push(database)
      return openUrl(database.url)
    },
    async reopen(store) {
      const url = urls.get(store)
      if (url === undefined) throw new Error('unknown store')
      await store.close()
      return openUrl(url)
    },
    urlOf(store) {
      const url = urls.get(store)
      if (url === undefined) throw new Error('unknown store')
      return url
    },
    async dropAll() {
      const all = databases.splice(0)
      const made = template
      template = undefined
      if (made !== undefined) all.push(...(await made.then((t) => [t]).catch(() => [])))
      await dropEvery(all)
    },
  }
}

/** One factory per engine of this run. */
export function engineFactories(options: EngineOptions = {}): EngineFactory[] {
  return testEngines().map((engine) => engineFactory(engine, options))
}

/**
 * Runs a port's contract suite on every engine of this run, each with its own factory, and drops
 * the factory's databases after the file: `onEveryEngine(traceStoreContract)` is a whole runner.
 */
export function onEveryEngine(
  suite: (name: string, factory: StoreFactory) => void,
  options: EngineOptions = {},
): void {
  for (const factory of engineFactories(options)) {
    after(() => factory.dropAll())
    suite(factory.engine, factory)
  }
}

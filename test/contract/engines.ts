/**
 * The engines every port's contract suite runs on (`STORES`, default `sqlite,postgres`): for each, a
 * StoreFactory whose `open()` gives a fresh, empty store (a new SQLite file; a new PostgreSQL
 * database) and whose `reopen()` closes it and opens the same data again. `dropAll()` (call it in
 * `after`) removes the PostgreSQL databases the factory created.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import type { MerkleHashing, Store } from '../../src/store/index.js'
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

/** A factory of fresh stores of one engine. */
export function engineFactory(engine: EngineName, options: EngineOptions = {}): EngineFactory {
  const urls = new WeakMap<Store, string>()
  const databases: TestDatabase[] = []
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
      const database = await createTestDatabase('contract')
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
      for (const database of databases.splice(0)) await database.drop()
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

/**
 * The key store contract on SQLite, each case on a fresh temporary store file (removed at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import type { Store } from '../src/store/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { keyStoreContract } from './key-store-contract.js'
import type { StoreFactory } from './store-contract.js'

const paths = new WeakMap<Store, string>()
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const factory: StoreFactory = {
  open() {
    const dir = mkdtempSync(join(tmpdir(), 'opencts-keys-'))
    dirs.push(dir)
    const path = join(dir, 'opencts.db')
    const store = openSqliteStore({ path })
    paths.set(store, path)
    return Promise.resolve(store)
  },
  async reopen(store) {
    const path = paths.get(store)
    if (path === undefined) throw new Error('unknown store')
    await store.close()
    const again = openSqliteStore({ path })
    paths.set(again, path)
    return again
  },
}

keyStoreContract('sqlite', factory)

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import type { Store } from '../src/store/index.js'
import { storeContract } from './store-contract.js'

const paths = new WeakMap<Store, string>()

storeContract('sqlite', {
  open() {
    const path = join(mkdtempSync(join(tmpdir(), 'opencts-store-')), 'opencts.db')
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
})

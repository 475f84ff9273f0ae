import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import { isOpenCtsError } from '../src/errors/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { SCHEMA_VERSION } from '../src/store/sqlite/schema.js'
import type { Store } from '../src/store/index.js'
import { identityStoreContract } from './identity-store-contract.js'
import { keyStoreContract } from './key-store-contract.js'
import { storeContract, type StoreFactory } from './store-contract.js'

const paths = new WeakMap<Store, string>()

function freshPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'opencts-store-')), 'opencts.db')
}

const factory: StoreFactory = {
  open() {
    const path = freshPath()
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

storeContract('sqlite', factory)
identityStoreContract('sqlite', factory)
keyStoreContract('sqlite', factory)

const IAM_TABLES = [
  'iam_access_keys',
  'iam_accounts',
  'iam_grants',
  'iam_projects',
  'iam_tokens',
  'iam_users',
]

/** A store file as version 1 wrote it: no iam_ tables, schema_version 1. */
async function versionOneFile(): Promise<string> {
  const path = freshPath()
  await openSqliteStore({ path }).close()
  const db = new Database(path)
  for (const table of IAM_TABLES) db.exec(`DROP TABLE ${table}`)
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run()
  db.close()
  return path
}

function inspect(path: string): { tables: string[]; version: string | undefined } {
  const db = new Database(path, { readonly: true })
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[]
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      { value: string } | undefined
    return {
      tables: tables.map((t) => t.name).filter((t) => t.startsWith('iam_')),
      version: row?.value,
    }
  } finally {
    db.close()
  }
}

it('upgrades a version-1 file on open: identity tables created, schema_version current', async () => {
  const path = await versionOneFile()
  assert.deepEqual(inspect(path), { tables: [], version: '1' })
  const store = openSqliteStore({ path })
  try {
    assert.equal(await store.identity.isEmpty(), true)
    await store.identity.insertAccount({ id: 'a'.repeat(32), name: 'acme', createdAt: 1 })
  } finally {
    await store.close()
  }
  assert.deepEqual(inspect(path), { tables: IAM_TABLES, version: String(SCHEMA_VERSION) })
})

it('refuses a file of a newer schema and leaves it unchanged', async () => {
  const path = await versionOneFile()
  const db = new Database(path)
  const newer = String(SCHEMA_VERSION + 1)
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(newer)
  db.close()
  assert.throws(
    () => openSqliteStore({ path }),
    (e) =>
      isOpenCtsError(e) &&
      e.code === 'OCTS_ERR_WRITE_FAILED' &&
      e.message.includes(`version ${newer}`),
  )
  assert.deepEqual(inspect(path), { tables: [], version: newer })
})

it('refuses a project or user of an unknown account, and a grant of an unknown user', async () => {
  const store = await factory.open()
  try {
    const notFound = (e: unknown): boolean =>
      isOpenCtsError(e) && e.code === 'OCTS_ERR_IDENTITY_NOT_FOUND'
    const accountId = 'b'.repeat(32)
    await assert.rejects(
      store.identity.insertProject({ id: 'c'.repeat(32), accountId, name: 'p', createdAt: 1 }),
      notFound,
    )
    await assert.rejects(
      store.identity.insertUser({
        id: 'd'.repeat(32),
        accountId,
        name: 'u',
        passwordHash: null,
        enabled: true,
        createdAt: 1,
      }),
      notFound,
    )
    await assert.rejects(
      store.identity.grant({ userId: 'd'.repeat(32), policyName: 'cts_reader', projectId: null }),
      notFound,
    )
  } finally {
    await store.close()
  }
})

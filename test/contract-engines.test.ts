/**
 * The engine factories the contract suites run on: every `open()` is a store of its own (data of
 * one is not seen by another), `reopen()` keeps the data, and on PostgreSQL `dropAll()` leaves
 * no database of the factory behind (its template included).
 */
import assert from 'node:assert/strict'
import { userInfo } from 'node:os'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { engineFactories } from './contract/engines.js'
import { POSTGRES_ADMIN_URL } from './helpers/postgres.js'

async function databasesNamed(pattern: string): Promise<string[]> {
  const url = new URL(POSTGRES_ADMIN_URL)
  if (url.username === '') url.username = userInfo().username
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname',
      [pattern],
    )
    return rows.map((r) => r.datname)
  } finally {
    await client.end()
  }
}

for (const factory of engineFactories()) {
  after(() => factory.dropAll())
  describe(`engine factory: ${factory.engine}`, () => {
    it('opens a fresh store each time, reopens the same data', async () => {
      const a = await factory.open()
      let b = await factory.open()
      try {
        assert.notEqual(factory.urlOf(a), factory.urlOf(b))
        await a.identity.insertAccount({ id: 'a'.repeat(32), name: 'acme', createdAt: 1 })
        assert.equal(await b.identity.isEmpty(), true, 'another store sees nothing of the first')
        await b.identity.insertAccount({ id: 'b'.repeat(32), name: 'acme', createdAt: 1 })
        const url = factory.urlOf(b)
        b = await (factory.reopen?.(b) ?? Promise.reject(new Error('no reopen')))
        assert.equal(factory.urlOf(b), url)
        assert.equal((await b.identity.getAccount('b'.repeat(32)))?.name, 'acme')
      } finally {
        await a.close()
        await b.close()
      }
    })

    if (factory.engine === 'postgres')
      it('drops every database it created, its template included', async () => {
        const pattern = `opencts\\_%\\_${process.pid}\\_%`
        const store = await factory.open()
        await store.close()
        const made = await databasesNamed(pattern)
        assert.ok(
          made.some((name) => name.startsWith('opencts_template_')),
          made.join(', '),
        )
        assert.ok(
          made.some((name) => name.startsWith('opencts_contract_')),
          made.join(', '),
        )
        await factory.dropAll()
        assert.deepEqual(await databasesNamed(pattern), [])
      })
  })
}

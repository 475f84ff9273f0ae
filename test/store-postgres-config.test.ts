/**
 * The PostgreSQL engine's config, identity and key ports: their contract suites on PostgreSQL, and
 * what only many nodes can break: two stores (two pools, as two OpenCTS nodes) on one database
 * racing on the same check-then-write. Each race is repeated a bounded number of times.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import type { ErrorCode } from '../src/errors/index.js'
import { isOpenCtsError } from '../src/errors/index.js'
import type { Store } from '../src/store/index.js'
import type { SigningKeyRecord } from '../src/store/index.js'
import { openStore } from '../src/store/open-store.js'
import { engineFactory } from './contract/engines.js'
import { identityStoreContract } from './identity-store-contract.js'
import { keyStoreContract } from './key-store-contract.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const ROUNDS = 8

const f = engineFactory('postgres')
after(() => f.dropAll())

identityStoreContract('postgres', f)
keyStoreContract('postgres', f)

function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === code
}

/** Two nodes on one fresh database: `fn(a, b)`, both closed afterwards. */
async function withTwoNodes(fn: (a: Store, b: Store) => Promise<void>): Promise<void> {
  const a = await f.open()
  let b: Store | undefined
  try {
    b = await openStore({ url: f.urlOf(a), poolSize: 4, nodeName: 'node-b' })
    await fn(a, b)
  } finally {
    await b?.close()
    await a.close()
  }
}

/** Of settled racers, the values of the winners and the errors of the losers. */
function outcome<T>(results: PromiseSettledResult<T>[]): { won: T[]; lost: unknown[] } {
  const won: T[] = []
  const lost: unknown[] = []
  for (const r of results) {
    if (r.status === 'fulfilled') won.push(r.value)
    else lost.push(r.reason)
  }
  return { won, lost }
}

let serial = 0
function signingKey(validFrom: number): SigningKeyRecord {
  serial++
  return {
    fingerprint: `${process.pid}:${serial}`.padStart(64, '0'),
    publicKeyPem: `pem ${serial}`,
    sealedPrivateKey: `sealed ${serial}`,
    validFrom,
    validTo: null,
  }
}

describe('postgres identity and keys on two nodes', () => {
  it('one account name, inserted by both nodes at once: one wins, the other is told it exists', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        const name = `acme${round}`
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node) =>
              node.identity.insertAccount({ id: randomUUID(), name, createdAt: NOW }),
            ),
          ),
        )
        assert.equal(won.length, 1, `round ${round}`)
        assert.ok(lost.every(hasCode('OCTS_ERR_IDENTITY_EXISTS')), String(lost[0]))
      }
      assert.equal((await b.identity.listAccounts()).length, ROUNDS)
    }))

  it('deleting a user while another node adds its access key leaves no orphan key', () =>
    withTwoNodes(async (a, b) => {
      const account = { id: randomUUID(), name: 'acme', createdAt: NOW }
      await a.identity.insertAccount(account)
      for (let round = 0; round < ROUNDS; round++) {
        const user = {
          id: randomUUID(),
          accountId: account.id,
          name: `u${round}`,
          passwordHash: null,
          enabled: true,
          createdAt: NOW,
        }
        await a.identity.insertUser(user)
        const key = {
          accessKeyId: randomUUID(),
          userId: user.id,
          sealedSecret: 's',
          status: 'active' as const,
          description: '',
          createdAt: NOW,
        }
        const [deleted, inserted] = await Promise.allSettled([
          a.identity.deleteUser(user.id),
          b.identity.insertAccessKey(key),
        ])
        assert.deepEqual(deleted, { status: 'fulfilled', value: true })
        if (inserted.status === 'rejected')
          assert.ok(
            hasCode('OCTS_ERR_IDENTITY_NOT_FOUND')(inserted.reason),
            String(inserted.reason),
          )
        assert.equal(await b.identity.getAccessKey(key.accessKeyId), undefined, `round ${round}`)
      }
    }))

  it('one KMS key version added by both nodes at once: one wins, the other gets a conflict', () =>
    withTwoNodes(async (a, b) => {
      const id = randomUUID()
      await a.keys.insertKmsKey({
        id,
        name: 'alpha',
        createdAt: NOW,
        versions: [{ version: 1, sealedMaterial: 'v1', createdAt: NOW }],
      })
      for (let version = 2; version < 2 + ROUNDS; version++) {
        const { won, lost } = outcome(
          await Promise.allSettled(
            [a, b].map((node, i) =>
              node.keys.addKmsKeyVersion(id, {
                version,
                sealedMaterial: `v${version} by ${i}`,
                createdAt: NOW + version,
              }),
            ),
          ),
        )
        assert.equal(won.length, 1)
        assert.ok(lost.every(hasCode('OCTS_ERR_CONFLICT')), String(lost[0]))
      }
      const stored = await b.keys.getKmsKey(id)
      assert.deepEqual(
        stored?.versions.map((v) => v.version),
        Array.from({ length: ROUNDS + 1 }, (_, i) => i + 1),
      )
    }))

  it('concurrent signing key rotations never leave two current keys, and chain the windows', () =>
    withTwoNodes(async (a, b) => {
      for (let round = 0; round < ROUNDS; round++) {
        // Round 0 races on an empty table (no current key to lock); later rounds on a current key.
        const from = NOW + round * 1000
        const { lost } = outcome(
          await Promise.allSettled([
            a.keys.rotateSigningKey(signingKey(from)),
            b.keys.rotateSigningKey(signingKey(from + 1)),
          ]),
        )
        // A rotation is refused only when the other one, starting later, became current first.
        assert.ok(lost.every(hasCode('OCTS_ERR_CONFLICT')), String(lost[0]))
        assert.ok(lost.length <= 1)
      }
      const keys = await a.keys.listSigningKeys()
      assert.equal(keys.filter((k) => k.validTo === null).length, 1, 'one current key')
      assert.equal(keys.at(-1)?.validTo, null, 'the newest is the current one')
      for (let i = 0; i + 1 < keys.length; i++)
        assert.equal(
          keys[i]?.validTo,
          keys[i + 1]?.validFrom,
          `window ${i} ends where ${i + 1} starts`,
        )
      assert.ok(keys.length >= ROUNDS)
    }))
})

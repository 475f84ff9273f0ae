/**
 * The contract of the keys port (`KeyStore`): every engine passes it; the engine-matrix runner
 * calls `keyStoreContract(engine, factory)` with each factory of `engines.ts`.
 *
 * The sealed values are opaque strings to a store, so the fixtures use readable fakes. Names are
 * lowercase ASCII so that the expected order is the same under every collation.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import type { ErrorCode } from '../../src/errors/index.js'
import { isOpenCtsError } from '../../src/errors/index.js'
import type {
  KeyStore,
  KmsKeyRecord,
  KmsKeyVersion,
  SigningKeyRecord,
} from '../../src/store/index.js'
import type { StoreFactory } from './engines.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const DAY = 86_400_000

function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === code
}

const exists = hasCode('OCTS_ERR_KEY_EXISTS')
const notFound = hasCode('OCTS_ERR_KEY_NOT_FOUND')
const conflict = hasCode('OCTS_ERR_CONFLICT')

const version = (n: number, createdAt = NOW + n): KmsKeyVersion => ({
  version: n,
  sealedMaterial: `sealed:v${n}:${randomUUID()}`,
  createdAt,
})

const kmsKey = (name: string, id: string = randomUUID()): KmsKeyRecord => ({
  id,
  name,
  createdAt: NOW,
  versions: [version(1, NOW)],
})

let serial = 0
const signingKey = (validFrom: number): SigningKeyRecord => {
  serial++
  return {
    fingerprint: serial.toString(16).padStart(64, '0'),
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\nkey${serial}\n-----END PUBLIC KEY-----\n`,
    sealedPrivateKey: `sealed:private:${serial}`,
    validFrom,
    validTo: null,
  }
}

/** Code-unit order, the same as every collation for the lowercase ASCII used here. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function withKeys(
  factory: StoreFactory,
  fn: (keys: KeyStore) => Promise<void>,
): Promise<void> {
  const store = await factory.open()
  try {
    await fn(store.keys)
  } finally {
    await store.close()
  }
}

export function keyStoreContract(name: string, factory: StoreFactory): void {
  describe(`key store contract: ${name}`, () => {
    it('stores KMS keys, gets them by id and by name, lists them by name', () =>
      withKeys(factory, async (keys) => {
        const stored = [kmsKey('zeta'), kmsKey('alpha'), kmsKey('team/billing')]
        for (const key of stored) await keys.insertKmsKey(key)
        const [zeta] = stored
        assert.ok(zeta)
        assert.deepEqual(await keys.getKmsKey(zeta.id), zeta)
        assert.deepEqual(await keys.getKmsKey('zeta'), zeta)
        assert.equal(await keys.getKmsKey(randomUUID()), undefined)
        assert.equal(await keys.getKmsKey('nobody'), undefined)
        assert.deepEqual(
          await keys.listKmsKeys(),
          [...stored].sort((x, y) => compare(x.name, y.name)),
        )
      }))

    it('finds a key by its id even when another key is named like that id', () =>
      withKeys(factory, async (keys) => {
        const target = kmsKey('target')
        const impostor = kmsKey(target.id)
        await keys.insertKmsKey(target)
        await keys.insertKmsKey(impostor)
        assert.equal((await keys.getKmsKey(target.id))?.name, 'target')
      }))

    it('refuses a second key with the same id or name, storing nothing of it', () =>
      withKeys(factory, async (keys) => {
        const key = kmsKey('alpha')
        await keys.insertKmsKey(key)
        await assert.rejects(keys.insertKmsKey(kmsKey('alpha')), exists, 'same name')
        await assert.rejects(keys.insertKmsKey(kmsKey('beta', key.id)), exists, 'same id')
        assert.deepEqual(await keys.listKmsKeys(), [key])
      }))

    it('appends versions in order; the last one is the current version', () =>
      withKeys(factory, async (keys) => {
        const key = kmsKey('alpha')
        await keys.insertKmsKey(key)
        const [v2, v3] = [version(2), version(3)]
        await keys.addKmsKeyVersion(key.id, v2)
        await keys.addKmsKeyVersion(key.id, v3)
        const got = await keys.getKmsKey('alpha')
        assert.deepEqual(got?.versions, [...key.versions, v2, v3])
        assert.deepEqual((await keys.listKmsKeys())[0]?.versions, [...key.versions, v2, v3])
      }))

    it('refuses a version of an unknown key (not found) and a taken version (conflict)', () =>
      withKeys(factory, async (keys) => {
        const key = kmsKey('alpha')
        await keys.insertKmsKey(key)
        await assert.rejects(keys.addKmsKeyVersion(randomUUID(), version(2)), notFound)
        await keys.addKmsKeyVersion(key.id, version(2))
        const taken = version(2, NOW + DAY)
        await assert.rejects(keys.addKmsKeyVersion(key.id, taken), conflict)
        const versions = (await keys.getKmsKey(key.id))?.versions ?? []
        assert.deepEqual(
          versions.map((v) => v.version),
          [1, 2],
        )
        assert.notEqual(versions[1]?.sealedMaterial, taken.sealedMaterial, 'the first one stays')
      }))

    it('has no signing key at first, then one current key with an open window', () =>
      withKeys(factory, async (keys) => {
        assert.deepEqual(await keys.listSigningKeys(), [])
        const first = signingKey(NOW)
        await keys.rotateSigningKey(first)
        assert.deepEqual(await keys.listSigningKeys(), [first])
      }))

    it('rotating closes the current window at the new key start; keys listed oldest first', () =>
      withKeys(factory, async (keys) => {
        const [a, b, c] = [signingKey(NOW), signingKey(NOW + DAY), signingKey(NOW + 3 * DAY)]
        for (const key of [a, b, c]) await keys.rotateSigningKey(key)
        assert.deepEqual(await keys.listSigningKeys(), [
          { ...a, validTo: b.validFrom },
          { ...b, validTo: c.validFrom },
          c,
        ])
      }))

    it('rotates in one transaction: a refused key leaves the current window open', () =>
      withKeys(factory, async (keys) => {
        const a = signingKey(NOW)
        await keys.rotateSigningKey(a)
        await assert.rejects(keys.rotateSigningKey({ ...a, validFrom: NOW + DAY }), exists)
        assert.deepEqual(await keys.listSigningKeys(), [a])
      }))

    it('refuses a key starting before the current one (a concurrent rotation came first)', () =>
      withKeys(factory, async (keys) => {
        const a = signingKey(NOW)
        await keys.rotateSigningKey(a)
        await assert.rejects(keys.rotateSigningKey(signingKey(NOW - 1)), conflict)
        assert.deepEqual(await keys.listSigningKeys(), [a])
      }))

    it('keeps keys and versions across a reopen', async (t) => {
      if (factory.reopen === undefined) {
        t.skip('this store does not persist')
        return
      }
      let store = await factory.open()
      try {
        const key = kmsKey('alpha')
        const signing = signingKey(NOW)
        await store.keys.insertKmsKey(key)
        await store.keys.rotateSigningKey(signing)
        store = await factory.reopen(store)
        assert.deepEqual(await store.keys.getKmsKey(key.id), key)
        assert.deepEqual(await store.keys.listSigningKeys(), [signing])
      } finally {
        await store.close()
      }
    })
  })
}

/**
 * Tests of KmsKeys over an in-memory SQLite store (opened by URL) and a real master key: create, rotate, list,
 * lookups by id only, material sealed at rest and bound to its key version, the key file of
 * `export` read back by `parseKeyFile` (and opening an envelope with it), and bad key files.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { MasterKey } from '../auth/master-key.js'
import { isOpenCtsError, type ErrorCode } from '../errors/index.js'
import { FakeClock, randomIds } from '../platform/clock.js'
import type { Store } from '../store/index.js'
import { openStore } from '../store/open-store.js'
import { openEnvelope, sealEnvelope } from './envelope.js'
import { KmsKeys, parseKeyFile, type KeyFile } from './kms-keys.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

function hasCode(code: ErrorCode): (error: unknown) => boolean {
  return (error) => isOpenCtsError(error) && error.code === code
}

interface Harness {
  readonly store: Store
  readonly masterKey: MasterKey
  readonly clock: FakeClock
  readonly kms: KmsKeys
}

async function setup(t: TestContext): Promise<Harness> {
  const store = await openStore({ url: 'sqlite::memory:' })
  t.after(() => store.close())
  const masterKey = MasterKey.generate()
  const clock = new FakeClock(NOW)
  return {
    store,
    masterKey,
    clock,
    kms: new KmsKeys({ keys: store.keys, sealer: masterKey, clock, ids: randomIds }),
  }
}

describe('KmsKeys', () => {
  it('creates a key with version 1 of 32 random bytes, named by a UUID id', async (t) => {
    const { kms } = await setup(t)
    const key = await kms.create('billing')
    assert.match(key.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.deepEqual(key, {
      id: key.id,
      name: 'billing',
      created_at: NOW,
      current_version: 1,
      version_count: 1,
    })
    const current = await kms.current(key.id)
    assert.equal(current.kmsId, key.id)
    assert.equal(current.version, 1)
    assert.equal(current.material.length, 32)
    const other = await kms.current((await kms.create('other')).id)
    assert.notDeepEqual(other.material, current.material)
  })

  it('accepts names of letters, digits, - _ and /, and refuses others and taken ones', async (t) => {
    const { kms } = await setup(t)
    await kms.create('team/billing_key-1')
    await kms.create('x'.repeat(64))
    for (const bad of ['', 'x'.repeat(65), 'has space', 'dot.name', 'é', randomUUID()])
      await assert.rejects(kms.create(bad), hasCode('OCTS_ERR_KEY_INVALID'), JSON.stringify(bad))
    await assert.rejects(kms.create('team/billing_key-1'), hasCode('OCTS_ERR_KEY_EXISTS'))
  })

  it('rotates by id or name: new files use the new version, old versions still open', async (t) => {
    const { kms, clock } = await setup(t)
    const key = await kms.create('billing')
    const v1 = await kms.current(key.id)
    clock.advance(1000)
    assert.equal((await kms.rotate('billing')).current_version, 2)
    const v2 = await kms.current(key.id)
    assert.equal(v2.version, 2)
    assert.notDeepEqual(v2.material, v1.material)
    assert.deepEqual(await kms.version(key.id, 1), v1)
    const third = await kms.rotate(key.id)
    assert.deepEqual([third.current_version, third.version_count], [3, 3])
    await assert.rejects(kms.version(key.id, 4), hasCode('OCTS_ERR_KEY_NOT_FOUND'))
    await assert.rejects(kms.rotate('nobody'), hasCode('OCTS_ERR_KEY_NOT_FOUND'))
  })

  it('finds keys for encryption by id only, never by name', async (t) => {
    const { kms } = await setup(t)
    const key = await kms.create('billing')
    assert.equal(await kms.exists(key.id), true)
    assert.equal(await kms.exists('billing'), false)
    assert.equal(await kms.exists(randomUUID()), false)
    await assert.rejects(kms.current('billing'), hasCode('OCTS_ERR_KEY_NOT_FOUND'))
    await assert.rejects(kms.version('billing', 1), hasCode('OCTS_ERR_KEY_NOT_FOUND'))
  })

  it('lists keys by name with their versions, never their material', async (t) => {
    const { kms } = await setup(t)
    const b = await kms.create('beta')
    const a = await kms.create('alpha')
    await kms.rotate('beta')
    const list = await kms.list()
    assert.deepEqual(
      list.map((k) => [k.name, k.id, k.current_version, k.version_count]),
      [
        ['alpha', a.id, 1, 1],
        ['beta', b.id, 2, 2],
      ],
    )
    for (const k of list)
      assert.deepEqual(Object.keys(k).sort(), [
        'created_at',
        'current_version',
        'id',
        'name',
        'version_count',
      ])
  })

  it('stores material sealed, bound to its key version, and reads it back in a new process', async (t) => {
    const { kms, store, masterKey, clock } = await setup(t)
    const key = await kms.create('billing')
    await kms.rotate(key.id)
    const material = (await kms.current(key.id)).material
    const stored = await store.keys.getKmsKey(key.id)
    assert.ok(stored)
    const [first, second] = stored.versions
    assert.ok(first && second)
    assert.ok(!second.sealedMaterial.includes(material.toString('base64')), 'not in clear')
    const fresh = new KmsKeys({ keys: store.keys, sealer: masterKey, clock, ids: randomIds })
    assert.deepEqual((await fresh.current(key.id)).material, material)
    // Another master key, or a sealed value moved to another version, does not open.
    const stranger = new KmsKeys({
      keys: store.keys,
      sealer: MasterKey.generate(),
      clock,
      ids: randomIds,
    })
    await assert.rejects(stranger.current(key.id), hasCode('OCTS_ERR_INTERNAL'))
    assert.throws(
      () => masterKey.open(first.sealedMaterial, `kms:${key.id}:2`),
      hasCode('OCTS_ERR_INTERNAL'),
    )
  })

  it('exports a key file that parseKeyFile reads back, enough to open its envelopes', async (t) => {
    const { kms, clock } = await setup(t)
    const key = await kms.create('billing')
    const sealed1 = sealEnvelope(Buffer.from('first'), await kms.current(key.id))
    clock.advance(5000)
    await kms.rotate('billing')
    const sealed2 = sealEnvelope(Buffer.from('second'), await kms.current(key.id))
    const file: KeyFile = await kms.export('billing')
    assert.deepEqual(Object.keys(file), ['kms_keys'])
    const [entry] = file.kms_keys
    assert.ok(entry)
    assert.deepEqual([entry.id, entry.name], [key.id, 'billing'])
    assert.deepEqual(
      entry.versions.map((v) => [v.version, v.created_at]),
      [
        [1, NOW],
        [2, NOW + 5000],
      ],
    )
    const versions = parseKeyFile(JSON.stringify(file))
    assert.deepEqual(versions, [await kms.version(key.id, 1), await kms.version(key.id, 2)])
    const [v1, v2] = versions
    assert.ok(v1 && v2)
    assert.equal(openEnvelope(sealed1, v1).toString(), 'first')
    assert.equal(openEnvelope(sealed2, v2).toString(), 'second')
    await assert.rejects(kms.export('nobody'), hasCode('OCTS_ERR_KEY_NOT_FOUND'))
  })
})

describe('parseKeyFile', () => {
  const material = Buffer.alloc(32, 7).toString('base64')
  const id = randomUUID()
  const file = (versions: unknown[], extra: unknown[] = []): string =>
    JSON.stringify({ kms_keys: [{ id, name: 'k', versions }, ...extra] })
  const v = (version: unknown, m: unknown = material): unknown => ({
    version,
    material: m,
    created_at: NOW,
  })

  it('reads every version of every key', () => {
    const other = randomUUID()
    const versions = parseKeyFile(file([v(1), v(2)], [{ id: other, name: 'o', versions: [v(1)] }]))
    assert.deepEqual(
      versions.map((x) => [x.kmsId, x.version, x.material.length]),
      [
        [id, 1, 32],
        [id, 2, 32],
        [other, 1, 32],
      ],
    )
  })

  it('refuses bad files with OCTS_ERR_KEY_INVALID naming the problem', () => {
    const cases: [string, string, RegExp][] = [
      ['not JSON', '{', /not JSON/],
      ['no kms_keys', '{}', /kms_keys/],
      ['empty kms_keys', '{"kms_keys":[]}', /non-empty kms_keys/],
      ['a key without versions', file([]), /versions must be a non-empty array/],
      ['a key without id', JSON.stringify({ kms_keys: [{ name: 'k', versions: [v(1)] }] }), /id/],
      ['material of 16 bytes', file([v(1, Buffer.alloc(16).toString('base64'))]), /16 bytes/],
      ['material not base64', file([v(1, 'not base64!')]), /base64/],
      ['version 0', file([v(0)]), /positive integer/],
      ['version 1.5', file([v(1.5)]), /positive integer/],
      ['a version twice', file([v(1), v(1)]), /version 1 is given twice/],
      ['a key twice', file([v(1)], [{ id, name: 'k', versions: [v(2)] }]), /given twice/],
    ]
    for (const [label, text, message] of cases)
      assert.throws(
        () => parseKeyFile(text),
        (error: unknown) =>
          hasCode('OCTS_ERR_KEY_INVALID')(error) && message.test((error as Error).message),
        label,
      )
  })
})

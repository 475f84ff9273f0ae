/**
 * Tests of SigningKeys over an in-memory SQLite store (opened by URL), a real master key and a fake clock: the
 * first key, the key picked for a digest end time across rotations, automatic rotation by age,
 * private keys sealed at rest and usable after a restart; and the pure window rules shared with
 * verifiers (`selectVerificationKey`, `keysOverlapping`).
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { MasterKey } from '../auth/master-key.js'
import { publicKeyFingerprint, signDigest, verifyDigestSignature } from '../integrity/digest.js'
import { FakeClock } from '../platform/clock.js'
import type { Store } from '../store/index.js'
import { openStore } from '../store/open-store.js'
import {
  SigningKeys,
  keysOverlapping,
  selectVerificationKey,
  type DigestKeyView,
} from './signing-keys.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)
const HOUR = 3_600_000
const DAY = 24 * HOUR

interface Harness {
  readonly store: Store
  readonly masterKey: MasterKey
  readonly clock: FakeClock
  readonly signing: SigningKeys
}

async function setup(t: TestContext, rotationMs = 30 * DAY): Promise<Harness> {
  const store = await openStore({ url: 'sqlite::memory:' })
  t.after(() => store.close())
  const masterKey = MasterKey.generate()
  const clock = new FakeClock(NOW)
  const signing = new SigningKeys({ keys: store.keys, sealer: masterKey, clock, rotationMs })
  return { store, masterKey, clock, signing }
}

/** Whether the key `keyFor` gave verifies under the published public key of its fingerprint. */
async function verifiesWithPublished(
  signing: SigningKeys,
  chosen: Awaited<ReturnType<SigningKeys['keyFor']>>,
): Promise<boolean> {
  const published = (await signing.publicKeys()).find((k) => k.fingerprint === chosen.fingerprint)
  assert.ok(published, `${chosen.fingerprint} is published`)
  const signature = signDigest(chosen.privateKey, 'a signing string')
  return verifyDigestSignature(createPublicKey(published.public_key), 'a signing string', signature)
}

describe('SigningKeys', () => {
  it('creates the first key valid from now, once', async (t) => {
    const { signing } = await setup(t)
    assert.deepEqual(await signing.publicKeys(), [])
    await signing.ensureCurrent()
    await signing.ensureCurrent()
    const keys = await signing.publicKeys()
    assert.equal(keys.length, 1)
    const [key] = keys
    assert.ok(key)
    assert.equal(key.algorithm, 'SHA256withRSA')
    assert.equal(key.valid_from, NOW)
    assert.equal(key.valid_to, null)
    const publicKey = createPublicKey(key.public_key)
    assert.equal(publicKey.asymmetricKeyDetails?.modulusLength, 2048)
    assert.equal(publicKeyFingerprint(publicKey), key.fingerprint)
    assert.match(key.fingerprint, /^[0-9a-f]{64}$/)
  })

  it('makes the first key when asked to sign before any exists', async (t) => {
    const { signing } = await setup(t)
    const chosen = await signing.keyFor(NOW - HOUR)
    assert.equal((await signing.publicKeys())[0]?.fingerprint, chosen.fingerprint)
    assert.ok(await verifiesWithPublished(signing, chosen))
  })

  it('picks the key whose window holds the end time; before every key, the oldest', async (t) => {
    const { signing, clock } = await setup(t)
    await signing.ensureCurrent()
    clock.advance(DAY)
    const second = await signing.rotate()
    assert.equal(second.valid_from, NOW + DAY)
    const [first, current] = await signing.publicKeys()
    assert.ok(first && current)
    assert.equal(first.valid_to, NOW + DAY, 'the first window ends where the second starts')
    assert.equal(current.fingerprint, second.fingerprint)
    assert.equal((await signing.keyFor(NOW + HOUR)).fingerprint, first.fingerprint)
    assert.equal((await signing.keyFor(NOW + DAY - 1)).fingerprint, first.fingerprint)
    assert.equal((await signing.keyFor(NOW + DAY)).fingerprint, second.fingerprint)
    assert.equal((await signing.keyFor(NOW + 2 * DAY)).fingerprint, second.fingerprint)
    assert.equal((await signing.keyFor(NOW - 7 * DAY)).fingerprint, first.fingerprint)
    for (const end of [NOW, NOW + DAY])
      assert.ok(await verifiesWithPublished(signing, await signing.keyFor(end)))
  })

  it('rotates before answering once the current key is older than the rotation period', async (t) => {
    const { signing, clock } = await setup(t, 10 * DAY)
    await signing.ensureCurrent()
    clock.advance(10 * DAY)
    await signing.keyFor(clock.now())
    assert.equal((await signing.publicKeys()).length, 1, 'not older than 10 days yet')
    clock.advance(1)
    const rotatedAt = clock.now()
    const chosen = await signing.keyFor(rotatedAt)
    const [old, current] = await signing.publicKeys()
    assert.ok(old && current)
    assert.equal(current.valid_from, rotatedAt)
    assert.equal(old.valid_to, rotatedAt)
    assert.equal(chosen.fingerprint, current.fingerprint)
    assert.equal((await signing.keyFor(rotatedAt - HOUR)).fingerprint, old.fingerprint)
  })

  it('rotates once when several digests ask for a key at the same time', async (t) => {
    const { signing, clock } = await setup(t, DAY)
    await signing.ensureCurrent()
    clock.advance(2 * DAY)
    const chosen = await Promise.all([1, 2, 3].map(() => signing.keyFor(clock.now())))
    assert.equal((await signing.publicKeys()).length, 2)
    assert.equal(new Set(chosen.map((c) => c.fingerprint)).size, 1)
  })

  it('keeps private keys sealed and bound to their fingerprint, usable after a restart', async (t) => {
    const { signing, store, masterKey, clock } = await setup(t)
    await signing.ensureCurrent()
    const [stored] = await store.keys.listSigningKeys()
    assert.ok(stored)
    assert.doesNotMatch(stored.sealedPrivateKey, /PRIVATE KEY|^MII/)
    assert.throws(() => masterKey.open(stored.sealedPrivateKey, 'signing:other'))
    const restarted = new SigningKeys({ keys: store.keys, sealer: masterKey, clock })
    const chosen = await restarted.keyFor(NOW)
    assert.equal(chosen.fingerprint, stored.fingerprint)
    assert.ok(await verifiesWithPublished(restarted, chosen))
    const stranger = new SigningKeys({ keys: store.keys, sealer: MasterKey.generate(), clock })
    await assert.rejects(stranger.keyFor(NOW), /cannot unseal/)
  })
})

const view = (fingerprint: string, validFrom: number, validTo: number | null): DigestKeyView => ({
  fingerprint,
  algorithm: 'SHA256withRSA',
  public_key: `PEM of ${fingerprint}`,
  valid_from: validFrom,
  valid_to: validTo,
})

const KEYS = [
  view('aa', NOW, NOW + DAY),
  view('bb', NOW + DAY, NOW + 2 * DAY),
  view('cc', NOW + 2 * DAY, null),
]

describe('selectVerificationKey', () => {
  it('accepts the key whose window holds the end time, and the oldest before every key', () => {
    assert.equal(selectVerificationKey(KEYS, 'aa', NOW), KEYS[0])
    assert.equal(selectVerificationKey(KEYS, 'bb', NOW + DAY), KEYS[1])
    assert.equal(selectVerificationKey(KEYS, 'cc', NOW + 400 * DAY), KEYS[2])
    assert.equal(selectVerificationKey(KEYS, 'aa', NOW - 30 * DAY), KEYS[0])
  })

  it('names the problem for an unknown fingerprint or a time outside the window', () => {
    assert.deepEqual(selectVerificationKey(KEYS, 'dd', NOW), {
      problem: 'public key not found for fingerprint dd',
    })
    assert.deepEqual(selectVerificationKey(KEYS, 'aa', NOW + DAY), {
      problem: 'key aa was not valid at 2026-11-22T12:00:00.000Z',
    })
    assert.deepEqual(selectVerificationKey(KEYS, 'bb', NOW + DAY - 1), {
      problem: 'key bb was not valid at 2026-11-22T11:59:59.999Z',
    })
    assert.deepEqual(selectVerificationKey(KEYS, 'bb', NOW - DAY), {
      problem: 'key bb was not valid at 2026-11-20T12:00:00.000Z',
    })
  })
})

describe('keysOverlapping', () => {
  const names = (keys: DigestKeyView[]): string[] => keys.map((k) => k.fingerprint)

  it('keeps every key without bounds, and those overlapping the exclusive interval', () => {
    assert.deepEqual(names(keysOverlapping(KEYS, undefined, undefined)), ['aa', 'bb', 'cc'])
    assert.deepEqual(names(keysOverlapping(KEYS, NOW + DAY, NOW + DAY + 2)), ['bb'])
    assert.deepEqual(names(keysOverlapping(KEYS, NOW + DAY - 2, NOW + DAY + 1)), ['aa', 'bb'])
    assert.deepEqual(names(keysOverlapping(KEYS, NOW + 5 * DAY, undefined)), ['cc'])
    assert.deepEqual(names(keysOverlapping(KEYS, undefined, NOW + DAY)), ['aa'])
  })

  it('counts the oldest key as valid before its start', () => {
    assert.deepEqual(names(keysOverlapping(KEYS, NOW - 9 * DAY, NOW - 8 * DAY)), ['aa'])
  })
})

/**
 * @module transfer/signing-keys
 * The RSA-2048 key pairs that sign digest files (SHA256withRSA, see integrity/digest.ts), with
 * rotation and validity windows, and the rule that picks a key for a digest, shared by the writer
 * (`keyFor`) and verifiers (`selectVerificationKey`).
 *
 * Validity windows: each key is valid over [valid_from, valid_to); the current key has valid_to
 * null (open). A rotation ends the current key's window where the new key's starts, so the windows
 * are adjacent and every time after the first key's start falls in exactly one. The digest ending
 * at `endTime` is signed with the key whose window contains `endTime`; a time before every window
 * belongs to the oldest key (digests of periods before the first key was made).
 *
 * A key's fingerprint is the lowercase hex SHA-256 of its DER SubjectPublicKeyInfo. Its private key
 * is stored as PKCS#8 DER (base64), sealed with the server master key and bound to
 * `signing:{fingerprint}`; unsealed keys are cached in memory. Public keys are published by
 * `GET /v3/{project_id}/digest-keys` and `opencts keys public`.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { OpenCtsError } from '../errors/index.js'
import { SIGNATURE_ALGORITHM, publicKeyFingerprint } from '../integrity/digest.js'
import type { Clock } from '../platform/clock.js'
import type { KeyStore, SigningKeyRecord } from '../store/index.js'
import type { Sealer } from './kms-keys.js'

/** A public signing key as the API and `opencts keys public` publish it (times in epoch ms). */
export interface DigestKeyView {
  readonly fingerprint: string
  readonly algorithm: typeof SIGNATURE_ALGORITHM
  /** PEM SubjectPublicKeyInfo. */
  readonly public_key: string
  readonly valid_from: number
  /** Null for the current key. */
  readonly valid_to: number | null
}

export interface SigningKeysDeps {
  readonly keys: KeyStore
  readonly sealer: Sealer
  readonly clock: Clock
  /** Age after which `keyFor` rotates the current key. Default 30 days. */
  readonly rotationMs?: number
}

export const DEFAULT_SIGNING_KEY_ROTATION_MS = 30 * 86_400_000

/** What a window needs: a start and an end (null: open). */
interface Window {
  readonly validFrom: number
  readonly validTo: number | null
}

const contains = (w: Window, time: number): boolean =>
  w.validFrom <= time && (w.validTo === null || time < w.validTo)

/**
 * The key of `keys` whose window holds `endTime`, or the oldest key when `endTime` is before every
 * window; undefined otherwise (no key, or a gap between windows).
 */
function keyAt<K extends Window>(keys: readonly K[], endTime: number): K | undefined {
  const within = keys.find((k) => contains(k, endTime))
  if (within !== undefined) return within
  let oldest: K | undefined
  for (const k of keys) if (oldest === undefined || k.validFrom < oldest.validFrom) oldest = k
  return oldest !== undefined && endTime < oldest.validFrom ? oldest : undefined
}

function iso(time: number): string {
  return Number.isFinite(time) ? new Date(time).toISOString() : String(time)
}

/**
 * The public key that must have signed a digest naming `fingerprint` and ending at `endTime`, by
 * the rule of `keyFor` (see the module comment). Pure. A problem in words when the fingerprint is
 * unknown, or when the key's window does not hold `endTime` and `endTime` is not before every key
 * with this one the oldest.
 */
export function selectVerificationKey(
  keys: readonly DigestKeyView[],
  fingerprint: string,
  endTime: number,
): DigestKeyView | { problem: string } {
  const key = keys.find((k) => k.fingerprint === fingerprint)
  if (key === undefined) return { problem: `public key not found for fingerprint ${fingerprint}` }
  if (contains({ validFrom: key.valid_from, validTo: key.valid_to }, endTime)) return key
  const beforeEveryKey = keys.every((k) => endTime < k.valid_from)
  if (beforeEveryKey && keys.every((k) => key.valid_from <= k.valid_from)) return key
  return { problem: `key ${fingerprint} was not valid at ${iso(endTime)}` }
}

/**
 * The keys of `keys` (oldest first) whose window overlaps the exclusive interval (from, to), an
 * undefined bound being open. The oldest key's window is taken to reach back indefinitely, as it
 * signs digests ending before every key. Pure.
 */
export function keysOverlapping(
  keys: readonly DigestKeyView[],
  from: number | undefined,
  to: number | undefined,
): DigestKeyView[] {
  return keys.filter(
    (key, i) =>
      (to === undefined || i === 0 || key.valid_from < to) &&
      (from === undefined || key.valid_to === null || key.valid_to > from + 1),
  )
}

function toView(record: SigningKeyRecord): DigestKeyView {
  return {
    fingerprint: record.fingerprint,
    algorithm: SIGNATURE_ALGORITHM,
    public_key: record.publicKeyPem,
    valid_from: record.validFrom,
    valid_to: record.validTo,
  }
}

const boundTo = (fingerprint: string): string => `signing:${fingerprint}`

export class SigningKeys {
  readonly #keys: KeyStore
  readonly #sealer: Sealer
  readonly #clock: Clock
  readonly #rotationMs: number
  /** Unsealed private keys by fingerprint. */
  readonly #cache = new Map<string, KeyObject>()
  #rotating: Promise<DigestKeyView> | undefined

  constructor(deps: SigningKeysDeps) {
    this.#keys = deps.keys
    this.#sealer = deps.sealer
    this.#clock = deps.clock
    this.#rotationMs = deps.rotationMs ?? DEFAULT_SIGNING_KEY_ROTATION_MS
    if (!(this.#rotationMs > 0)) throw new RangeError('rotationMs must be positive')
  }

  /** Creates the first key (valid from now) when there is none. */
  async ensureCurrent(): Promise<void> {
    if ((await this.#keys.listSigningKeys()).length === 0) await this.#rotateOnce()
  }

  /**
   * The key to sign the digest ending at `endTime` (see the module comment). Creates the first key
   * when there is none, and first rotates when the current key is older than the rotation period.
   * Throws OCTS_ERR_KEY_NOT_FOUND only if the stored windows have a gap at `endTime`.
   */
  async keyFor(endTime: number): Promise<{ fingerprint: string; privateKey: KeyObject }> {
    let records = await this.#keys.listSigningKeys()
    const current = records.find((r) => r.validTo === null)
    if (current === undefined || this.#clock.now() - current.validFrom > this.#rotationMs) {
      await this.#rotateOnce()
      records = await this.#keys.listSigningKeys()
    }
    const record = keyAt(records, endTime)
    if (record === undefined)
      throw new OpenCtsError('OCTS_ERR_KEY_NOT_FOUND', {
        message: `no signing key is valid at ${iso(endTime)}`,
      })
    return { fingerprint: record.fingerprint, privateKey: this.#privateKey(record) }
  }

  /** Makes a new current key, valid from now; the previous key's window ends now. */
  async rotate(): Promise<DigestKeyView> {
    return this.#rotate()
  }

  /** Every public key, oldest first. */
  async publicKeys(): Promise<DigestKeyView[]> {
    return (await this.#keys.listSigningKeys()).map(toView)
  }

  /** One automatic rotation at a time: concurrent callers share the one in flight. */
  #rotateOnce(): Promise<DigestKeyView> {
    this.#rotating ??= this.#rotate().finally(() => {
      this.#rotating = undefined
    })
    return this.#rotating
  }

  async #rotate(): Promise<DigestKeyView> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const fingerprint = publicKeyFingerprint(publicKey)
    const der = privateKey.export({ type: 'pkcs8', format: 'der' })
    const record: SigningKeyRecord = {
      fingerprint,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      sealedPrivateKey: this.#sealer.seal(der.toString('base64'), boundTo(fingerprint)),
      validFrom: this.#clock.now(),
      validTo: null,
    }
    await this.#keys.rotateSigningKey(record)
    this.#cache.set(fingerprint, privateKey)
    return toView(record)
  }

  #privateKey(record: SigningKeyRecord): KeyObject {
    let key = this.#cache.get(record.fingerprint)
    if (key === undefined) {
      const der = this.#sealer.open(record.sealedPrivateKey, boundTo(record.fingerprint))
      key = createPrivateKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'pkcs8' })
      // A stored pair that does not match would sign digests no published key verifies.
      if (publicKeyFingerprint(createPublicKey(key)) !== record.fingerprint)
        throw new OpenCtsError('OCTS_ERR_INTERNAL', {
          message: `the private key stored for signing key ${record.fingerprint} does not match it`,
        })
      this.#cache.set(record.fingerprint, key)
    }
    return key
  }
}

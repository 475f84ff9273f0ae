/**
 * @module log/log-keys
 * The Ed25519 key that signs checkpoints. One is created on first use and kept in the store, its
 * private key as PKCS#8 DER sealed with the server master key (bound to `log:{key id}`); older keys
 * stay listed so that old checkpoints keep verifying. The key id is the C2SP note key id
 * (integrity/checkpoint `publicKeyId`); the verifier key string is the C2SP `vkey` form
 * `<name>+<hex key id>+<base64(0x01 || raw public key)>`, what note verifiers are configured with.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { publicKeyId } from '../integrity/checkpoint.js'
import type { Clock } from '../platform/clock.js'
import type { Sealer } from '../platform/sealer.js'
import type { LogKeyRecord, MerkleLogStore } from '../store/index.js'

/** A public checkpoint key as the API publishes it. */
export interface LogKeyView {
  readonly key_name: string
  /** Lowercase hex of the 4-byte key id carried by every signature line. */
  readonly key_id: string
  readonly algorithm: 'Ed25519'
  /** PEM SubjectPublicKeyInfo. */
  readonly public_key: string
  /** C2SP verifier key: `<name>+<hex key id>+<base64(0x01 || raw public key)>`. */
  readonly verifier_key: string
  /** Creation time, epoch ms. */
  readonly created_at: number
}

/** The signing key in use. */
export interface LogSigner {
  readonly keyName: string
  readonly keyId: string
  readonly privateKey: KeyObject
}

const boundTo = (keyId: string): string => `log:${keyId}`

/** C2SP verifier key string of an Ed25519 public key. */
export function verifierKey(keyName: string, publicKey: KeyObject): string {
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')
  const id = publicKeyId(keyName, publicKey).toString('hex')
  return `${keyName}+${id}+${Buffer.concat([Buffer.of(1), raw]).toString('base64')}`
}

export function logKeyView(record: LogKeyRecord): LogKeyView {
  const publicKey = createPublicKey(record.publicKey)
  return {
    key_name: record.keyName,
    key_id: record.keyId,
    algorithm: 'Ed25519',
    public_key: record.publicKey,
    verifier_key: verifierKey(record.keyName, publicKey),
    created_at: record.createdAt,
  }
}

export interface LogKeysDeps {
  readonly store: MerkleLogStore
  readonly sealer: Sealer
  readonly clock: Clock
  /** Name of new keys (config `logKeyName`). */
  readonly keyName: string
}

export class LogKeys {
  readonly #deps: LogKeysDeps
  #signer: LogSigner | undefined

  constructor(deps: LogKeysDeps) {
    this.#deps = deps
  }

  /**
   * The newest key with the configured name, unsealed once; a new key when there is none (first
   * start, or the key name changed).
   */
  async signer(): Promise<LogSigner> {
    if (this.#signer !== undefined) return this.#signer
    const { store, sealer, clock, keyName } = this.#deps
    const newest = (await store.listLogKeys()).filter((k) => k.keyName === keyName).at(-1)
    if (newest !== undefined) {
      const der = Buffer.from(sealer.open(newest.sealedPrivateKey, boundTo(newest.keyId)), 'base64')
      const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      this.#signer = { keyName, keyId: newest.keyId, privateKey }
      return this.#signer
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const keyId = publicKeyId(keyName, publicKey).toString('hex')
    const der = privateKey.export({ format: 'der', type: 'pkcs8' })
    await store.insertLogKey({
      keyId,
      keyName,
      publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      sealedPrivateKey: sealer.seal(der.toString('base64'), boundTo(keyId)),
      createdAt: clock.now(),
    })
    this.#signer = { keyName, keyId, privateKey }
    return this.#signer
  }

  /** Every checkpoint key, oldest first. */
  async publicKeys(): Promise<LogKeyView[]> {
    return (await this.#deps.store.listLogKeys()).map(logKeyView)
  }
}

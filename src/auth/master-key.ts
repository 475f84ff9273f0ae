/**
 * @module auth/master-key
 * The master key that seals secret keys at rest (AES-256-GCM, the access key id as additional data,
 * so a sealed secret cannot be moved to another key's row). It lives in its own file, outside the
 * database file: a stolen copy of `opencts.db` alone reveals no secret key.
 *
 * File format: one line, 32 random bytes in base64, mode 0600. Created on first start when missing.
 * Sealed format: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { OpenCtsError } from '../errors/index.js'

const KEY_BYTES = 32
const IV_BYTES = 12

export class MasterKey {
  readonly #key: Buffer

  private constructor(key: Buffer) {
    this.#key = key
  }

  static generate(): MasterKey {
    return new MasterKey(randomBytes(KEY_BYTES))
  }

  static fromBase64(text: string): MasterKey {
    const key = Buffer.from(text.trim(), 'base64')
    if (key.length !== KEY_BYTES)
      throw new Error(`a master key is ${KEY_BYTES} bytes in base64, got ${key.length} bytes`)
    return new MasterKey(key)
  }

  toBase64(): string {
    return this.#key.toString('base64')
  }

  /** First 16 hex characters of SHA-256(key): names the key in logs without revealing it. */
  get fingerprint(): string {
    return createHash('sha256').update(this.#key).digest('hex').slice(0, 16)
  }

  seal(plaintext: string, boundTo: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(boundTo, 'utf8'))
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return ['v1', iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.')
  }

  /** Throws OCTS_ERR_INTERNAL when the value was sealed by another key, for another id, or altered. */
  open(sealed: string, boundTo: string): string {
    const [version, iv, tag, data] = sealed.split('.')
    try {
      if (version !== 'v1' || iv === undefined || tag === undefined || data === undefined)
        throw new Error('not a v1 sealed value')
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(boundTo, 'utf8'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64url')),
        decipher.final(),
      ]).toString('utf8')
    } catch (error) {
      throw new OpenCtsError('OCTS_ERR_INTERNAL', {
        message: `cannot unseal the secret of ${boundTo}: wrong master key or altered data`,
        cause: error,
      })
    }
  }
}

/**
 * Reads the master key file, creating it (mode 0600) when it does not exist. Throws when the file
 * exists but is not a valid key: OpenCTS never silently replaces a key, since every sealed secret
 * depends on it.
 */
/**
 * The master key of a node: `OPENCTS_MASTER_KEY`'s text when set (many nodes can share one key
 * from a secret store), else the key file (created when missing). `source` names it in messages.
 */
export function resolveMasterKey(settings: { masterKey: string; masterKeyFile: string }): {
  key: MasterKey
  created: boolean
  source: string
} {
  if (settings.masterKey !== '')
    return {
      key: MasterKey.fromBase64(settings.masterKey),
      created: false,
      source: 'OPENCTS_MASTER_KEY',
    }
  const { key, created } = loadOrCreateMasterKey(settings.masterKeyFile)
  return { key, created, source: settings.masterKeyFile }
}

export function loadOrCreateMasterKey(path: string): { key: MasterKey; created: boolean } {
  if (!existsSync(path)) {
    const key = MasterKey.generate()
    writeFileSync(path, key.toBase64() + '\n', { mode: 0o600, flag: 'wx' })
    return { key, created: true }
  }
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) !== 0) chmodSync(path, 0o600)
  try {
    return { key: MasterKey.fromBase64(readFileSync(path, 'utf8')), created: false }
  } catch (error) {
    throw new Error(`the master key file ${path} is invalid: ${String(error)}`, { cause: error })
  }
}

/**
 * @module store/sqlite/sqlite-key-store
 * KeyStore on SQLite: named encryption master keys with their versions (`kms_keys`,
 * `kms_key_versions`) and digest signing keys (`signing_keys`) of schema.ts. Every value here is
 * already sealed by the caller; this module never sees key material in clear.
 *
 * Errors: a taken key id or name → OCTS_ERR_KEY_EXISTS; a version for a key that is gone →
 * OCTS_ERR_KEY_NOT_FOUND; a version number taken, or a signing key starting before the current one
 * (both: a concurrent rotation) → OCTS_ERR_CONFLICT; a signing key fingerprint stored twice →
 * OCTS_ERR_KEY_EXISTS.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { KeyStore, KmsKeyRecord, KmsKeyVersion, SigningKeyRecord } from '../store.js'
import { isUniqueViolation, run } from './driver-errors.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

// SELECT lists aliased to the model's field names.
const KMS_KEY = 'SELECT id, name, created_at AS createdAt FROM kms_keys'
const KMS_VERSION = `SELECT key_id AS keyId, version, sealed_material AS sealedMaterial,
  created_at AS createdAt FROM kms_key_versions`
const SIGNING_KEY = `SELECT fingerprint, public_key_pem AS publicKeyPem,
  sealed_private_key AS sealedPrivateKey, valid_from AS validFrom, valid_to AS validTo
  FROM signing_keys`

type KmsKeyRow = Omit<KmsKeyRecord, 'versions'>
type KmsVersionRow = KmsKeyVersion & { readonly keyId: string }

const toVersion = ({ version, sealedMaterial, createdAt }: KmsVersionRow): KmsKeyVersion => ({
  version,
  sealedMaterial,
  createdAt,
})

export class SqliteKeyStore implements KeyStore {
  readonly #db: SqliteDatabase
  readonly #statements = new Map<string, SqliteStatement>()
  readonly #insertKmsKey: (key: KmsKeyRecord) => void
  readonly #addKmsKeyVersion: (keyId: string, version: KmsKeyVersion) => void
  readonly #getKmsKey: (idOrName: string) => KmsKeyRecord | undefined
  readonly #listKmsKeys: () => KmsKeyRecord[]
  readonly #rotateSigningKey: (key: SigningKeyRecord) => void

  constructor(db: SqliteDatabase) {
    this.#db = db
    this.#insertKmsKey = db.transaction((key: KmsKeyRecord) => {
      try {
        this.#sql('INSERT INTO kms_keys (id, name, created_at) VALUES (?, ?, ?)').run(
          key.id,
          key.name,
          key.createdAt,
        )
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
        throw new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
          message: `a key with id ${key.id} or name ${key.name} already exists`,
          cause: error,
        })
      }
      for (const version of key.versions) this.#insertVersion(key.id, version)
    })
    this.#addKmsKeyVersion = db.transaction((keyId: string, version: KmsKeyVersion) => {
      // Checked here rather than by the foreign key, so it does not depend on `foreign_keys = ON`.
      if (this.#sql('SELECT 1 FROM kms_keys WHERE id = ?').get(keyId) === undefined)
        throw new OpenCtsError('OCTS_ERR_KEY_NOT_FOUND', { message: `key ${keyId} does not exist` })
      this.#insertVersion(keyId, version)
    })
    // Reads in a transaction too: the key and its versions come from one snapshot.
    this.#getKmsKey = db.transaction((idOrName: string) => {
      // An id wins over a name, so a key is always reachable by its id.
      const row = (this.#sql(`${KMS_KEY} WHERE id = ?`).get(idOrName) ??
        this.#sql(`${KMS_KEY} WHERE name = ?`).get(idOrName)) as KmsKeyRow | undefined
      if (row === undefined) return undefined
      const versions = this.#sql(`${KMS_VERSION} WHERE key_id = ? ORDER BY version`).all(
        row.id,
      ) as KmsVersionRow[]
      return { ...row, versions: versions.map(toVersion) }
    })
    this.#listKmsKeys = db.transaction(() => {
      const rows = this.#sql(`${KMS_KEY} ORDER BY name`).all() as KmsKeyRow[]
      const versions = this.#sql(`${KMS_VERSION} ORDER BY key_id, version`).all() as KmsVersionRow[]
      const byKey = new Map<string, KmsKeyVersion[]>()
      for (const v of versions) {
        let list = byKey.get(v.keyId)
        if (list === undefined) byKey.set(v.keyId, (list = []))
        list.push(toVersion(v))
      }
      return rows.map((row) => ({ ...row, versions: byKey.get(row.id) ?? [] }))
    })
    this.#rotateSigningKey = db.transaction((key: SigningKeyRecord) => {
      const current = this.#sql(
        'SELECT fingerprint, valid_from AS validFrom FROM signing_keys WHERE valid_to IS NULL',
      ).get() as { fingerprint: string; validFrom: number } | undefined
      if (current !== undefined && key.validFrom < current.validFrom)
        throw new OpenCtsError('OCTS_ERR_CONFLICT', {
          message:
            `the new signing key starts at ${key.validFrom}, before the current key ` +
            `${current.fingerprint} (${current.validFrom}): another rotation came first`,
        })
      this.#sql('UPDATE signing_keys SET valid_to = ? WHERE valid_to IS NULL').run(key.validFrom)
      try {
        this.#sql(
          `INSERT INTO signing_keys
           (fingerprint, public_key_pem, sealed_private_key, valid_from, valid_to)
           VALUES (?, ?, ?, ?, NULL)`,
        ).run(key.fingerprint, key.publicKeyPem, key.sealedPrivateKey, key.validFrom)
      } catch (error) {
        if (!isUniqueViolation(error)) throw error
        throw new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
          message: `signing key ${key.fingerprint} is already stored`,
          cause: error,
        })
      }
    })
  }

  /** The prepared statement for `sql`, prepared on first use. */
  #sql(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Inserts a version row; a taken version number → OCTS_ERR_CONFLICT. Runs inside a transaction. */
  #insertVersion(keyId: string, version: KmsKeyVersion): void {
    try {
      this.#sql(
        `INSERT INTO kms_key_versions (key_id, version, sealed_material, created_at)
         VALUES (?, ?, ?, ?)`,
      ).run(keyId, version.version, version.sealedMaterial, version.createdAt)
    } catch (error) {
      if (!isUniqueViolation(error)) throw error
      throw new OpenCtsError('OCTS_ERR_CONFLICT', {
        message: `key ${keyId} already has version ${version.version}`,
        cause: error,
      })
    }
  }

  insertKmsKey(key: KmsKeyRecord): Promise<void> {
    return run('write', () => this.#insertKmsKey(key))
  }

  addKmsKeyVersion(keyId: string, version: KmsKeyVersion): Promise<void> {
    return run('write', () => this.#addKmsKeyVersion(keyId, version))
  }

  getKmsKey(idOrName: string): Promise<KmsKeyRecord | undefined> {
    return run('read', () => this.#getKmsKey(idOrName))
  }

  listKmsKeys(): Promise<KmsKeyRecord[]> {
    return run('read', () => this.#listKmsKeys())
  }

  rotateSigningKey(key: SigningKeyRecord): Promise<void> {
    return run('write', () => this.#rotateSigningKey(key))
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    // Ties on valid_from (two rotations within one ms) keep the order of rotation.
    return run(
      'read',
      () => this.#sql(`${SIGNING_KEY} ORDER BY valid_from, rowid`).all() as SigningKeyRecord[],
    )
  }
}

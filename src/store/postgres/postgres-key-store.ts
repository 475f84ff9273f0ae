/**
 * @module store/postgres/postgres-key-store
 * KeyStore on PostgreSQL: named encryption master keys with their versions (`kms_keys`,
 * `kms_key_versions`) and digest signing keys (`signing_keys`) of schema-keys.ts, with the SQLite
 * engine's behaviour. Every value here is already sealed by the caller.
 *
 * Errors: a taken key id or name → OCTS_ERR_KEY_EXISTS; a version for a key that is gone →
 * OCTS_ERR_KEY_NOT_FOUND; a version number taken, or a signing key starting before the current one
 * (both: a concurrent rotation) → OCTS_ERR_CONFLICT; a signing key fingerprint stored twice →
 * OCTS_ERR_KEY_EXISTS.
 *
 * Nodes rotating the signing key at once are serialised by a table lock held for the rotation, so
 * each sees the key the other made current; the partial unique index on the current key is the
 * backstop that makes two current keys impossible.
 */
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type { KeyStore, KmsKeyRecord, KmsKeyVersion, SigningKeyRecord } from '../store.js'
import { pgCode } from './driver-errors.js'
import type { PgDatabase, PgExecutor } from './pg-database.js'

const SIGNING_KEY = `SELECT fingerprint, public_key_pem AS "publicKeyPem",
  sealed_private_key AS "sealedPrivateKey", valid_from AS "validFrom", valid_to AS "validTo"
  FROM signing_keys`

/** A key with one of its versions (null columns for a key without versions), as the reads join them. */
interface KmsRow {
  readonly id: string
  readonly name: string
  readonly createdAt: number
  readonly version: number | null
  readonly sealedMaterial: string | null
  readonly versionCreatedAt: number | null
}

const KMS_ROWS = `SELECT k.id, k.name, k.created_at AS "createdAt", v.version,
  v.sealed_material AS "sealedMaterial", v.created_at AS "versionCreatedAt"
  FROM kms_keys k LEFT JOIN kms_key_versions v ON v.key_id = k.id`

/** Groups joined rows (ordered by key, then version) into records. */
function toRecords(rows: readonly KmsRow[]): KmsKeyRecord[] {
  const records: { id: string; name: string; createdAt: number; versions: KmsKeyVersion[] }[] = []
  for (const row of rows) {
    let record = records[records.length - 1]
    if (record?.id !== row.id) {
      record = { id: row.id, name: row.name, createdAt: row.createdAt, versions: [] }
      records.push(record)
    }
    if (row.version !== null && row.sealedMaterial !== null && row.versionCreatedAt !== null)
      record.versions.push({
        version: row.version,
        sealedMaterial: row.sealedMaterial,
        createdAt: row.versionCreatedAt,
      })
  }
  return records
}

const INSERT_VERSION = `INSERT INTO kms_key_versions (key_id, version, sealed_material, created_at)
  VALUES ($1, $2, $3, $4)`

const versionRow = (keyId: string, v: KmsKeyVersion): unknown[] => [
  keyId,
  v.version,
  v.sealedMaterial,
  v.createdAt,
]

/**
 * The catalogue error of a version insert that failed (raw, or converted by PgDatabase): the key
 * is gone (foreign key) → OCTS_ERR_KEY_NOT_FOUND; the version is taken → OCTS_ERR_CONFLICT.
 */
function versionClash(error: unknown, keyId: string, version: KmsKeyVersion): unknown {
  const cause = isOpenCtsError(error) && error.cause !== undefined ? error.cause : error
  const code = pgCode(cause)
  if (code === '23503')
    return new OpenCtsError('OCTS_ERR_KEY_NOT_FOUND', {
      message: `key ${keyId} does not exist`,
      cause,
    })
  if (code === '23505')
    return new OpenCtsError('OCTS_ERR_CONFLICT', {
      message: `key ${keyId} already has version ${version.version}`,
      cause,
    })
  return error
}

export class PgKeyStore implements KeyStore {
  readonly #db: PgDatabase

  constructor(db: PgDatabase) {
    this.#db = db
  }

  /** Inserts a version row in a transaction (see versionClash). */
  async #insertVersion(tx: PgExecutor, keyId: string, version: KmsKeyVersion): Promise<void> {
    try {
      await tx.query(INSERT_VERSION, versionRow(keyId, version))
    } catch (error) {
      throw versionClash(error, keyId, version)
    }
  }

  insertKmsKey(key: KmsKeyRecord): Promise<void> {
    return this.#db.transaction(async (tx) => {
      try {
        await tx.query('INSERT INTO kms_keys (id, name, created_at) VALUES ($1, $2, $3)', [
          key.id,
          key.name,
          key.createdAt,
        ])
      } catch (error) {
        if (pgCode(error) !== '23505') throw error
        throw new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
          message: `a key with id ${key.id} or name ${key.name} already exists`,
          cause: error,
        })
      }
      for (const version of key.versions) await this.#insertVersion(tx, key.id, version)
    })
  }

  async addKmsKeyVersion(keyId: string, version: KmsKeyVersion): Promise<void> {
    // One statement: the foreign key tells a missing key, the primary key a taken version.
    try {
      await this.#db.query('write', INSERT_VERSION, versionRow(keyId, version))
    } catch (error) {
      throw versionClash(error, keyId, version)
    }
  }

  async getKmsKey(idOrName: string): Promise<KmsKeyRecord | undefined> {
    // One statement, one snapshot. An id wins over a name, so a key is always reachable by its id.
    const rows = await this.#db.query<KmsRow>(
      'read',
      `${KMS_ROWS} WHERE k.id = (
         SELECT id FROM kms_keys WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC LIMIT 1
       ) ORDER BY v.version`,
      [idOrName],
    )
    return toRecords(rows)[0]
  }

  async listKmsKeys(): Promise<KmsKeyRecord[]> {
    return toRecords(await this.#db.query<KmsRow>('read', `${KMS_ROWS} ORDER BY k.name, v.version`))
  }

  rotateSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.#db.transaction(async (tx) => {
      // Rotations wait for one another (reads do not); each then sees the latest current key.
      await tx.query('LOCK TABLE signing_keys IN EXCLUSIVE MODE')
      const { rows } = await tx.query<{ fingerprint: string; validFrom: number }>(
        'SELECT fingerprint, valid_from AS "validFrom" FROM signing_keys WHERE valid_to IS NULL',
      )
      const current = rows[0]
      if (current !== undefined && key.validFrom < current.validFrom)
        throw new OpenCtsError('OCTS_ERR_CONFLICT', {
          message:
            `the new signing key starts at ${key.validFrom}, before the current key ` +
            `${current.fingerprint} (${current.validFrom}): another rotation came first`,
        })
      await tx.query('UPDATE signing_keys SET valid_to = $1 WHERE valid_to IS NULL', [
        key.validFrom,
      ])
      try {
        await tx.query(
          `INSERT INTO signing_keys
           (fingerprint, public_key_pem, sealed_private_key, valid_from, valid_to)
           VALUES ($1, $2, $3, $4, NULL)`,
          [key.fingerprint, key.publicKeyPem, key.sealedPrivateKey, key.validFrom],
        )
      } catch (error) {
        if (pgCode(error) !== '23505') throw error
        const constraint = (error as { constraint?: unknown }).constraint
        throw constraint === 'signing_keys_one_current'
          ? new OpenCtsError('OCTS_ERR_CONFLICT', {
              message: 'another node made a signing key current at the same time',
              cause: error,
            })
          : new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
              message: `signing key ${key.fingerprint} is already stored`,
              cause: error,
            })
      }
    })
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    // Ties on valid_from (two rotations within one ms) keep the order of rotation.
    return this.#db.query<SigningKeyRecord>('read', `${SIGNING_KEY} ORDER BY valid_from, rotation`)
  }
}

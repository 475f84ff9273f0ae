/**
 * @module store/ports/keys
 * The key port: KMS-style master keys of trace files and digest signing keys.
 */

/**
 * A named encryption master key (the tracker's `kms_id`). Each version's 32-byte key material is
 * sealed with the server master key (`master.key`, kept outside the store); old versions stay so
 * that files encrypted under them can still be opened.
 */
export interface KmsKeyRecord {
  /** The `kms_id` trackers name: a UUID. */
  readonly id: string
  /** Unique alias. */
  readonly name: string
  readonly createdAt: number
  /** Ascending by version, starting at 1; the last one encrypts new files. */
  readonly versions: readonly KmsKeyVersion[]
}

export interface KmsKeyVersion {
  readonly version: number
  readonly sealedMaterial: string
  readonly createdAt: number
}

/** An RSA key pair signing digest files (SHA256withRSA). */
export interface SigningKeyRecord {
  /** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. */
  readonly fingerprint: string
  /** PEM SubjectPublicKeyInfo. */
  readonly publicKeyPem: string
  /** PKCS#8 DER private key, sealed with the server master key. */
  readonly sealedPrivateKey: string
  /** Start of the validity window (ms). */
  readonly validFrom: number
  /** End of the validity window (ms), or null while the key is the current one. */
  readonly validTo: number | null
}

/** Key material: KMS-style master keys for trace file encryption and digest signing keys. */
export interface KeyStore {
  /** Stores a new key with its versions. Throws OCTS_ERR_KEY_EXISTS if the id or name is taken. */
  insertKmsKey(key: KmsKeyRecord): Promise<void>
  /**
   * Appends a version. Throws OCTS_ERR_KEY_NOT_FOUND if the key is gone, OCTS_ERR_CONFLICT if the
   * version exists (a concurrent rotation).
   */
  addKmsKeyVersion(keyId: string, version: KmsKeyVersion): Promise<void>
  /** The key by id or by name, or undefined. */
  getKmsKey(idOrName: string): Promise<KmsKeyRecord | undefined>
  /** Sorted by name. */
  listKmsKeys(): Promise<KmsKeyRecord[]>
  /**
   * In one transaction: ends the current signing key's window at `key.validFrom` (when there is
   * one) and stores `key` as the current key (`validTo` null).
   */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>
  /** Every signing key, oldest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>
}

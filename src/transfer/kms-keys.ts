/**
 * @module transfer/kms-keys
 * The named encryption master keys that trace files are envelope-encrypted under (a tracker's
 * `kms_id` is a key's id): creating, rotating, listing, exporting them, and handing the transfer
 * writer and readers the clear material of a version (`MasterKeyVersion`, see envelope.ts).
 *
 * Each version is 32 random bytes, sealed with the server master key before it is stored and bound
 * to `kms:{id}:{version}`, so a sealed value moved to another key's row does not open. Unsealed
 * versions are cached in memory (a version never changes once stored); the current version is read
 * from the store on each call, so a rotation by `opencts keys` in another process is seen at once.
 *
 * Errors: OCTS_ERR_KEY_INVALID (a bad name, a bad key file), OCTS_ERR_KEY_EXISTS (name taken),
 * OCTS_ERR_KEY_NOT_FOUND (no such key or version), OCTS_ERR_CONFLICT (a concurrent rotation).
 *
 * Key file (what `export` makes and `parseKeyFile` reads; UTF-8 JSON):
 *   {"kms_keys":[{"id":"<uuid>","name":"<name>",
 *     "versions":[{"version":1,"material":"<base64 of 32 bytes>","created_at":<ms>}, ...]}, ...]}
 * It holds key material in clear: whoever has it can decrypt the files of those keys.
 */
import { randomBytes } from 'node:crypto'
import { OpenCtsError } from '../errors/index.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { KeyStore, KmsKeyRecord } from '../store/index.js'
import type { Sealer } from '../platform/sealer.js'
import type { MasterKeyVersion } from './envelope.js'

export type { Sealer } from '../platform/sealer.js'

/** What `list` tells of a key: never its material. */
export interface KmsKeyView {
  /** The `kms_id` trackers name. */
  readonly id: string
  readonly name: string
  readonly created_at: number
  /** The version new files are encrypted under. */
  readonly current_version: number
  readonly version_count: number
}

export interface KeyFileVersion {
  readonly version: number
  /** Base64 of the 32 bytes. */
  readonly material: string
  readonly created_at: number
}

export interface KeyFileEntry {
  readonly id: string
  readonly name: string
  readonly versions: readonly KeyFileVersion[]
}

/** The key file of `export` (see the module comment). */
export interface KeyFile {
  readonly kms_keys: readonly KeyFileEntry[]
}

export interface KmsKeysDeps {
  readonly keys: KeyStore
  readonly sealer: Sealer
  readonly clock: Clock
  readonly ids: IdSource
  /** Random bytes for key material (default `crypto.randomBytes`). */
  readonly random?: (size: number) => Buffer
}

const MATERIAL_BYTES = 32
const NAME_PATTERN = /^[A-Za-z0-9_/-]{1,64}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const boundTo = (kmsId: string, version: number): string => `kms:${kmsId}:${version}`

function invalid(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_KEY_INVALID', { message })
}

function notFound(message: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_KEY_NOT_FOUND', { message })
}

/**
 * Checks a key name: 1-64 letters, digits, `-`, `_` or `/`, and not shaped like a UUID (a name
 * must never be mistaken for another key's id). Throws OCTS_ERR_KEY_INVALID.
 */
export function checkKeyName(name: string): void {
  if (!NAME_PATTERN.test(name))
    throw invalid(
      `a key name is 1-64 letters, digits, -, _ or /, got ${JSON.stringify(name.slice(0, 80))}`,
    )
  if (UUID.test(name)) throw invalid(`a key name must not look like a key id, got ${name}`)
}

function view(key: KmsKeyRecord): KmsKeyView {
  return {
    id: key.id,
    name: key.name,
    created_at: key.createdAt,
    current_version: key.versions.at(-1)?.version ?? 0,
    version_count: key.versions.length,
  }
}

export class KmsKeys {
  readonly #keys: KeyStore
  readonly #sealer: Sealer
  readonly #clock: Clock
  readonly #ids: IdSource
  readonly #random: (size: number) => Buffer
  /** Unsealed versions by `kms:{id}:{version}`. */
  readonly #cache = new Map<string, MasterKeyVersion>()

  constructor(deps: KmsKeysDeps) {
    this.#keys = deps.keys
    this.#sealer = deps.sealer
    this.#clock = deps.clock
    this.#ids = deps.ids
    this.#random = deps.random ?? randomBytes
  }

  /**
   * Creates a key with version 1. Throws OCTS_ERR_KEY_INVALID for a bad name (see checkKeyName),
   * OCTS_ERR_KEY_EXISTS when the name is taken.
   */
  async create(name: string): Promise<KmsKeyView> {
    checkKeyName(name)
    const id = this.#ids.uuid()
    const now = this.#clock.now()
    const material = this.#random(MATERIAL_BYTES)
    const key: KmsKeyRecord = {
      id,
      name,
      createdAt: now,
      versions: [{ version: 1, sealedMaterial: this.#seal(id, 1, material), createdAt: now }],
    }
    await this.#keys.insertKmsKey(key)
    this.#cache.set(boundTo(id, 1), { kmsId: id, version: 1, material })
    return view(key)
  }

  /** Every key, sorted by name. */
  async list(): Promise<KmsKeyView[]> {
    return (await this.#keys.listKmsKeys()).map(view)
  }

  /**
   * Adds version n+1, which encrypts new files from now on; older versions still decrypt.
   * Throws OCTS_ERR_KEY_NOT_FOUND, or OCTS_ERR_CONFLICT when another rotation took the version.
   */
  async rotate(idOrName: string): Promise<KmsKeyView> {
    const key = await this.#find(idOrName)
    const version = (key.versions.at(-1)?.version ?? 0) + 1
    const material = this.#random(MATERIAL_BYTES)
    const added = {
      version,
      sealedMaterial: this.#seal(key.id, version, material),
      createdAt: this.#clock.now(),
    }
    await this.#keys.addKmsKeyVersion(key.id, added)
    this.#cache.set(boundTo(key.id, version), { kmsId: key.id, version, material })
    return view({ ...key, versions: [...key.versions, added] })
  }

  /** Whether a key has this id (trackers name keys by id only, never by name). */
  async exists(kmsId: string): Promise<boolean> {
    return (await this.#keys.getKmsKey(kmsId))?.id === kmsId
  }

  /** The version that encrypts new files under key `kmsId`. Throws OCTS_ERR_KEY_NOT_FOUND. */
  async current(kmsId: string): Promise<MasterKeyVersion> {
    const key = await this.#byId(kmsId)
    const last = key.versions.at(-1)
    if (last === undefined) throw notFound(`key ${kmsId} has no version`)
    return this.#unsealed(key, last.version)
  }

  /** One version of key `kmsId` (to decrypt older files). Throws OCTS_ERR_KEY_NOT_FOUND. */
  async version(kmsId: string, version: number): Promise<MasterKeyVersion> {
    const cached = this.#cache.get(boundTo(kmsId, version))
    if (cached !== undefined) return cached
    return this.#unsealed(await this.#byId(kmsId), version)
  }

  /**
   * The key file of one key with every version in clear (see the module comment), for offline
   * decryption with `opencts verify --keys FILE`. Throws OCTS_ERR_KEY_NOT_FOUND.
   */
  async export(idOrName: string): Promise<KeyFile> {
    const key = await this.#find(idOrName)
    const versions = key.versions.map((v) => ({
      version: v.version,
      material: this.#unsealed(key, v.version).material.toString('base64'),
      created_at: v.createdAt,
    }))
    return { kms_keys: [{ id: key.id, name: key.name, versions }] }
  }

  async #find(idOrName: string): Promise<KmsKeyRecord> {
    const key = await this.#keys.getKmsKey(idOrName)
    if (key === undefined) throw notFound(`no key has the id or name ${JSON.stringify(idOrName)}`)
    return key
  }

  async #byId(kmsId: string): Promise<KmsKeyRecord> {
    const key = await this.#keys.getKmsKey(kmsId)
    if (key?.id !== kmsId) throw notFound(`no key has the id ${JSON.stringify(kmsId)}`)
    return key
  }

  #seal(kmsId: string, version: number, material: Buffer): string {
    return this.#sealer.seal(material.toString('base64'), boundTo(kmsId, version))
  }

  /** The clear version `version` of `key`, from the cache or unsealed. */
  #unsealed(key: KmsKeyRecord, version: number): MasterKeyVersion {
    const bound = boundTo(key.id, version)
    const cached = this.#cache.get(bound)
    if (cached !== undefined) return cached
    const stored = key.versions.find((v) => v.version === version)
    if (stored === undefined) throw notFound(`key ${key.id} has no version ${version}`)
    const material = Buffer.from(this.#sealer.open(stored.sealedMaterial, bound), 'base64')
    const unsealed = { kmsId: key.id, version, material }
    this.#cache.set(bound, unsealed)
    return unsealed
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseVersion(value: unknown, where: string, kmsId: string): MasterKeyVersion {
  if (!isRecord(value)) throw invalid(`${where} is not an object`)
  const { version, material, created_at: createdAt } = value
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    throw invalid(`${where}.version must be a positive integer, got ${JSON.stringify(version)}`)
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt))
    throw invalid(`${where}.created_at must be epoch milliseconds`)
  if (typeof material !== 'string' || !BASE64.test(material))
    throw invalid(`${where}.material must be base64`)
  const bytes = Buffer.from(material, 'base64')
  if (bytes.length !== MATERIAL_BYTES)
    throw invalid(`${where}.material is ${bytes.length} bytes, want ${MATERIAL_BYTES}`)
  return { kmsId, version, material: bytes }
}

/**
 * Reads a key file (see the module comment; several keys allowed) into every key version it holds.
 * Pure. Throws OCTS_ERR_KEY_INVALID naming the first problem: not JSON, a missing or mistyped
 * field, material that is not 32 bytes of base64, a key or version given twice.
 */
export function parseKeyFile(text: string): MasterKeyVersion[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalid('the key file is not JSON')
  }
  if (!isRecord(value) || !Array.isArray(value.kms_keys) || value.kms_keys.length === 0)
    throw invalid('the key file must be an object with a non-empty kms_keys array')
  const out: MasterKeyVersion[] = []
  const seen = new Set<string>()
  for (const [i, entry] of (value.kms_keys as unknown[]).entries()) {
    const where = `kms_keys[${i}]`
    if (!isRecord(entry)) throw invalid(`${where} is not an object`)
    const { id, name, versions } = entry
    if (typeof id !== 'string' || id === '') throw invalid(`${where}.id must be a key id`)
    if (typeof name !== 'string') throw invalid(`${where}.name must be a string`)
    if (seen.has(id)) throw invalid(`${where}: key ${id} is given twice`)
    seen.add(id)
    if (!Array.isArray(versions) || versions.length === 0)
      throw invalid(`${where}.versions must be a non-empty array`)
    const numbers = new Set<number>()
    for (const [j, v] of (versions as unknown[]).entries()) {
      const parsed = parseVersion(v, `${where}.versions[${j}]`, id)
      if (numbers.has(parsed.version))
        throw invalid(`${where}: version ${parsed.version} is given twice`)
      numbers.add(parsed.version)
      out.push(parsed)
    }
  }
  return out
}

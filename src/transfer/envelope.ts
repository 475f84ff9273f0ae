/**
 * @module transfer/envelope
 * Envelope encryption of trace files (`is_support_trace_files_encryption` + `kms_id`): each file gets
 * a fresh 256-bit data key; the data key is wrapped by a version of the named master key (the
 * tracker's `kms_id`, managed with `opencts keys`). Without the master key the file is unreadable;
 * any change to any byte makes opening fail.
 *
 * Format, version 1 (all of it is the stored object; its SHA-256 is what digests list):
 *   bytes 0..7          magic and version: ASCII `OCTSENC1`
 *   bytes 8..11         N, the header length, uint32 big-endian, 1 <= N <= 4096
 *   bytes 12..12+N      header, UTF-8 JSON with exactly these keys in this order:
 *                       {"alg":"AES-256-GCM","kms_id":…,"key_version":…,"wrap_iv":b64,
 *                        "wrapped_key":b64,"iv":b64}
 *                       wrapped_key = AES-256-GCM(master key version, wrap_iv,
 *                         aad = "opencts-data-key:{kms_id}:{key_version}") of the data key,
 *                         ciphertext (32 bytes) followed by the tag (16 bytes)
 *   bytes 12+N..L-16    ciphertext = AES-256-GCM(data key, iv, aad = bytes 0..12+N) of the file
 *                       as it would be stored unencrypted (`.json.gz` or `.json` bytes)
 *   bytes L-16..L       the GCM tag
 * IVs are 12 random bytes. The file keeps its CTS name (`.json.gz` / `.json`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { OpenCtsError } from '../errors/index.js'

const MAGIC = Buffer.from('OCTSENC1', 'ascii')
const MAX_HEADER = 4096
const TAG_BYTES = 16
const ALG = 'AES-256-GCM'

/** One version of a master key: the key encryption key of data keys. */
export interface MasterKeyVersion {
  readonly kmsId: string
  readonly version: number
  /** 32 bytes. */
  readonly material: Buffer
}

export interface EnvelopeHeader {
  readonly kmsId: string
  readonly keyVersion: number
}

interface HeaderJson {
  alg: string
  kms_id: string
  key_version: number
  wrap_iv: string
  wrapped_key: string
  iv: string
}

function wrapAad(kmsId: string, version: number): Buffer {
  return Buffer.from(`opencts-data-key:${kmsId}:${version}`, 'utf8')
}

function gcmSeal(key: Buffer, iv: Buffer, aad: Buffer, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad)
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

function gcmOpen(key: Buffer, iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv)
  decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
  return Buffer.concat([
    decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
    decipher.final(),
  ])
}

function failed(message: string, cause?: unknown): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_DECRYPT_FAILED', {
    message,
    ...(cause === undefined ? {} : { cause }),
  })
}

/** Whether the bytes start like an envelope (they may still be damaged). */
export function isEnvelope(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && Buffer.from(bytes.subarray(0, MAGIC.length)).equals(MAGIC)
}

/** Encrypts `plaintext` under a fresh data key wrapped by `master`. */
export function sealEnvelope(
  plaintext: Uint8Array,
  master: MasterKeyVersion,
  random: (size: number) => Buffer = randomBytes,
): Buffer {
  if (master.material.length !== 32) throw new RangeError('master key material must be 32 bytes')
  const dataKey = random(32)
  const wrapIv = random(12)
  const iv = random(12)
  const header: HeaderJson = {
    alg: ALG,
    kms_id: master.kmsId,
    key_version: master.version,
    wrap_iv: wrapIv.toString('base64'),
    wrapped_key: gcmSeal(
      master.material,
      wrapIv,
      wrapAad(master.kmsId, master.version),
      dataKey,
    ).toString('base64'),
    iv: iv.toString('base64'),
  }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32BE(headerBytes.length)
  const aad = Buffer.concat([MAGIC, length, headerBytes])
  return Buffer.concat([aad, gcmSeal(dataKey, iv, aad, plaintext)])
}

interface Parsed {
  readonly header: HeaderJson
  readonly aad: Buffer
  readonly sealed: Buffer
}

function parse(bytes: Uint8Array): Parsed {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (!isEnvelope(buf)) throw failed('not an OpenCTS envelope (no OCTSENC1 magic)')
  if (buf.length < 12) throw failed('envelope truncated in its header length')
  const n = buf.readUInt32BE(8)
  if (n < 1 || n > MAX_HEADER) throw failed(`envelope header length ${n}, want 1..${MAX_HEADER}`)
  if (buf.length < 12 + n + TAG_BYTES) throw failed('envelope truncated')
  let header: unknown
  try {
    header = JSON.parse(buf.subarray(12, 12 + n).toString('utf8'))
  } catch (error) {
    throw failed('envelope header is not JSON', error)
  }
  const h = header as Partial<HeaderJson> | null
  if (
    h === null ||
    typeof h !== 'object' ||
    h.alg !== ALG ||
    typeof h.kms_id !== 'string' ||
    typeof h.key_version !== 'number' ||
    typeof h.wrap_iv !== 'string' ||
    typeof h.wrapped_key !== 'string' ||
    typeof h.iv !== 'string'
  )
    throw failed(
      'envelope header lacks alg AES-256-GCM, kms_id, key_version, wrap_iv, wrapped_key or iv',
    )
  return { header: h as HeaderJson, aad: buf.subarray(0, 12 + n), sealed: buf.subarray(12 + n) }
}

/** The master key an envelope needs. Throws OCTS_ERR_DECRYPT_FAILED if it is not an envelope. */
export function readEnvelopeHeader(bytes: Uint8Array): EnvelopeHeader {
  const { header } = parse(bytes)
  return { kmsId: header.kms_id, keyVersion: header.key_version }
}

/**
 * Decrypts an envelope with the master key version it names. Throws OCTS_ERR_DECRYPT_FAILED when
 * the key does not match or any byte was changed.
 */
export function openEnvelope(bytes: Uint8Array, master: MasterKeyVersion): Buffer {
  const { header, aad, sealed } = parse(bytes)
  if (header.kms_id !== master.kmsId || header.key_version !== master.version)
    throw failed(
      `envelope needs key ${header.kms_id} version ${header.key_version}, got ${master.kmsId} version ${master.version}`,
    )
  let dataKey: Buffer
  try {
    dataKey = gcmOpen(
      master.material,
      Buffer.from(header.wrap_iv, 'base64'),
      wrapAad(header.kms_id, header.key_version),
      Buffer.from(header.wrapped_key, 'base64'),
    )
  } catch (error) {
    throw failed('the data key does not open with this master key', error)
  }
  try {
    return gcmOpen(dataKey, Buffer.from(header.iv, 'base64'), aad, sealed)
  } catch (error) {
    throw failed('the file was altered (authentication tag mismatch)', error)
  }
}

/**
 * @module integrity/checkpoint
 * Signed checkpoints of the trace log, in the C2SP `tlog-checkpoint` / `signed-note` format, with
 * Ed25519 signatures. Pure: `node:crypto` only.
 *
 * Format, byte for byte (UTF-8, every line ends in "\n"):
 *   opencts/<project_id>\n                  origin; the `opencts/` prefix names this format
 *   <tree size, decimal, no leading zeros>\n
 *   <base64 (standard, padded) of the 32-byte root hash>\n
 *   time <epoch milliseconds, decimal>\n   the one extension line, required
 *   \n                                      blank line ends the body
 *   — <key name> <base64(key id || signature)>\n     one or more signature lines (U+2014, space)
 * The signature is Ed25519 over the body: every byte before the blank line. The key id is the
 * first 4 bytes of SHA-256(key name || "\n" || 0x01 || 32-byte raw Ed25519 public key), the C2SP
 * note key id of an Ed25519 key. A project's checkpoints carry its origin, so a checkpoint of
 * another project never verifies against an expected origin. Decoders reject anything else: other
 * origins, extra body lines, bad numbers or base64, text after the last signature line.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { HASH_SIZE } from './merkle.js'

/** Origin prefix that marks the OpenCTS checkpoint format (version 1). */
export const CHECKPOINT_ORIGIN_PREFIX = 'opencts/'
const SIGNATURE_PREFIX = '\u2014 '
const ED25519_ALGORITHM = 0x01

/** A signed tree head: `size` leaves with root `root`, signed at `time` (epoch ms). */
export interface Checkpoint {
  origin: string
  size: number
  root: Buffer
  time: number
}

/** One signature line of a note. */
export interface NoteSignature {
  keyName: string
  /** First 4 bytes of the signature blob: the signer's key id. */
  keyId: Buffer
  /** The rest of the blob (64 bytes for a well-formed Ed25519 signature). */
  signature: Buffer
}

export const CHECKPOINT_ERROR_CODES = [
  'bad-format',
  'unknown-format',
  'trailing-data',
  'origin-mismatch',
  'unknown-key',
  'bad-signature',
] as const
export type CheckpointErrorCode = (typeof CHECKPOINT_ERROR_CODES)[number]

/**
 * A checkpoint was rejected. `code`: `bad-format` (malformed line, number or base64),
 * `unknown-format` (origin without the `opencts/` prefix), `trailing-data` (bytes after the last
 * signature line or extra body lines), `origin-mismatch` (`expected`/`computed` hold both origins),
 * `unknown-key` (no signature by the expected key name and key id), `bad-signature` (a signature
 * line of the key does not verify).
 */
export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode
  readonly expected?: string
  readonly computed?: string

  constructor(
    code: CheckpointErrorCode,
    message: string,
    values: { expected?: string; computed?: string } = {},
  ) {
    super(message)
    this.name = 'CheckpointError'
    this.code = code
    if (values.expected !== undefined) this.expected = values.expected
    if (values.computed !== undefined) this.computed = values.computed
  }
}

/** The origin line of a project's checkpoints: `opencts/<project_id>`. */
export function checkpointOrigin(projectId: string): string {
  if (projectId === '' || /[\s]/.test(projectId))
    throw new RangeError(`project id ${JSON.stringify(projectId)} cannot be an origin`)
  return `${CHECKPOINT_ORIGIN_PREFIX}${projectId}`
}

function rawEd25519(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new RangeError(`key type ${publicKey.asymmetricKeyType}, want ed25519`)
  const x = publicKey.export({ format: 'jwk' }).x
  if (x === undefined) throw new RangeError('ed25519 key without public bytes')
  return Buffer.from(x, 'base64url')
}

function checkKeyName(keyName: string): void {
  if (keyName === '' || /[\s+]/.test(keyName))
    throw new RangeError(`key name ${JSON.stringify(keyName)} is empty or has a space or "+"`)
}

/** C2SP note key id: SHA-256(keyName || "\n" || 0x01 || raw public key)[0:4]. */
export function publicKeyId(keyName: string, publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(`${keyName}\n`, 'utf8')
    .update(Buffer.of(ED25519_ALGORITHM))
    .update(rawEd25519(publicKey))
    .digest()
    .subarray(0, 4)
}

/** The signed body: origin, size, root, time lines, each ending in "\n". */
export function formatCheckpointBody(cp: Checkpoint): string {
  if (!cp.origin.startsWith(CHECKPOINT_ORIGIN_PREFIX) || /[\s]/.test(cp.origin))
    throw new RangeError(`origin ${JSON.stringify(cp.origin)} is not opencts/<project_id>`)
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new RangeError(`bad size ${cp.size}`)
  if (!Number.isSafeInteger(cp.time) || cp.time < 0) throw new RangeError(`bad time ${cp.time}`)
  if (cp.root.length !== HASH_SIZE)
    throw new RangeError(`root has ${cp.root.length} bytes, want 32`)
  return `${cp.origin}\n${cp.size}\n${cp.root.toString('base64')}\ntime ${cp.time}\n`
}

/** The full note text of `cp` signed by Ed25519 `privateKey` under `keyName`. */
export function signCheckpoint(cp: Checkpoint, keyName: string, privateKey: KeyObject): string {
  checkKeyName(keyName)
  const body = formatCheckpointBody(cp)
  const id = publicKeyId(keyName, createPublicKey(privateKey))
  const signature = sign(null, Buffer.from(body, 'utf8'), privateKey)
  return `${body}\n${SIGNATURE_PREFIX}${keyName} ${Buffer.concat([id, signature]).toString('base64')}\n`
}

function fail(code: CheckpointErrorCode, message: string): never {
  throw new CheckpointError(code, message)
}

function decimal(what: string, text: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(text))
    fail('bad-format', `${what} ${JSON.stringify(text)} is not a decimal`)
  const n = Number(text)
  if (!Number.isSafeInteger(n)) fail('bad-format', `${what} ${text} is too large`)
  return n
}

function base64(what: string, text: string): Buffer {
  const bytes = Buffer.from(text, 'base64')
  if (text === '' || bytes.toString('base64') !== text)
    fail('bad-format', `${what} ${JSON.stringify(text)} is not canonical base64`)
  return bytes
}

function parseBody(body: string): Checkpoint {
  const lines = body.split('\n')
  lines.pop() // the body ends in "\n"
  const [origin, sizeText, rootText, timeLine, ...extra] = lines
  if (
    origin === undefined ||
    sizeText === undefined ||
    rootText === undefined ||
    timeLine === undefined
  )
    fail('bad-format', `checkpoint body has ${lines.length} lines, want 4`)
  if (
    !origin.startsWith(CHECKPOINT_ORIGIN_PREFIX) ||
    origin.length === CHECKPOINT_ORIGIN_PREFIX.length
  )
    fail('unknown-format', `origin ${JSON.stringify(origin)} is not opencts/<project_id>`)
  if (extra.length > 0) fail('trailing-data', `checkpoint body has ${lines.length} lines, want 4`)
  const root = base64('root', rootText)
  if (root.length !== HASH_SIZE)
    fail('bad-format', `root has ${root.length} bytes, want ${HASH_SIZE}`)
  if (!timeLine.startsWith('time '))
    fail('bad-format', `line 4 is ${JSON.stringify(timeLine)}, want "time <ms>"`)
  return { origin, size: decimal('size', sizeText), root, time: decimal('time', timeLine.slice(5)) }
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX))
    fail('trailing-data', `unexpected line ${JSON.stringify(line)}`)
  const parts = line.slice(SIGNATURE_PREFIX.length).split(' ')
  const [keyName, blobText] = parts
  if (parts.length !== 2 || keyName === undefined || blobText === undefined || keyName === '')
    fail('bad-format', `signature line ${JSON.stringify(line)} is not "— <name> <base64>"`)
  const blob = base64('signature', blobText)
  if (blob.length < 5) fail('bad-format', `signature has ${blob.length} bytes, want at least 5`)
  return { keyName, keyId: blob.subarray(0, 4), signature: blob.subarray(4) }
}

/**
 * Parses a signed checkpoint note without checking signatures. Throws CheckpointError
 * (`bad-format`, `unknown-format`, `trailing-data`) for anything but the documented format.
 */
export function parseCheckpoint(text: string): {
  checkpoint: Checkpoint
  signatures: NoteSignature[]
} {
  const split = text.indexOf('\n\n')
  if (split < 0) fail('bad-format', 'checkpoint has no blank line before its signatures')
  const checkpoint = parseBody(text.slice(0, split + 1))
  const rest = text.slice(split + 2)
  if (!rest.endsWith('\n')) fail('trailing-data', 'checkpoint does not end in a newline')
  const lines = rest.slice(0, -1).split('\n')
  return { checkpoint, signatures: lines.map(parseSignatureLine) }
}

/**
 * Parses `text`, checks the Ed25519 signature of `keyName`/`publicKey` and, if given, the origin;
 * returns the checkpoint. Throws CheckpointError: the parse codes, `origin-mismatch`,
 * `unknown-key` (no line with this key name and key id), `bad-signature`.
 */
export function verifyCheckpoint(
  text: string,
  keyName: string,
  publicKey: KeyObject,
  expectedOrigin?: string,
): Checkpoint {
  const { checkpoint, signatures } = parseCheckpoint(text)
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin)
    throw new CheckpointError(
      'origin-mismatch',
      `origin is ${JSON.stringify(checkpoint.origin)}, want ${JSON.stringify(expectedOrigin)}`,
      { expected: expectedOrigin, computed: checkpoint.origin },
    )
  const id = publicKeyId(keyName, publicKey)
  const mine = signatures.filter((s) => s.keyName === keyName && s.keyId.equals(id))
  if (mine.length === 0)
    fail('unknown-key', `no signature by key ${keyName} (id ${id.toString('hex')})`)
  const body = Buffer.from(text.slice(0, text.indexOf('\n\n') + 1), 'utf8')
  for (const s of mine) {
    if (s.signature.length !== 64)
      fail('bad-signature', `signature of ${keyName} has ${s.signature.length} bytes, want 64`)
    if (!verify(null, body, publicKey, s.signature))
      fail('bad-signature', `signature of ${keyName} does not verify`)
  }
  return checkpoint
}

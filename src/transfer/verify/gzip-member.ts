/**
 * @module transfer/verify/gzip-member
 * Finds where the FIRST gzip member (RFC 1952) of a stored file ends, so that data appended after
 * it (a second member, or any bytes) is a finding instead of passing unnoticed, as it did with
 * CloudTrail's validator until 2026 (spec/peers.md §1.7). `gunzip` tools and `zlib.gunzipSync`
 * read every member and would return the attacker's traces too.
 *
 * Member layout: ID1 0x1f, ID2 0x8b, CM 8 (deflate), FLG, MTIME (4), XFL, OS; then, by FLG bits,
 * FEXTRA (2-byte little-endian length + data), FNAME and FCOMMENT (zero-terminated), FHCRC (2
 * bytes); then the raw deflate stream; then CRC32 and ISIZE (4 bytes each, little-endian).
 * Reserved FLG bits 5-7 must be zero. The deflate stream's length comes from zlib itself
 * (`inflateRawSync(…, { info: true })` → `engine.bytesWritten`); the member is then checked whole,
 * CRC and size included, by `gunzipSync` on exactly its bytes.
 */
import { gunzipSync, inflateRawSync } from 'node:zlib'

const FHCRC = 0x02
const FEXTRA = 0x04
const FNAME = 0x08
const FCOMMENT = 0x10
const RESERVED = 0xe0
const FIXED_HEADER = 10
const TRAILER = 8

/** The first member: its decompressed content, where it ends, and how many bytes follow it. */
export interface GzipMember {
  readonly ok: true
  readonly content: Buffer
  /** Offset just after the member's 8-byte trailer. */
  readonly end: number
  /** Bytes after the member (0 for a well-formed single-member file). */
  readonly extraBytes: number
}

/** Why the bytes do not start with a valid gzip member. */
export interface GzipProblem {
  readonly ok: false
  readonly problem: string
}

/** Offset just after the zero-terminated field starting at `at`, or undefined if unterminated. */
function afterZeroTerminated(bytes: Buffer, at: number): number | undefined {
  const zero = bytes.indexOf(0, at)
  return zero === -1 ? undefined : zero + 1
}

/** Offset of the deflate stream after the member header, or a problem. */
function headerEnd(bytes: Buffer): number | string {
  if (bytes.length < FIXED_HEADER) return bytes.length === 0 ? 'empty file' : 'not gzip (too short)'
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return 'not gzip (no 1f 8b magic)'
  if (bytes[2] !== 8) return `not gzip (compression method ${bytes[2]}, want 8)`
  const flags = bytes[3] ?? 0
  if ((flags & RESERVED) !== 0) return 'not gzip (reserved header flags set)'
  let at = FIXED_HEADER
  if ((flags & FEXTRA) !== 0) {
    if (at + 2 > bytes.length) return 'truncated gzip header (FEXTRA)'
    at += 2 + bytes.readUInt16LE(at)
    if (at > bytes.length) return 'truncated gzip header (FEXTRA)'
  }
  for (const [flag, name] of [
    [FNAME, 'FNAME'],
    [FCOMMENT, 'FCOMMENT'],
  ] as const) {
    if ((flags & flag) === 0) continue
    const next = afterZeroTerminated(bytes, at)
    if (next === undefined) return `truncated gzip header (${name})`
    at = next
  }
  if ((flags & FHCRC) !== 0) {
    at += 2
    if (at > bytes.length) return 'truncated gzip header (FHCRC)'
  }
  return at
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * Reads the first gzip member of `bytes`. Never throws: a non-gzip, truncated or corrupt member
 * (bad deflate data, CRC or size mismatch) is a `GzipProblem`.
 */
export function readGzipMember(bytes: Buffer): GzipMember | GzipProblem {
  const start = headerEnd(bytes)
  if (typeof start === 'string') return { ok: false, problem: start }
  let consumed: number
  try {
    const result = inflateRawSync(bytes.subarray(start), { info: true }) as unknown as {
      engine: { bytesWritten: number }
    }
    consumed = result.engine.bytesWritten
  } catch (error) {
    return { ok: false, problem: `corrupt gzip data (${message(error)})` }
  }
  const end = start + consumed + TRAILER
  if (end > bytes.length) return { ok: false, problem: 'truncated gzip member (no trailer)' }
  let content: Buffer
  try {
    content = gunzipSync(bytes.subarray(0, end))
  } catch (error) {
    return { ok: false, problem: `corrupt gzip member (${message(error)})` }
  }
  return { ok: true, content, end, extraBytes: bytes.length - end }
}

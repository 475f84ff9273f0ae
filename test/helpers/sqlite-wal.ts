/**
 * Test helper: reads an SQLite write-ahead log (`*-wal`) and its index (`*-shm`) the way SQLite's
 * recovery does, so crash tests can damage the log where a torn write would (right after the last
 * valid frame, or inside the last frame) and know what the damage may cost. Format: sqlite.org
 * "Database File Format", section "The Write-Ahead Log"; wal-index layout from wal.c.
 *
 * A frame is valid when its salts equal the header's and its checksum continues the chain of the
 * frames before it; the log ends at the first frame that is not. Frames after the last commit
 * frame (non-zero "database size") belong to no transaction and are ignored by recovery too.
 */
import { readFileSync } from 'node:fs'

export const WAL_HEADER_BYTES = 32
export const FRAME_HEADER_BYTES = 24
const MAGIC_LITTLE = 0x377f0682
const MAGIC_BIG = 0x377f0683

export interface WalFrame {
  /** 1-based frame number, as SQLite counts (mxFrame, nBackfill). */
  readonly index: number
  readonly offset: number
  readonly page: number
  /** True for the last frame of a transaction. */
  readonly commit: boolean
}

export interface WalLog {
  readonly pageSize: number
  readonly salt1: number
  readonly salt2: number
  readonly bigEndianChecksum: boolean
  readonly frameBytes: number
  /** The valid frames up to and including the last commit frame. */
  readonly frames: readonly WalFrame[]
  /** Where the next frame would be written. */
  readonly end: number
  readonly fileBytes: number
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `s`. */
function checksum(data: Buffer, big: boolean, s: [number, number]): [number, number] {
  let [s0, s1] = s
  for (let i = 0; i < data.length; i += 8) {
    const x0 = big ? data.readUInt32BE(i) : data.readUInt32LE(i)
    const x1 = big ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4)
    s0 = (s0 + x0 + s1) >>> 0
    s1 = (s1 + x1 + s0) >>> 0
  }
  return [s0, s1]
}

/** Parses a WAL file; null when it has no valid header (empty or never written). */
export function readWal(path: string): WalLog | null {
  const bytes = readFileSync(path)
  if (bytes.length < WAL_HEADER_BYTES) return null
  const magic = bytes.readUInt32BE(0)
  if (magic !== MAGIC_LITTLE && magic !== MAGIC_BIG) return null
  const big = magic === MAGIC_BIG
  const pageSize = bytes.readUInt32BE(8) === 1 ? 65536 : bytes.readUInt32BE(8)
  const salt1 = bytes.readUInt32BE(16)
  const salt2 = bytes.readUInt32BE(20)
  let sum = checksum(bytes.subarray(0, 24), big, [0, 0])
  if (sum[0] !== bytes.readUInt32BE(24) || sum[1] !== bytes.readUInt32BE(28)) return null
  const frameBytes = FRAME_HEADER_BYTES + pageSize
  const frames: WalFrame[] = []
  let committed = 0
  for (let offset = WAL_HEADER_BYTES; offset + frameBytes <= bytes.length; offset += frameBytes) {
    if (bytes.readUInt32BE(offset + 8) !== salt1 || bytes.readUInt32BE(offset + 12) !== salt2) break
    sum = checksum(bytes.subarray(offset, offset + 8), big, sum)
    sum = checksum(bytes.subarray(offset + FRAME_HEADER_BYTES, offset + frameBytes), big, sum)
    if (sum[0] !== bytes.readUInt32BE(offset + 16) || sum[1] !== bytes.readUInt32BE(offset + 20))
      break
    const commit = bytes.readUInt32BE(offset + 4) !== 0
    frames.push({ index: frames.length + 1, offset, page: bytes.readUInt32BE(offset), commit })
    if (commit) committed = frames.length
  }
  frames.length = committed
  return {
    pageSize,
    salt1,
    salt2,
    bigEndianChecksum: big,
    frameBytes,
    frames,
    end: WAL_HEADER_BYTES + committed * frameBytes,
    fileBytes: bytes.length,
  }
}

export interface WalIndexState {
  /** Valid frames in the log as the last writer left them. */
  readonly mxFrame: number
  /** Frames already copied into the database file by a checkpoint. */
  readonly nBackfill: number
}

/**
 * The wal-index header and checkpoint counters of a `-shm` file (native byte order; this machine's
 * is little-endian), as a process killed with SIGKILL left them; null when unreadable.
 */
export function readWalIndex(path: string): WalIndexState | null {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch {
    return null
  }
  if (bytes.length < 136) return null
  // WalIndexHdr (48 bytes, twice), then WalCkptInfo whose first field is nBackfill.
  return { mxFrame: bytes.readUInt32LE(16), nBackfill: bytes.readUInt32LE(96) }
}

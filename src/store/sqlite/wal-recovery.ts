/**
 * @module store/sqlite/wal-recovery
 * Detects a torn write at the end of an SQLite write-ahead log before the store opens it. A crash
 * (SIGKILL, power loss) in the middle of a commit leaves frames of the current log generation
 * (same salts) that are partial or fail the checksum chain: a transaction that never committed,
 * so never acknowledged. SQLite's recovery ignores them when it opens the file; this check says so
 * out loud, and the opener then checkpoints the log (TRUNCATE) so the torn bytes are gone from
 * disk rather than waiting to be overwritten. Format: sqlite.org "Database File Format", section
 * "The Write-Ahead Log".
 *
 * Bytes after the last valid frame that carry other salts are not damage: SQLite restarts a log
 * from its beginning after a checkpoint and leaves the older, longer generation's frames behind.
 */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs'

const HEADER_BYTES = 32
const FRAME_HEADER_BYTES = 24
const MAGIC_LITTLE = 0x377f0682
const MAGIC_BIG = 0x377f0683

export interface WalInspection {
  /** Valid frames up to the last commit frame. */
  readonly committedFrames: number
  /** Frames of the current generation after the last commit: a transaction that never committed. */
  readonly uncommittedFrames: number
  /**
   * Bytes from the first frame past the last valid one to the end of the file, when that frame is
   * of the current generation (a torn or partial write); 0 otherwise.
   */
  readonly tornBytes: number
}

function checksum(data: Buffer, big: boolean, s: [number, number]): [number, number] {
  let [s0, s1] = s
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x0 = big ? data.readUInt32BE(i) : data.readUInt32LE(i)
    const x1 = big ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4)
    s0 = (s0 + x0 + s1) >>> 0
    s1 = (s1 + x1 + s0) >>> 0
  }
  return [s0, s1]
}

/**
 * Reads the log frame by frame (one frame in memory at a time). Undefined when there is no log or
 * it has no valid header (nothing to recover).
 */
export function inspectWal(path: string): WalInspection | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fstatSync(fd).size
    const header = Buffer.alloc(HEADER_BYTES)
    if (readSync(fd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return undefined
    const magic = header.readUInt32BE(0)
    if (magic !== MAGIC_LITTLE && magic !== MAGIC_BIG) return undefined
    const big = magic === MAGIC_BIG
    const pageSize = header.readUInt32BE(8) === 1 ? 65536 : header.readUInt32BE(8)
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return undefined
    let sum = checksum(header.subarray(0, 24), big, [0, 0])
    if (sum[0] !== header.readUInt32BE(24) || sum[1] !== header.readUInt32BE(28)) return undefined
    const salt1 = header.readUInt32BE(16)
    const salt2 = header.readUInt32BE(20)
    const frameBytes = FRAME_HEADER_BYTES + pageSize
    const frame = Buffer.alloc(frameBytes)
    let valid = 0
    let committed = 0
    let offset = HEADER_BYTES
    for (; offset + frameBytes <= size; offset += frameBytes) {
      readSync(fd, frame, 0, frameBytes, offset)
      if (frame.readUInt32BE(8) !== salt1 || frame.readUInt32BE(12) !== salt2) break
      sum = checksum(frame.subarray(0, 8), big, sum)
      sum = checksum(frame.subarray(FRAME_HEADER_BYTES), big, sum)
      if (sum[0] !== frame.readUInt32BE(16) || sum[1] !== frame.readUInt32BE(20)) break
      valid++
      if (frame.readUInt32BE(4) !== 0) committed = valid
    }
    // What follows the valid frames: a frame of this generation (salts match) that is cut short
    // or fails its checksum is a torn write; anything else is an older generation's leftovers.
    let torn = 0
    if (offset < size) {
      const rest = size - offset
      if (rest >= 16) {
        readSync(fd, frame, 0, 16, offset)
        if (frame.readUInt32BE(8) === salt1 && frame.readUInt32BE(12) === salt2) torn = rest
      } else torn = rest
    }
    return { committedFrames: committed, uncommittedFrames: valid - committed, tornBytes: torn }
  } finally {
    closeSync(fd)
  }
}

/** A one-line account of what a crash left at the end of the log, or undefined when nothing. */
export function describeWalDamage(
  path: string,
  found: WalInspection | undefined,
): string | undefined {
  if (found === undefined) return undefined
  if (found.tornBytes === 0 && found.uncommittedFrames === 0) return undefined
  const parts: string[] = []
  if (found.uncommittedFrames > 0)
    parts.push(`${found.uncommittedFrames} frame(s) of a transaction that never committed`)
  if (found.tornBytes > 0) parts.push(`${found.tornBytes} bytes of torn frames`)
  return (
    `the write-ahead log ${path} ends in an interrupted write (${parts.join(', ')}) after ` +
    `${found.committedFrames} committed frame(s): it was never acknowledged; recovery discarded it`
  )
}

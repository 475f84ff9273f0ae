/**
 * @module transfer/verify/trace-file-check
 * Checks the trace files: each one a checked digest lists (present, same SHA-256 of the stored
 * bytes, well-formed content), and each one found in the folder that no digest lists.
 *
 * - A listed file that is gone is "moved to KEY" when an unlisted file of the folder has its exact
 *   bytes (that file is then not reported again), else "not found".
 * - Appended data is reported instead of the hash mismatch it causes.
 * - An unlisted file delivered in a period a checked digest covers is "not in any digest"; in the
 *   period of a missing digest, "(its digest is missing)". One delivered after the newest digest's
 *   end is pending until a period and the grace have passed, then "(its digest is overdue)"; after
 *   an ending digest (validation off) it is only noted. Files outside the range are left alone.
 */
import { sha256Hex } from '../../integrity/digest.js'
import type { MasterKeyVersion } from '../envelope.js'
import { parseTraceFileKey } from '../layout.js'
import type { ObjectSink, StoredObject } from '../object-sink.js'
import type { ListedTraceFile } from './bucket-scan.js'
import type { Coverage, ListedEntry } from './digest-walk.js'
import { checkFileContent } from './file-content.js'
import { NOTE, REASON } from './findings.js'
import type { FileResult, PendingFile } from './verify-report.js'

/** Objects fetched at once (an S3 round trip each). */
const PARALLEL_GETS = 8

export interface FileCheckInput {
  readonly sink: ObjectSink
  readonly bucket: string
  readonly from: number
  readonly to: number
  readonly periodMs: number
  readonly graceMs: number
  readonly entries: readonly ListedEntry[]
  /** Trace files found in the folder (this tracker, prefix and segment), oldest first. */
  readonly listed: readonly ListedTraceFile[]
  readonly coverage: readonly Coverage[]
  /** The newest digest ending at or before `to`, checked or not. */
  readonly newest: { readonly end: number; readonly ending: boolean } | undefined
  readonly masterKeys: readonly MasterKeyVersion[] | undefined
  readonly onFile?: () => void
}

export interface FileCheckResult {
  readonly files: FileResult[]
  readonly pending: PendingFile[]
}

function invalid(entry: ListedEntry, reasons: readonly string[]): FileResult {
  return {
    bucket: entry.bucket,
    key: entry.object,
    digest: entry.digest,
    status: 'INVALID',
    reason: reasons.join('; '),
  }
}

function checkListed(
  entry: ListedEntry,
  object: StoredObject,
  masterKeys: readonly MasterKeyVersion[] | undefined,
): FileResult {
  const compress =
    parseTraceFileKey(entry.object)?.compress ?? (entry.object.endsWith('.gz') ? 'gzip' : 'json')
  const content = checkFileContent(object.body, compress, masterKeys)
  const hash = sha256Hex(object.body)
  const reasons: string[] = []
  if (content.extraBytes === 0 && hash !== entry.hash)
    reasons.push(REASON.hashMismatch(hash, entry.hash))
  reasons.push(...content.problems)
  if (reasons.length > 0) return invalid(entry, reasons)
  return {
    bucket: entry.bucket,
    key: entry.object,
    digest: entry.digest,
    status: 'valid',
    ...(content.notChecked === undefined ? {} : { note: content.notChecked }),
  }
}

/** What to say of an unlisted file delivered at `time`: a reason, a pending note, or nothing. */
function unlistedVerdict(
  time: number,
  input: FileCheckInput,
): { reason: string } | { note: string } | undefined {
  const { coverage, newest, from, to, periodMs, graceMs } = input
  if (time >= to) return undefined
  const period = coverage.find((c) => c.start <= time && time < c.end)
  if (period !== undefined)
    return { reason: period.missing ? REASON.notInAnyDigestMissing : REASON.notInAnyDigest }
  if (newest === undefined ? time < from : time < newest.end) return undefined
  if (newest?.ending === true) return { note: NOTE.afterEnding }
  return time + periodMs + graceMs < to
    ? { reason: REASON.notInAnyDigestOverdue }
    : { note: NOTE.pending }
}

/** Checks the listed and the unlisted trace files. */
export async function checkTraceFiles(input: FileCheckInput): Promise<FileCheckResult> {
  const { sink, bucket, entries, listed, masterKeys } = input
  const files: FileResult[] = []
  const pending: PendingFile[] = []
  /** Indexes (in `entries` and `files` alike) of listed files that are gone. */
  const gone: number[] = []
  for (let first = 0; first < entries.length; first += PARALLEL_GETS) {
    const batch = entries.slice(first, first + PARALLEL_GETS)
    const objects = await Promise.all(batch.map((e) => sink.get(e.bucket, e.object)))
    for (const [i, entry] of batch.entries()) {
      const object = objects[i]
      input.onFile?.()
      if (object === undefined) gone.push(first + i)
      files.push(
        object === undefined
          ? invalid(entry, [REASON.notFound])
          : checkListed(entry, object, masterKeys),
      )
    }
  }
  const named = new Set(entries.filter((e) => e.bucket === bucket).map((e) => e.object))
  const unlisted = listed.filter((f) => !named.has(f.key))
  const movedHere = new Set<string>()
  if (gone.length > 0) {
    const byHash = new Map<string, string>()
    for (const file of unlisted) {
      const object = await sink.get(bucket, file.key)
      input.onFile?.()
      if (object !== undefined) byHash.set(sha256Hex(object.body), file.key)
    }
    for (const index of gone) {
      const entry = entries[index]
      const key = entry === undefined ? undefined : byHash.get(entry.hash)
      if (entry === undefined || key === undefined || movedHere.has(key)) continue
      files[index] = invalid(entry, [REASON.movedTo(key)])
      movedHere.add(key)
    }
  }
  for (const file of unlisted) {
    if (movedHere.has(file.key)) continue
    const verdict = unlistedVerdict(file.time, input)
    if (verdict === undefined) continue
    if ('note' in verdict) pending.push({ key: file.key, time: file.time, note: verdict.note })
    else
      files.push({
        bucket,
        key: file.key,
        digest: null,
        status: 'INVALID',
        reason: verdict.reason,
      })
  }
  return { files, pending }
}

/**
 * @module transfer/verify/bucket-verifier
 * `verifyBucket`: offline verification of what a tracker delivered into a bucket — trace files,
 * digest files and the digest chain — over a time range, against published public keys (and,
 * optionally, the master keys of encrypted files). The core of `opencts verify`; see
 * docs/verify.md for every check and reason, and README.md for the order of work.
 *
 * Needs only read access (`list`, `get`) to the bucket: nothing is written.
 */
import type { MasterKeyVersion } from '../envelope.js'
import type { ObjectSink } from '../object-sink.js'
import type { DigestKeyView } from '../signing-keys.js'
import { BucketScan, chooseSegment, type ListedDigest } from './bucket-scan.js'
import { DigestWalk, readDigestDocument, type WalkResult } from './digest-walk.js'
import { CHAIN } from './findings.js'
import { checkTraceFiles } from './trace-file-check.js'
import { summarize, type ChainFinding, type VerifyReport } from './verify-report.js'

/** How late a digest may be written after its end before it counts as missing. */
export const DEFAULT_GRACE_MS = 5 * 60_000
/** The period assumed when no digest can be read (CTS writes digests hourly). */
export const DEFAULT_PERIOD_SECONDS = 3600
export const DEFAULT_TRACKER = 'system'

export interface VerifyProgress {
  readonly stage: 'listing' | 'digests' | 'files'
  readonly done: number
  /** An estimate for `digests` (the digests listed in the range). */
  readonly total: number
}

export interface VerifyOptions {
  readonly sink: ObjectSink
  readonly bucket: string
  readonly region: string
  /** Default `system`. */
  readonly tracker?: string
  /** The tracker's `file_prefix_name`; default ''. */
  readonly prefix?: string
  /** Needed only when digests of several projects share the folder. */
  readonly projectId?: string
  /** Range (epoch ms): digests ending in (from, to] are checked. */
  readonly from: number
  readonly to: number
  /** Default DEFAULT_GRACE_MS. */
  readonly graceMs?: number
  /** The published digest keys (`GET /v3/{project_id}/digest-keys`, `opencts keys public`). */
  readonly publicKeys: readonly DigestKeyView[]
  /** Master key versions to open encrypted files with; without them only hashes are checked. */
  readonly masterKeys?: readonly MasterKeyVersion[]
  readonly onProgress?: (progress: VerifyProgress) => void
}

interface Newest {
  readonly end: number
  readonly ending: boolean
  readonly key: string
  readonly periodSeconds: number | undefined
}

/** The newest listed digest ending at or before `to`, with what its document says. */
async function newestDigest(
  options: VerifyOptions,
  listed: readonly ListedDigest[],
): Promise<Newest | undefined> {
  const newest = listed.filter((d) => d.time <= options.to).at(-1)
  if (newest === undefined) return undefined
  const object = await options.sink.get(options.bucket, newest.key)
  const doc = object === undefined ? undefined : readDigestDocument(object)
  return {
    key: newest.key,
    end: newest.time,
    ending: doc?.digest_end ?? false,
    periodSeconds: doc?.digest_period_seconds,
  }
}

/** Tail and empty-range findings: digests the schedule says should exist by `to`. */
function scheduleFindings(
  newest: Newest | undefined,
  from: number,
  to: number,
  periodMs: number,
  graceMs: number,
): ChainFinding[] {
  if (newest === undefined) {
    const due = Math.ceil((to - graceMs) / periodMs) - 1 - Math.floor(from / periodMs)
    return due > 0 ? [{ kind: 'none', message: CHAIN.none(from, to, due), missing: due }] : []
  }
  if (newest.ending || newest.end + periodMs + graceMs >= to) return []
  const missing = Math.max(1, Math.floor((to - graceMs - newest.end) / periodMs))
  return [{ kind: 'tail', message: CHAIN.tail(missing, newest.key), missing }]
}

/**
 * Verifies the bucket (see the module comment). Throws RangeError when `from` is not before `to`,
 * OCTS_ERR_PROJECT_ID when several projects share the folder and `projectId` is not given, and the
 * sink's errors (OCTS_ERR_NO_BUCKET, OCTS_ERR_BUCKET_DENIED, OCTS_ERR_OBJECT_STORE_UNAVAILABLE).
 * Findings are never thrown: they are in the report.
 */
export async function verifyBucket(options: VerifyOptions): Promise<VerifyReport> {
  const { sink, bucket, region, from, to, projectId, onProgress } = options
  const tracker = options.tracker ?? DEFAULT_TRACKER
  const prefix = options.prefix ?? ''
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS
  if (!(from < to)) throw new RangeError(`from (${from}) must be before to (${to})`)
  const scan = new BucketScan(sink, bucket, region, tracker, prefix)
  let days = 0
  const dayDone = (): void => {
    days++
    onProgress?.({
      stage: 'listing',
      done: days,
      total: Math.max(days, BucketScan.dayCount(from, to)),
    })
  }

  await scan.listDays(from, to, dayDone)
  const firstSegment = chooseSegment(scan.segments(), region, projectId)
  const first = await newestDigest(options, firstSegment === null ? [] : scan.digests(firstSegment))
  const periodMs = (first?.periodSeconds ?? DEFAULT_PERIOD_SECONDS) * 1000
  await scan.listDays(from - periodMs, to, dayDone)
  const segment = chooseSegment(scan.segments(), region, projectId)
  const listed = segment === null ? [] : scan.digests(segment)
  const newest = await newestDigest(options, listed)

  const inRange = listed.filter((d) => d.time > from && d.time <= to).length
  let checkedDigests = 0
  const walk: WalkResult = await new DigestWalk({
    sink,
    from,
    to,
    listed,
    defaultPeriodMs: periodMs,
    context: { bucket, publicKeys: options.publicKeys, projectId, keyObjects: new Map() },
    onDigest: () =>
      onProgress?.({
        stage: 'digests',
        done: ++checkedDigests,
        total: Math.max(inRange, checkedDigests),
      }),
  }).run()

  const tracePeriodMs =
    (newest?.periodSeconds ?? first?.periodSeconds ?? DEFAULT_PERIOD_SECONDS) * 1000
  const traceFiles = segment === null ? [] : scan.files(segment)
  const fileTotal = walk.entries.length + traceFiles.length
  let checkedFiles = 0
  const { files, pending } = await checkTraceFiles({
    sink,
    bucket,
    from,
    to,
    periodMs: tracePeriodMs,
    graceMs,
    entries: walk.entries,
    listed: traceFiles,
    coverage: walk.coverage,
    newest,
    masterKeys: options.masterKeys,
    onFile: () => onProgress?.({ stage: 'files', done: ++checkedFiles, total: fileTotal }),
  })
  const chainFindings = [
    ...walk.findings,
    ...scheduleFindings(newest, from, to, tracePeriodMs, graceMs),
  ]
  return {
    bucket,
    region,
    tracker,
    prefix,
    regionSegment: segment,
    from,
    to,
    graceMs,
    periodSeconds: tracePeriodMs / 1000,
    digests: walk.digests,
    files,
    pending,
    chainFindings,
    summary: summarize(walk.digests, files, pending, chainFindings),
  }
}

/**
 * @module transfer/layout
 * Object keys of transferred trace files and digest files (spec/cts-api.md §9–§10), built and parsed
 * here only, so the writer and `opencts verify` cannot disagree. Pure.
 *
 * Trace file (`is_sort_by_service` true; without the service folder when false):
 *   CloudTraces/{region}/{yyyy}/{MM}/{dd}/{tracker}/{service}/
 *     {prefix}_CloudTrace_{regionSegment}_{yyyy}-{MM}-{dd}T{HH}-{mm}-{ss}Z_{16 hex}.json.gz (or .json)
 * Digest file (one chain per tracker, so no service folder; see docs/transfer.md):
 *   CloudTraces/{region}/{yyyy}/{MM}/{dd}/{tracker}/Digest/
 *     {prefix}_CloudTrace-Digest_{regionSegment}_{yyyy}-{MM}-{dd}T{HH}-{mm}-{ss}Z.json.gz
 *
 * Checkpoint of the project's verifiable log (OpenCTS only; one folder per tracker, so a monitor
 * lists a single prefix; see docs/transfer.md):
 *   latest, overwritten:  CloudTraces/{region}/Checkpoint/{tracker}/
 *     {prefix}_CloudTrace-Checkpoint_{project_id}_latest.txt
 *   by tree size, never rewritten with other bytes:  CloudTraces/{region}/Checkpoint/{tracker}/
 *     {yyyy}/{MM}/{dd}/{prefix}_CloudTrace-Checkpoint_{project_id}_{size, 20 digits}.txt
 *
 * Dates are UTC and zero-padded. `regionSegment` is the region for the project named after the
 * region (the default project, as in CTS) and `{region}-{project_id}` for any other project.
 * The time in a trace file name is its delivery time; in a digest file name, the digest's end time;
 * the day of a checkpoint is the day of its signing time. Checkpoint names carry the project id
 * itself: the latest key must differ between any two projects sharing a bucket.
 */
import type { CompressType } from '../model/index.js'

export const ROOT_FOLDER = 'CloudTraces'
export const DIGEST_FOLDER = 'Digest'
export const CHECKPOINT_FOLDER = 'Checkpoint'
/** Digits of the zero-padded tree size in a checkpoint key (any 64-bit size fits). */
export const CHECKPOINT_SIZE_DIGITS = 20

/** `2026-11-21T12-00-05Z`: the time format of file names and digest fields (UTC, seconds). */
export function formatKeyTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000)
    .toISOString()
    .replace(/:/g, '-')
    .replace('.000Z', 'Z')
}

const KEY_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z$/

/** Inverse of `formatKeyTime` (ms), or undefined when `text` is not in that format. */
export function parseKeyTime(text: string): number | undefined {
  const m = KEY_TIME.exec(text)
  if (m === null) return undefined
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  return formatKeyTime(ms) === text ? ms : undefined
}

/** The file-name segment naming region and project. */
export function regionSegment(
  region: string,
  projectId: string,
  isDefaultProject: boolean,
): string {
  return isDefaultProject ? region : `${region}-${projectId}`
}

/** `CloudTraces/{region}/{yyyy}/{MM}/{dd}/{tracker}/` for the UTC day of `time`. */
export function trackerFolder(region: string, tracker: string, time: number): string {
  const day = new Date(time).toISOString().slice(0, 10).replace(/-/g, '/')
  return `${ROOT_FOLDER}/${region}/${day}/${tracker}/`
}

export interface TraceFileName {
  readonly region: string
  readonly regionSegment: string
  readonly tracker: string
  /** The service folder, or null when files are not sorted by service. */
  readonly service: string | null
  readonly prefix: string
  /** Delivery time (ms, whole seconds). */
  readonly time: number
  /** 16 lowercase hex characters that keep names unique. */
  readonly unique: string
  readonly compress: CompressType
}

export function traceFileKey(name: TraceFileName): string {
  const folder =
    trackerFolder(name.region, name.tracker, name.time) +
    (name.service === null ? '' : `${name.service}/`)
  const ext = name.compress === 'gzip' ? '.json.gz' : '.json'
  return `${folder}${name.prefix}_CloudTrace_${name.regionSegment}_${formatKeyTime(name.time)}_${name.unique}${ext}`
}

export interface DigestFileName {
  readonly region: string
  readonly regionSegment: string
  readonly tracker: string
  readonly prefix: string
  /** The digest's end time (ms, whole seconds). */
  readonly time: number
}

export function digestFileKey(name: DigestFileName): string {
  return `${trackerFolder(name.region, name.tracker, name.time)}${DIGEST_FOLDER}/${name.prefix}_CloudTrace-Digest_${name.regionSegment}_${formatKeyTime(name.time)}.json.gz`
}

const TRACE_KEY =
  /^CloudTraces\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)\/(?:([^/]+)\/)?([A-Za-z0-9._-]*)_CloudTrace_([^/]+)_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)_([0-9a-f]{16})\.(json\.gz|json)$/
const DIGEST_KEY =
  /^CloudTraces\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)\/Digest\/([A-Za-z0-9._-]*)_CloudTrace-Digest_([^/]+)_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)\.json\.gz$/

/**
 * The parts of a trace file key, or undefined when `key` is not one. The folder date must be the
 * date of the time in the name.
 */
export function parseTraceFileKey(key: string): TraceFileName | undefined {
  const m = TRACE_KEY.exec(key)
  if (m === null || m[6] === DIGEST_FOLDER) return undefined
  const time = parseKeyTime(m[9]!)
  if (time === undefined) return undefined
  const name: TraceFileName = {
    region: m[1]!,
    tracker: m[5]!,
    service: m[6] ?? null,
    prefix: m[7]!,
    regionSegment: m[8]!,
    time,
    unique: m[10]!,
    compress: m[11] === 'json' ? 'json' : 'gzip',
  }
  return traceFileKey(name) === key ? name : undefined
}

/** The parts of a digest file key, or undefined when `key` is not one. */
export function parseDigestFileKey(key: string): DigestFileName | undefined {
  const m = DIGEST_KEY.exec(key)
  if (m === null) return undefined
  const time = parseKeyTime(m[8]!)
  if (time === undefined) return undefined
  const name: DigestFileName = {
    region: m[1]!,
    tracker: m[5]!,
    prefix: m[6]!,
    regionSegment: m[7]!,
    time,
  }
  return digestFileKey(name) === key ? name : undefined
}

export interface CheckpointFileName {
  readonly region: string
  readonly tracker: string
  readonly prefix: string
  readonly projectId: string
}

/** A checkpoint kept by tree size: `day` is the UTC midnight (ms) of its signing time. */
export interface SizedCheckpointFileName extends CheckpointFileName {
  readonly size: number
  readonly day: number
}

/** `CloudTraces/{region}/Checkpoint/{tracker}/`: every checkpoint object of a tracker. */
export function checkpointFolder(region: string, tracker: string): string {
  return `${ROOT_FOLDER}/${region}/${CHECKPOINT_FOLDER}/${tracker}/`
}

/** The key overwritten with each newer checkpoint. */
export function latestCheckpointKey(name: CheckpointFileName): string {
  return `${checkpointFolder(name.region, name.tracker)}${name.prefix}_CloudTrace-Checkpoint_${name.projectId}_latest.txt`
}

/** The key of the checkpoint of tree size `size` signed at `time` (ms). */
export function checkpointFileKey(
  name: CheckpointFileName & { size: number; time: number },
): string {
  if (!Number.isSafeInteger(name.size) || name.size < 0)
    throw new RangeError(`bad checkpoint size ${name.size}`)
  const day = new Date(name.time).toISOString().slice(0, 10).replace(/-/g, '/')
  const size = String(name.size).padStart(CHECKPOINT_SIZE_DIGITS, '0')
  return `${checkpointFolder(name.region, name.tracker)}${day}/${name.prefix}_CloudTrace-Checkpoint_${name.projectId}_${size}.txt`
}

const LATEST_CHECKPOINT_KEY =
  /^CloudTraces\/([^/]+)\/Checkpoint\/([^/]+)\/([A-Za-z0-9._-]*)_CloudTrace-Checkpoint_([^/]+)_latest\.txt$/
const CHECKPOINT_KEY =
  /^CloudTraces\/([^/]+)\/Checkpoint\/([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([A-Za-z0-9._-]*)_CloudTrace-Checkpoint_([^/]+)_(\d{20})\.txt$/

/** The parts of a latest-checkpoint key, or undefined when `key` is not one. */
export function parseLatestCheckpointKey(key: string): CheckpointFileName | undefined {
  const m = LATEST_CHECKPOINT_KEY.exec(key)
  if (m === null) return undefined
  const name: CheckpointFileName = {
    region: m[1]!,
    tracker: m[2]!,
    prefix: m[3]!,
    projectId: m[4]!,
  }
  return latestCheckpointKey(name) === key ? name : undefined
}

/** The parts of a by-size checkpoint key, or undefined when `key` is not one. */
export function parseCheckpointFileKey(key: string): SizedCheckpointFileName | undefined {
  const m = CHECKPOINT_KEY.exec(key)
  if (m === null) return undefined
  const size = Number(m[8]!)
  const day = Date.UTC(+m[3]!, +m[4]! - 1, +m[5]!)
  if (!Number.isSafeInteger(size) || Number.isNaN(day)) return undefined
  const name: SizedCheckpointFileName = {
    region: m[1]!,
    tracker: m[2]!,
    prefix: m[6]!,
    projectId: m[7]!,
    size,
    day,
  }
  return checkpointFileKey({ ...name, time: day }) === key ? name : undefined
}

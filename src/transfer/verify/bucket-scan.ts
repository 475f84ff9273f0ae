/**
 * @module transfer/verify/bucket-scan
 * Lists what a tracker left in a bucket, one UTC day folder at a time
 * (`CloudTraces/{region}/{yyyy}/{MM}/{dd}/{tracker}/`, its `Digest/` subfolder included), never
 * the whole bucket: verifying an hour of a busy bucket lists one or two folders. Keys that do not
 * parse as trace or digest files of this tracker and file prefix are ignored.
 *
 * Several projects may deliver into the same folder; their file names differ in the region
 * segment (`region` for the default project, `region-{project_id}` for the others).
 * `chooseSegment` picks the one to verify.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { CompressType } from '../../model/index.js'
import { parseDigestFileKey, parseTraceFileKey, trackerFolder } from '../layout.js'
import type { ObjectSink } from '../object-sink.js'

const DAY_MS = 86_400_000

export interface ListedDigest {
  readonly key: string
  /** The time in the key: the digest's end time. */
  readonly time: number
  readonly segment: string
}

export interface ListedTraceFile {
  readonly key: string
  /** Delivery time (the time in the key). */
  readonly time: number
  readonly compress: CompressType
  readonly segment: string
}

export class BucketScan {
  readonly #sink: ObjectSink
  readonly #bucket: string
  readonly #region: string
  readonly #tracker: string
  readonly #prefix: string
  readonly #listedDays = new Set<number>()
  readonly #digests: ListedDigest[] = []
  readonly #files: ListedTraceFile[] = []

  constructor(sink: ObjectSink, bucket: string, region: string, tracker: string, prefix: string) {
    this.#sink = sink
    this.#bucket = bucket
    this.#region = region
    this.#tracker = tracker
    this.#prefix = prefix
  }

  /** Lists every day folder overlapping [from, to] not listed yet; `onDay` after each list. */
  async listDays(from: number, to: number, onDay?: () => void): Promise<void> {
    for (let day = Math.floor(Math.max(0, from) / DAY_MS) * DAY_MS; day <= to; day += DAY_MS) {
      if (this.#listedDays.has(day)) continue
      this.#listedDays.add(day)
      const folder = trackerFolder(this.#region, this.#tracker, day)
      for (const { key } of await this.#sink.list(this.#bucket, folder)) this.#add(key)
      onDay?.()
    }
  }

  /** Day folders `listDays(from, to)` would list, for progress totals. */
  static dayCount(from: number, to: number): number {
    return Math.max(0, Math.floor(to / DAY_MS) - Math.floor(Math.max(0, from) / DAY_MS) + 1)
  }

  /** The region segments of the digests found, else of the trace files found; sorted. */
  segments(): string[] {
    const from = this.#digests.length > 0 ? this.#digests : this.#files
    return [...new Set(from.map((d) => d.segment))].sort()
  }

  /** Digests of `segment`, oldest first. */
  digests(segment: string): ListedDigest[] {
    return this.#digests.filter((d) => d.segment === segment).sort((a, b) => a.time - b.time)
  }

  /** Trace files of `segment`, oldest first. */
  files(segment: string): ListedTraceFile[] {
    return this.#files.filter((f) => f.segment === segment).sort((a, b) => a.time - b.time)
  }

  #ours(region: string, tracker: string, prefix: string, segment: string): boolean {
    return (
      region === this.#region &&
      tracker === this.#tracker &&
      prefix === this.#prefix &&
      (segment === this.#region || segment.startsWith(`${this.#region}-`))
    )
  }

  #add(key: string): void {
    const digest = parseDigestFileKey(key)
    if (digest !== undefined) {
      if (this.#ours(digest.region, digest.tracker, digest.prefix, digest.regionSegment))
        this.#digests.push({ key, time: digest.time, segment: digest.regionSegment })
      return
    }
    const file = parseTraceFileKey(key)
    if (
      file !== undefined &&
      this.#ours(file.region, file.tracker, file.prefix, file.regionSegment)
    )
      this.#files.push({
        key,
        time: file.time,
        compress: file.compress,
        segment: file.regionSegment,
      })
  }
}

/**
 * The region segment to verify among `segments` (see the module comment). With `projectId`:
 * `region-{projectId}` if present, else `region` (the default project, whose digests name their
 * project_id, which is checked). Without: the only segment, or null when there is none. Throws
 * OCTS_ERR_PROJECT_ID when several projects share the folder and no project id was given.
 */
export function chooseSegment(
  segments: readonly string[],
  region: string,
  projectId: string | undefined,
): string | null {
  if (projectId !== undefined) {
    const own = `${region}-${projectId}`
    return segments.includes(own) || !segments.includes(region) ? own : region
  }
  if (segments.length > 1)
    throw new OpenCtsError('OCTS_ERR_PROJECT_ID', {
      message: `digests of several projects share the folder (file names with ${segments.join(', ')}): give the project id to verify`,
    })
  return segments[0] ?? null
}

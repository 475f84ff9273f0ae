/**
 * @module transfer/verify/digest-walk
 * Walks a digest chain from its newest digest back in time, checking each digest (digest-check.ts)
 * with what its newer neighbour says of it, and collects the trace files the digests list.
 *
 * - Start: the newest listed digest ending in (from, to].
 * - Step: follow `previous_digest_object`. When it is gone, the next older digest is found by
 *   listing (the newest ending at or before the successor's start), and the hole is reported with
 *   its size: (successor start − older end) / period digests, so deleting two digests says 2.
 * - Stop: at a digest starting at or before `from`; at a starting digest, unless an older chain
 *   ends inside the range (validation turned off and on again), which is then walked too — if that
 *   older chain does not end with an ending digest, the restart is a finding.
 * - Listed digests in (from, to] that the walk never reached (injected, swapped, or from a chain
 *   nothing links to) are checked on their own and marked "not part of the chain".
 */
import { isStartingDigest, parseDigest, type DigestDocument } from '../../integrity/digest.js'
import { parseDigestFileKey } from '../layout.js'
import type { ObjectSink, StoredObject } from '../object-sink.js'
import type { ListedDigest } from './bucket-scan.js'
import { checkDigest, type DigestCheckContext, type Voucher } from './digest-check.js'
import { CHAIN, REASON } from './findings.js'
import { readGzipMember } from './gzip-member.js'
import type { ChainFinding, DigestResult } from './verify-report.js'

/** A trace file as a checked digest lists it. */
export interface ListedEntry {
  readonly bucket: string
  readonly object: string
  readonly hash: string
  /** Key of the digest listing it. */
  readonly digest: string
}

/** A period [start, end) covered by a checked digest, or by digests found missing. */
export interface Coverage {
  readonly start: number
  readonly end: number
  readonly missing: boolean
}

export interface WalkInput {
  readonly sink: ObjectSink
  readonly from: number
  readonly to: number
  /** The listed digests of the chain's folder and segment, oldest first. */
  readonly listed: readonly ListedDigest[]
  /** Period (ms) for counting missing digests when no digest could be read. */
  readonly defaultPeriodMs: number
  readonly context: DigestCheckContext
  readonly onDigest?: () => void
}

export interface WalkResult {
  /** Newest first. */
  readonly digests: DigestResult[]
  readonly findings: ChainFinding[]
  readonly entries: ListedEntry[]
  readonly coverage: Coverage[]
}

interface Cursor {
  readonly bucket: string
  readonly key: string
  readonly keyTime: number
  readonly voucher?: Voucher
  /** Key of the starting digest this older chain precedes. */
  readonly restartOf?: string
}

/** The document of a digest object, or undefined when it is not a readable digest. */
export function readDigestDocument(object: StoredObject): DigestDocument | undefined {
  const member = readGzipMember(object.body)
  if (!member.ok) return undefined
  try {
    return parseDigest(member.content.toString('utf8'))
  } catch {
    return undefined
  }
}

export class DigestWalk {
  readonly #in: WalkInput
  readonly #visited = new Set<string>()
  readonly #out: WalkResult = { digests: [], findings: [], entries: [], coverage: [] }
  #periodMs: number

  constructor(input: WalkInput) {
    this.#in = input
    this.#periodMs = input.defaultPeriodMs
  }

  /** Runs the walk (once). */
  async run(): Promise<WalkResult> {
    const { from, to, listed } = this.#in
    const newest = listed.filter((d) => d.time <= to).at(-1)
    let cursor: Cursor | undefined =
      newest !== undefined && newest.time > from ? this.#listedCursor(newest) : undefined
    while (cursor !== undefined) cursor = await this.#step(cursor)
    for (const orphan of listed.filter((d) => d.time > from && d.time <= to)) {
      if (this.#visited.has(orphan.key)) continue
      const object = await this.#in.sink.get(this.#in.context.bucket, orphan.key)
      if (object !== undefined) this.#check(this.#listedCursor(orphan), object, REASON.notInChain)
    }
    // By where each digest is stored (the time in its key), which a swapped document does not change.
    const stored = (d: DigestResult): number => parseDigestFileKey(d.key)?.time ?? d.endTime
    this.#out.digests.sort((a, b) => stored(b) - stored(a))
    return this.#out
  }

  #listedCursor(digest: ListedDigest, restartOf?: string): Cursor {
    return {
      bucket: this.#in.context.bucket,
      key: digest.key,
      keyTime: digest.time,
      ...(restartOf === undefined ? {} : { restartOf }),
    }
  }

  /** The newest listed digest not visited whose end is at or before `time`. */
  #olderThan(time: number, except?: string): ListedDigest | undefined {
    return this.#in.listed
      .filter((d) => d.time <= time && !this.#visited.has(d.key) && d.key !== except)
      .at(-1)
  }

  /** Checks the digest under the cursor; returns where to go next. */
  async #step(cursor: Cursor): Promise<Cursor | undefined> {
    const { sink, from } = this.#in
    if (this.#visited.has(cursor.key)) {
      this.#out.findings.push({ kind: 'loop', message: CHAIN.loop(cursor.key) })
      return undefined
    }
    const object = await sink.get(cursor.bucket, cursor.key)
    if (object === undefined) return this.#gap(cursor)
    const checked = this.#check(cursor, object)
    const { doc, start, end } = checked
    if (doc === undefined || start === undefined || end === undefined) {
      this.#out.findings.push({ kind: 'unreadable', message: CHAIN.unreadable(cursor.key) })
      const older = this.#olderThan(cursor.keyTime - 1)
      return older !== undefined && older.time > from ? this.#listedCursor(older) : undefined
    }
    this.#periodMs = doc.digest_period_seconds * 1000
    if (cursor.restartOf !== undefined && !doc.digest_end)
      this.#out.findings.push({
        kind: 'restart',
        message: CHAIN.restart(cursor.restartOf, cursor.key),
      })
    if (start <= from) return undefined
    if (isStartingDigest(doc)) {
      const older = this.#olderThan(start)
      return older !== undefined && older.time > from
        ? this.#listedCursor(older, cursor.key)
        : undefined
    }
    return {
      bucket: doc.previous_digest_bucket,
      key: doc.previous_digest_object,
      keyTime: parseDigestFileKey(doc.previous_digest_object)?.time ?? start,
      voucher: {
        successor: cursor.key,
        successorStart: start,
        hash: doc.previous_digest_hash_value,
        signature: doc.previous_digest_signature,
        ending: doc.previous_digest_end,
      },
    }
  }

  /** Checks and records one digest, with `extra` as a further reason. */
  #check(cursor: Cursor, object: StoredObject, extra?: string): ReturnType<typeof checkDigest> {
    this.#visited.add(cursor.key)
    this.#in.onDigest?.()
    const checked = checkDigest(
      cursor.key,
      cursor.keyTime,
      object,
      cursor.voucher,
      this.#in.context,
    )
    let result = checked.result
    if (extra !== undefined)
      result = {
        ...result,
        status: 'INVALID',
        reason: result.reason === undefined ? extra : `${result.reason}; ${extra}`,
      }
    this.#out.digests.push(result)
    const { doc, start, end } = checked
    if (doc !== undefined && start !== undefined && end !== undefined) {
      this.#out.coverage.push({ start, end, missing: false })
      for (const file of doc.log_files)
        this.#out.entries.push({
          bucket: file.bucket,
          object: file.object,
          hash: file.log_hash_value,
          digest: cursor.key,
        })
    }
    return checked
  }

  /** The digest a successor links to is gone: size the hole, and go on from the next older one. */
  #gap(cursor: Cursor): Cursor | undefined {
    const { from } = this.#in
    const voucher = cursor.voucher
    // Only links lead to missing objects (listed ones exist), so there is a successor.
    if (voucher === undefined) return undefined
    const start = voucher.successorStart
    const older = this.#olderThan(start, cursor.key)
    if (older !== undefined) {
      const missing = Math.max(1, Math.round((start - older.time) / this.#periodMs))
      this.#out.findings.push({
        kind: 'gap',
        message: CHAIN.gap(missing, older.key, voucher.successor),
        missing,
      })
      this.#out.coverage.push({ start: older.time, end: start, missing: true })
      return older.time > from ? this.#listedCursor(older) : undefined
    }
    const missing = Math.max(1, Math.ceil((start - from) / this.#periodMs))
    this.#out.findings.push({
      kind: 'gap',
      message: CHAIN.gapBefore(missing, voucher.successor, cursor.key),
      missing,
    })
    this.#out.coverage.push({
      start: Math.max(from, start - missing * this.#periodMs),
      end: start,
      missing: true,
    })
    return undefined
  }
}

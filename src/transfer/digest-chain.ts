/**
 * @module transfer/digest-chain
 * Writes a tracker's digest files (`is_support_validate`, spec/cts-api.md §10, format in
 * integrity/digest.ts): one per period even when no file was delivered, chained, signed.
 *
 * Schedule: period P (config, default 1 h). Digest ends are multiples of P since the epoch; the
 * starting digest begins when validation was switched on, each next one where the previous ended.
 * A digest lists the files whose delivery time (the time in their name) is in [start, end).
 * Turning validation off, disabling the tracker or removing its bucket writes an ending digest
 * (`digest_end: true`) up to that moment; turning it on again starts a new chain.
 *
 * Crash safety: a digest's bytes depend only on stored state (the chain state, the delivered
 * files of its period, the signing key valid at its end time; gzip and RSA PKCS#1 v1.5 are
 * deterministic), and its key on its end time. The object is put first and the chain state saved
 * after, so a crash in between rewrites the same object with the same bytes.
 */
import { gzipSync } from 'node:zlib'
import type { KeyObject } from 'node:crypto'
import {
  DIGEST_VERSION,
  HASH_ALGORITHM,
  SIGNATURE_ALGORITHM,
  digestJson,
  digestSigningString,
  sha256Hex,
  signDigest,
  type DigestDocument,
} from '../integrity/digest.js'
import type { Tracker } from '../model/index.js'
import type { TransferStore } from '../store/index.js'
import { digestFileKey, formatKeyTime } from './layout.js'
import type { ObjectSink } from './object-sink.js'

/** Chooses the signing key of a digest by its end time (see transfer/signing-keys.ts). */
export interface DigestSigner {
  keyFor(endTime: number): Promise<{ fingerprint: string; privateKey: KeyObject }>
}

/** The chain state kept (as JSON) in TransferState.digest. */
export interface ChainState {
  readonly v: 1
  /** Start of the next digest (ms, whole seconds). */
  readonly start: number
  /** The last digest written, or null before the starting digest. */
  readonly last: {
    readonly bucket: string
    readonly key: string
    readonly sha256: string
    readonly signature: string
    readonly end: boolean
  } | null
}

export function parseChainState(text: string | null): ChainState | null {
  if (text === null) return null
  const value = JSON.parse(text) as ChainState
  return value.v === 1 ? value : null
}

/** The end of the digest that starts at `start`: the next multiple of the period after it. */
export function digestEnd(start: number, periodMs: number): number {
  return (Math.floor(start / periodMs) + 1) * periodMs
}

export interface DigestWriterDeps {
  readonly transfer: TransferStore
  readonly sink: ObjectSink
  readonly signer: DigestSigner
  readonly region: string
  readonly periodSeconds: number
}

export interface FileNaming {
  readonly bucket: string
  readonly prefix: string
  readonly regionSegment: string
}

export class DigestWriter {
  readonly #deps: DigestWriterDeps

  constructor(deps: DigestWriterDeps) {
    this.#deps = deps
  }

  get periodMs(): number {
    return this.#deps.periodSeconds * 1000
  }

  /** Starts a chain at `now` (validation switched on). */
  async begin(tracker: Tracker, now: number): Promise<ChainState> {
    const state: ChainState = { v: 1, start: Math.floor(now / 1000) * 1000, last: null }
    await this.#deps.transfer.saveDigestState(tracker.id, JSON.stringify(state))
    return state
  }

  /**
   * Writes every digest whose end is at or before `now` (at most `max` per call); returns the state
   * after and how many were written. Throws the sink's errors (the stored state then stays at the
   * last digest written).
   */
  async writeDue(
    tracker: Tracker,
    state: ChainState,
    naming: FileNaming,
    now: number,
    max = 100,
  ): Promise<{ state: ChainState; written: number }> {
    let current = state
    let written = 0
    for (; written < max; written++) {
      const end = digestEnd(current.start, this.periodMs)
      if (end > now) break
      current = await this.#write(tracker, current, naming, end, false)
    }
    return { state: current, written }
  }

  /** Writes the ending digest up to `now` and clears the chain (validation off or no delivery). */
  async finish(
    tracker: Tracker,
    state: ChainState,
    naming: FileNaming,
    now: number,
  ): Promise<void> {
    const end = Math.floor(now / 1000) * 1000
    if (end > state.start) await this.#write(tracker, state, naming, end, true)
    await this.#deps.transfer.saveDigestState(tracker.id, null)
  }

  async #write(
    tracker: Tracker,
    state: ChainState,
    naming: FileNaming,
    end: number,
    ending: boolean,
  ): Promise<ChainState> {
    const { transfer, sink, signer, region } = this.#deps
    const files = await transfer.deliveredFiles(tracker.id, state.start, end)
    const key = digestFileKey({
      region,
      regionSegment: naming.regionSegment,
      tracker: tracker.tracker_name,
      prefix: naming.prefix,
      time: end,
    })
    const { fingerprint, privateKey } = await signer.keyFor(end)
    const last = state.last
    const doc: DigestDocument = {
      digest_version: DIGEST_VERSION,
      project_id: tracker.project_id,
      digest_start_time: formatKeyTime(state.start),
      digest_end_time: formatKeyTime(end),
      digest_period_seconds: this.#deps.periodSeconds,
      digest_bucket: naming.bucket,
      digest_object: key,
      digest_signature_algorithm: SIGNATURE_ALGORITHM,
      digest_public_key_fingerprint: fingerprint,
      digest_end: ending,
      previous_digest_bucket: last?.bucket ?? '',
      previous_digest_object: last?.key ?? '',
      previous_digest_hash_value: last?.sha256 ?? '',
      previous_digest_hash_algorithm: HASH_ALGORITHM,
      previous_digest_signature: last?.signature ?? '',
      previous_digest_end: last?.end ?? false,
      log_files: files.map((f) => ({
        bucket: f.bucket,
        object: f.key,
        log_hash_value: f.sha256,
        log_hash_algorithm: HASH_ALGORITHM,
        trace_count: f.traceCount,
        oldest_trace_time: f.oldestTime,
        newest_trace_time: f.newestTime,
      })),
    }
    const body = gzipSync(Buffer.from(digestJson(doc), 'utf8'))
    const sha256 = sha256Hex(body)
    const signature = signDigest(privateKey, digestSigningString(doc, sha256))
    await sink.put(naming.bucket, key, body, {
      signature,
      'signature-algorithm': SIGNATURE_ALGORITHM,
    })
    const next: ChainState = {
      v: 1,
      start: end,
      last: { bucket: naming.bucket, key, sha256, signature, end: ending },
    }
    await transfer.saveDigestState(tracker.id, JSON.stringify(next))
    await transfer.purgeDeliveredFiles(tracker.id, end)
    return next
  }
}

/**
 * @module log/log-service
 * What the log API answers: checkpoints, inclusion proofs of a trace against a checkpoint,
 * consistency proofs between two tree sizes, and the public keys. Hashes are lowercase hex (as in
 * the test vectors and digest files); a checkpoint also carries its signed note, the form a third
 * party keeps and verifies.
 */
import { ctsError } from '../errors/index.js'
import { consistencyProof, inclusionProof, leafHash } from '../integrity/merkle.js'
import { leafTextOf } from '../model/trace-leaf.js'
import type { TraceRecord } from '../model/index.js'
import type { MerkleLogStore, StoredCheckpoint } from '../store/index.js'
import type { LogKeyView, LogKeys } from './log-keys.js'

/** A checkpoint as the API answers it. */
export interface CheckpointView {
  readonly origin: string
  readonly tree_size: number
  readonly root_hash: string
  /** Signing time, epoch ms. */
  readonly timestamp: number
  /** The signed note (integrity/checkpoint format), to keep and verify. */
  readonly note: string
}

export interface InclusionView {
  readonly trace_id: string
  readonly leaf_index: number
  readonly tree_size: number
  readonly leaf_hash: string
  /** Sibling hashes from the leaf up (RFC 6962 audit path). */
  readonly audit_path: string[]
  readonly checkpoint: CheckpointView
  /** The stored trace: its leaf is the canonical JSON of these fields plus `_leaf_version`. */
  readonly trace: TraceRecord
}

export interface ConsistencyView {
  readonly first: number
  readonly second: number
  readonly proof: string[]
}

export function checkpointView(cp: StoredCheckpoint): CheckpointView {
  return {
    origin: `opencts/${cp.projectId}`,
    tree_size: cp.size,
    root_hash: cp.root.toString('hex'),
    timestamp: cp.time,
    note: cp.note,
  }
}

const hex = (hashes: Buffer[]): string[] => hashes.map((h) => h.toString('hex'))

export interface LogServiceDeps {
  readonly store: MerkleLogStore
  readonly keys: LogKeys
  /** False when the server runs with the log off: every call answers OCTS_ERR_LOG_OFF. */
  readonly enabled: boolean
}

export class LogService {
  readonly #deps: LogServiceDeps

  constructor(deps: LogServiceDeps) {
    this.#deps = deps
  }

  #on(): MerkleLogStore {
    if (!this.#deps.enabled)
      throw ctsError('OCTS_ERR_LOG_OFF', 'The verifiable log is off (OPENCTS_MERKLE_LOG=false).')
    return this.#deps.store
  }

  /** The latest checkpoint, or the one of exactly `treeSize` leaves. */
  async checkpoint(projectId: string, treeSize?: number): Promise<StoredCheckpoint> {
    const store = this.#on()
    const cp =
      treeSize === undefined
        ? await store.latestCheckpoint(projectId)
        : await store.checkpointAt(projectId, treeSize)
    if (cp === undefined)
      throw ctsError(
        'OCTS_ERR_CHECKPOINT_NOT_FOUND',
        treeSize === undefined
          ? `Project ${projectId} has no checkpoint yet: the first is signed within a second of its first trace.`
          : `Project ${projectId} has no checkpoint of tree size ${treeSize}.`,
      )
    return cp
  }

  /** Checkpoints with tree size > `afterSize`, smallest first. */
  async checkpoints(
    projectId: string,
    afterSize: number,
    limit: number,
  ): Promise<CheckpointView[]> {
    return (await this.#on().listCheckpoints(projectId, afterSize, limit)).map(checkpointView)
  }

  /** Inclusion proof of a trace against the checkpoint of `treeSize` (default: the latest). */
  async inclusion(projectId: string, traceId: string, treeSize?: number): Promise<InclusionView> {
    const store = this.#on()
    const cp = await this.checkpoint(projectId, treeSize)
    const leaf = await store.leafOf(projectId, traceId)
    if (leaf === undefined)
      throw ctsError(
        'OCTS_ERR_LEAF_NOT_FOUND',
        `Trace ${traceId} is not in the log of project ${projectId} (unknown, or stored while the log was off).`,
      )
    const index = leaf.leafIndex
    if (index >= cp.size)
      throw ctsError(
        'OCTS_ERR_LEAF_NOT_FOUND',
        `Trace ${traceId} is leaf ${index}, not in the tree of size ${cp.size}; the next checkpoint will hold it.`,
      )
    const path = await store.withNodes(projectId, (node) => inclusionProof(index, cp.size, node))
    return {
      trace_id: traceId,
      leaf_index: index,
      tree_size: cp.size,
      leaf_hash: leafHash(leafTextOf(leaf.document)).toString('hex'),
      audit_path: hex(path),
      checkpoint: checkpointView(cp),
      trace: leaf.trace,
    }
  }

  /** Consistency proof between tree sizes `first` and `second` (default: the latest checkpoint). */
  async consistency(projectId: string, first: number, second?: number): Promise<ConsistencyView> {
    const store = this.#on()
    const to = second ?? (await this.checkpoint(projectId)).size
    const size = await store.treeSize(projectId)
    if (first < 1 || first > to)
      throw ctsError(
        'OCTS_ERR_PROOF_INVALID',
        `first (${first}) must be at least 1 and at most second (${to}).`,
      )
    if (to > size)
      throw ctsError(
        'OCTS_ERR_PROOF_INVALID',
        `second (${to}) is larger than the log of project ${projectId} (${size} leaves).`,
      )
    const proof = await store.withNodes(projectId, (node) => consistencyProof(first, to, node))
    return { first, second: to, proof: hex(proof) }
  }

  publicKeys(): Promise<LogKeyView[]> {
    this.#on()
    return this.#deps.keys.publicKeys()
  }
}

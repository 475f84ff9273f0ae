/**
 * @module store/ports/merkle-log
 * The Merkle log port: per-project trees of stored traces, checkpoints, log keys, audit reads.
 */
import type { TraceRecord } from '../../model/index.js'

/** Reads the hash of the complete subtree of 2^level leaves starting at leaf index * 2^level. */
export type MerkleNodeReader = (level: number, index: number) => Buffer

/**
 * The encoding and hashing of the per-project Merkle log, injected into a store by the composition
 * root (store/ does not import integrity/): the canonical document stored for a trace, the leaf
 * hash of a stored document, and `appendLeaf` of integrity/merkle.
 */
export interface MerkleHashing {
  /** The document stored for a trace (its canonical text; it decodes back to the trace). */
  document(trace: TraceRecord): string
  /** The leaf hash of a stored document. */
  leafHash(document: string): Buffer
  /**
   * The leaf hashes of many documents, in order, computed off the event loop (the store awaits
   * them before its write transaction); optional, `leafHash` is used without it.
   */
  leafHashes?(documents: readonly string[]): Promise<Buffer[]>
  /** The complete subtrees `[level, index, hash]` completed by appending leaf `index` (the old size). */
  appendLeaf(index: number, leaf: Buffer, node: MerkleNodeReader): [number, number, Buffer][]
}

/**
 * The per-project Merkle log of stored traces: each newly stored trace is appended as a leaf in the
 * transaction that stores it, in commit order. Empty (size 0) when the store was opened without
 * MerkleHashing (the log is off).
 */
export interface MerkleLogStore {
  /**
   * The lowest level of the complete subtrees the engine stores (0: every level, leaf hashes
   * included). The nodes below it are recomputed from the stored documents when read (`withNodes`
   * still gives every level): an audit compares only the nodes of this level and above with the
   * ones it recomputes, since a recomputed node agrees with the documents by construction.
   */
  readonly minStoredLevel: number
  /** Tree size of the project (0 when no leaf). */
  treeSize(projectId: string): Promise<number>
  /**
   * Complete-subtree hash reader of the project's tree, valid for sizes <= treeSize at the time of
   * the call (synchronous reads inside; for proofs and checkpoint roots). Nodes below
   * `minStoredLevel` are recomputed from the leaves' stored documents. `node` throws
   * OCTS_ERR_READ_FAILED for a subtree that is not stored, or whose documents are not all stored.
   */
  withNodes<T>(projectId: string, fn: (node: MerkleNodeReader, size: number) => T): Promise<T>
  /** The leaf index of a stored trace, or undefined. */
  leafIndexOf(projectId: string, traceId: string): Promise<number | undefined>
  /** The stored trace of a trace id with its leaf index and document; undefined without a leaf. */
  leafOf(projectId: string, traceId: string): Promise<StoredLeaf | undefined>
  /** The stored trace at a leaf index with its document, or undefined (a scan of the project). */
  leafAt(projectId: string, leafIndex: number): Promise<StoredLeaf | undefined>

  /** Projects whose tree has grown past their latest checkpoint, with their current size. */
  uncheckpointed(): Promise<{ projectId: string; size: number }[]>
  /** Stores a signed checkpoint; one of a given (project, size) is kept (a repeat is ignored). */
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>
  /** The project's checkpoint of the largest size, or undefined. */
  latestCheckpoint(projectId: string): Promise<StoredCheckpoint | undefined>
  /** The project's checkpoint of exactly `size` leaves, or undefined. */
  checkpointAt(projectId: string, size: number): Promise<StoredCheckpoint | undefined>
  /** The project's checkpoints with size > `afterSize`, smallest first, at most `limit`. */
  listCheckpoints(projectId: string, afterSize: number, limit: number): Promise<StoredCheckpoint[]>
  /** Every project that has a log (size > 0), sorted. */
  logProjects(): Promise<string[]>
  /**
   * Thins checkpoints signed before `before`: of each project's checkpoints of one `spanMs`
   * period, only the largest is kept (and so every project's latest). Returns how many went.
   */
  thinCheckpoints(before: number, spanMs: number): Promise<number>

  /** Stores a checkpoint signing key. Throws OCTS_ERR_KEY_EXISTS when the key id is taken. */
  insertLogKey(key: LogKeyRecord): Promise<void>
  /** Every checkpoint signing key, oldest first. */
  listLogKeys(): Promise<LogKeyRecord[]>

  /**
   * Reads the stored trace rows for an audit (verify --store): every project's, with a leaf index
   * or none, in commit order, after commit position `afterSeq`, at most `limit`.
   */
  auditRows(afterSeq: number, limit: number): Promise<AuditRow[]>
  /**
   * The hash of a leaf as stored apart from its document (the level-0 node), to compare with the
   * document's own hash; undefined when it is not stored, and always when `minStoredLevel` > 0
   * (a hash recomputed from the document is not a stored one: comparing it would prove nothing).
   */
  storedLeafHash(projectId: string, leafIndex: number): Promise<Buffer | undefined>
}

/** A trace of the log with the exact document stored for it. */
export interface StoredLeaf {
  readonly leafIndex: number
  readonly trace: TraceRecord
  /** The stored document text (canonical when the log wrote it). */
  readonly document: string
}

/** A signed checkpoint as stored: the note text and its parsed fields. */
export interface StoredCheckpoint {
  readonly projectId: string
  readonly size: number
  /** 32-byte root hash. */
  readonly root: Buffer
  /** Signing time, epoch ms (the note's `time` line). */
  readonly time: number
  /** The full signed note (integrity/checkpoint format). */
  readonly note: string
}

/** An Ed25519 key that signs checkpoints. */
export interface LogKeyRecord {
  /** Lowercase hex of the 4-byte C2SP key id. */
  readonly keyId: string
  readonly keyName: string
  /** PEM SubjectPublicKeyInfo. */
  readonly publicKey: string
  /** PKCS#8 DER base64 of the private key, sealed with the master key (bound to `log:{keyId}`). */
  readonly sealedPrivateKey: string
  readonly createdAt: number
}

/** One stored trace row as an audit reads it. */
export interface AuditRow {
  /** Commit position (`traces.seq`). */
  readonly seq: number
  readonly projectId: string
  readonly traceId: string
  /** Null when the trace was stored while the log was off (or inserted behind the log's back). */
  readonly leafIndex: number | null
  /** The stored document text. */
  readonly document: string
  /**
   * False when an indexed column (time, names, ids, user…) disagrees with the document, or the
   * document is not JSON: the row was edited outside OpenCTS.
   */
  readonly columnsMatch: boolean
}

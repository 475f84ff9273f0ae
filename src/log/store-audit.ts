/**
 * @module log/store-audit
 * The audit of a store against its own verifiable log (`opencts verify --store`): every stored
 * trace row is re-read and re-hashed, every project's tree is recomputed from the stored documents
 * and compared with the stored leaf hashes, the stored tree and every signed checkpoint. It goes
 * through the store port only (`MerkleLogStore.auditRows` and the node/checkpoint reads), streams
 * the rows in commit order, page by page, and keeps O(log n) hashes per project (plus what it
 * reports), never the rows.
 *
 * Per project, in commit order:
 * - each logged row's document must be canonical (`traceDocument(JSON.parse(doc)) === doc`), its
 *   indexed columns must agree with it, and its leaf hash must equal the stored leaf hash of its
 *   leaf index, else CHANGED; a row whose hash is the stored hash of another leaf is REORDERED
 *   ("holds the content of leaf j");
 * - leaf indexes must come in commit order: one below an earlier row's is REORDERED ("out of commit
 *   order"), one already held DUPLICATES it (REORDERED), one at or past the stored tree size is
 *   INSERTED; indexes no row holds are DELETED, unless a checkpoint signed more than the retention
 *   before `now` already covered them (then retention deleted them: `expired`, not a finding);
 * - a row without a leaf index is "not in the log" (stored while the log was off: not a finding)
 *   before the first logged row of any project, and INSERTED ("behind the log") after it (the log
 *   is on for every project at once);
 * - a row whose commit position no commit gives (below 1, or the seq of another row: a forged
 *   block or row) is INSERTED; rows are read from below every seq so that such rows are read too;
 * - the tree is recomputed leaf by leaf (integrity/streaming-root): leaf i is the hash of the
 *   first row that holds index i, in commit order, or the stored leaf hash when no row holds it
 *   (reported as deleted). At each checkpoint's size its root must equal the signed root, and the
 *   note must verify (Ed25519, see Trust) (CHECKPOINT findings): this catches an edited document
 *   even when its stored leaf hash and every ancestor node were rewritten too. Every complete
 *   subtree of the recomputed tree must equal the stored node at its place (what proofs are built
 *   from), and at the end the root must equal the root of the stored nodes (TREE findings).
 * Checkpoint notes saved elsewhere (`checkpoints`) are verified and compared the same way.
 *
 * Engines that do not store the low levels (`minStoredLevel` > 0: SQLite keeps levels >= 4) have
 * no leaf hash apart from the document: the per-row leaf hash comparison and its REORDERED
 * classification ("holds the content of leaf j") are skipped, and an edited, moved, deleted or
 * inserted document shows as a complete subtree of the lowest stored level (16 leaves) that
 * differs from its stored node: a CHANGED finding naming the leaf range and the trace ids in it,
 * besides the checkpoints after it. Leaves without a row inside a group of 16 are bridged with the
 * group's stored node (the group's other rows are then not checked; checkpoints whose size falls
 * inside such a group cannot be compared: a note, not a finding, since the leaf is reported
 * deleted or retention explains it).
 *
 * Trust: checkpoints are verified with the published keys when given (`trustedKeys`), else with
 * the public keys stored in the same file (whoever rewrote the file could have added one: the
 * report lists their ids to compare with the published ones). Notes kept outside the file are the
 * stronger anchor: they cannot be deleted with the file's checkpoints.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { checkpointOrigin, parseCheckpoint, verifyCheckpoint } from '../integrity/checkpoint.js'
import { rootHash } from '../integrity/merkle.js'
import { StreamingRoot } from '../integrity/streaming-root.js'
import type { TraceRecord } from '../model/index.js'
import { traceDocument } from '../model/trace-leaf.js'
import type { AuditRow, MerkleLogStore } from '../store/index.js'
import { documentLeafHash } from './trace-log-hashing.js'
import type { LogKeyInput } from './verify-proofs.js'

/** Kinds of findings, in report order. */
export const STORE_FINDING_KINDS = [
  'changed',
  'deleted',
  'reordered',
  'inserted',
  'checkpoint',
  'tree',
] as const
export type StoreFindingKind = (typeof STORE_FINDING_KINDS)[number]

/** One finding; `message` starts with a fixed phrase (see STORE_REASON). */
export interface StoreFinding {
  readonly kind: StoreFindingKind
  readonly projectId: string
  readonly message: string
  /** Row findings: the trace, its commit position and its leaf index (when it has one). */
  readonly traceId?: string
  readonly seq?: number
  readonly leafIndex?: number
  /** Deleted leaves: the first and last index of the range and their count. */
  readonly from?: number
  readonly to?: number
  readonly count?: number
  /** Checkpoint findings: the checkpoint's tree size and where it came from (`store` or a file). */
  readonly treeSize?: number
  readonly source?: string
}

/** A checkpoint note kept outside the store, and where it was read from (for messages). */
export interface ExternalCheckpoint {
  readonly source: string
  readonly note: string
}

export interface StoreAuditProgress {
  /** Rows read so far (every project's). */
  readonly rows: number
  /** Commit position of the last row read. */
  readonly seq: number
  /** The highest commit position, when the caller gave it. */
  readonly headSeq?: number
}

export interface StoreAuditOptions {
  /** Epoch ms; with `retentionMs`, decides which deleted leaves retention explains. */
  readonly now: number
  /** The server's retention; without it every leaf without a row is a finding. */
  readonly retentionMs?: number
  /** Audit this project only. */
  readonly projectId?: string
  /** Checkpoint notes saved elsewhere, compared too. */
  readonly checkpoints?: readonly ExternalCheckpoint[]
  /**
   * The published checkpoint keys (`GET /v3/{project_id}/log/keys`, checked by parseLogKeysFile):
   * checkpoints are then verified with these only, not with the keys stored in the audited file.
   */
  readonly trustedKeys?: readonly LogKeyInput[]
  /** The highest commit position (`TraceStore.headSeq`), for progress. */
  readonly headSeq?: number
  /** Rows per `auditRows` call (default 1000). */
  readonly pageSize?: number
  /** Findings kept in the report (default 1000); every finding is counted. */
  readonly maxFindings?: number
  readonly onProgress?: (progress: StoreAuditProgress) => void
}

export interface ProjectAudit {
  readonly projectId: string
  /** Size of the stored tree (`merkle_trees`). */
  readonly treeSize: number
  /** Rows of the project, with a leaf index, and without one before its first logged row. */
  readonly rows: number
  readonly logged: number
  readonly notInLog: number
  /** Leaves without a row that retention explains, and those it does not (findings). */
  readonly expired: number
  readonly deleted: number
  /** Checkpoints compared with the recomputed tree: stored ones and ones from files. */
  readonly checkpoints: number
  readonly externalCheckpoints: number
  /**
   * Size of the largest checkpoint compared: leaves past it are covered by no checkpoint (stored
   * in the last second before the snapshot, or their checkpoints were deleted).
   */
  readonly covered: number
  /** Hex root recomputed for `treeSize` leaves; null when it could not be. */
  readonly recomputedRoot: string | null
  readonly findings: number
}

export interface StoreAuditReport {
  /** True exactly when there is no finding. */
  readonly ok: boolean
  /** Rows read of the audited projects. */
  readonly rows: number
  readonly projects: ProjectAudit[]
  /** The checkpoint keys stored in the file. */
  readonly keys: { readonly keyName: string; readonly keyId: string; readonly createdAt: number }[]
  /** What checkpoints were verified with: the keys stored in the file, or `trustedKeys`. */
  readonly keysFrom: 'store' | 'trusted'
  /** Findings, at most `maxFindings`, by project, kind and position. */
  readonly findings: StoreFinding[]
  readonly findingCounts: Record<StoreFindingKind, number>
  /** Findings counted but not listed. */
  readonly findingsLeftOut: number
  /** Facts worth telling that are not findings. */
  readonly notes: string[]
}

/** The first commit position every engine gives (seqs count from 1). */
const FIRST_SEQ = 1
/** Where the audit starts reading: below every commit position, so forged ones are read too. */
const READ_FROM = Number.MIN_SAFE_INTEGER
const DEFAULT_PAGE_SIZE = 1000
const DEFAULT_MAX_FINDINGS = 1000
const CHECKPOINT_PAGE = 256
/** Hash mismatches looked up among all stored leaves (to name the leaf whose content a row holds). */
const MAX_LOOKUPS = 10_000
const SCAN_CHUNK = 4096
/** Recomputed nodes compared with the stored ones per read. */
const NODE_BATCH = 1024
/** Duplicated leaves whose first holder is looked up (one unindexed read each). */
const MAX_HOLDER_LOOKUPS = 100

/** 16 hex characters of a hash: enough to tell two values apart in a message. */
const short = (hash: Buffer): string => `${hash.toString('hex').slice(0, 16)}…`

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error)

/** Every reason the audit gives; each starts with a fixed text. */
export const STORE_REASON = {
  leafHash: 'leaf hash differs from the stored leaf hash (the document was edited)',
  columns: 'indexed columns disagree with the document',
  notJson: 'document is not a JSON object',
  notCanonical: 'document is not in canonical form',
  notEncodable: (detail: string) => `document cannot be encoded: ${detail}`,
  contentOf: (leaf: number) => `holds the content of leaf ${leaf}`,
  outOfOrder: (leaf: number, after: number) =>
    `out of commit order: leaf ${leaf} is stored after leaf ${after}`,
  duplicates: (leaf: number, other: string | undefined) =>
    `duplicates leaf ${leaf}${other === undefined ? '' : ` (held by trace ${other})`}`,
  behindLog: (leaf: number) =>
    `stored without a leaf index after leaf ${leaf} of the log (inserted behind the log)`,
  behindStoreLog: 'stored without a leaf index after the log was on (inserted behind the log)',
  seqBelow: (seq: number) =>
    `commit position ${seq} is below the first one (${FIRST_SEQ}): no commit gives it`,
  seqTwice: (seq: number) =>
    `commit position ${seq} is held by another trace too: no commit gives it twice`,
  beyondTree: (leaf: number, size: number) =>
    `leaf index ${leaf} is beyond the stored tree of ${size} leaves`,
  deleted: (from: number, to: number) =>
    from === to
      ? `leaf ${from} has no row (deleted)`
      : `leaves ${from}-${to} have no row (deleted)`,
  checkpointMismatch: (size: number, signed: Buffer, recomputed: Buffer) =>
    `checkpoint of size ${size} does not match the recomputed tree (signed root ${short(signed)}, recomputed ${short(recomputed)})`,
  checkpointInvalid: (size: number | undefined, detail: string) =>
    `checkpoint${size === undefined ? '' : ` of size ${size}`} does not verify: ${detail}`,
  checkpointRow: (rowSize: number, noteSize: number) =>
    `stored checkpoint row of size ${rowSize} differs from its signed note (size ${noteSize})`,
  checkpointBeyond: (size: number, treeSize: number) =>
    treeSize === 0
      ? `checkpoint of size ${size}: the store has no log of this project`
      : `checkpoint of size ${size} is larger than the stored tree of ${treeSize} leaves`,
  notCompared: (count: number, reason: string) =>
    `${count} checkpoint${count === 1 ? '' : 's'} could not be compared: ${reason}`,
  nodeMissing: (from: number, detail: string) =>
    `the tree cannot be recomputed past leaf ${from}: ${detail}`,
  storedRootMissing: (detail: string) => `the stored tree root cannot be computed: ${detail}`,
  groupDiffers: (
    level: number,
    index: number,
    first: number,
    last: number,
    ids: readonly string[],
  ) =>
    `leaves ${first}-${last} do not give the stored node (level ${level}, index ${index}): a document among them was edited, moved, deleted or inserted, or merkle_nodes was edited (traces ${ids.join(', ')})`,
  inGap: (from: number, to: number) =>
    `their size falls inside leaves ${from}-${to}, a group with a leaf without row whose lower Merkle levels are not stored`,
  nodeDiffers: (level: number, index: number, first: number, last: number) =>
    `stored node (level ${level}, index ${index}) differs from the one the documents give (leaves ${first}-${last}; merkle_nodes were edited)`,
  nodeMissingAt: (level: number, index: number, detail: string) =>
    `stored node (level ${level}, index ${index}) cannot be read: ${detail}`,
  leafHashMissing: (leaf: number) => `leaf ${leaf} has no stored leaf hash`,
  treeRoot: (size: number, stored: Buffer, recomputed: Buffer) =>
    `the stored tree of ${size} leaves has root ${short(stored)}, the documents give ${short(recomputed)} (merkle_nodes were edited)`,
} as const

/** Sorted, disjoint leaf ranges [from, to), appended in order; a leaf can be taken out again. */
class RangeList {
  /** Flat pairs: from0, to0, from1, to1, … */
  readonly #flat: number[] = []
  #count = 0

  get count(): number {
    return this.#count
  }

  /** Adds [from, to); `from` is at or after the end of every range added before. */
  add(from: number, to: number): void {
    if (to <= from) return
    const last = this.#flat.length - 1
    if (last > 0 && this.#flat[last] === from) this.#flat[last] = to
    else this.#flat.push(from, to)
    this.#count += to - from
  }

  /** Takes `leaf` out; false when no range holds it. */
  remove(leaf: number): boolean {
    let lo = 0
    let hi = this.#flat.length / 2 - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const from = this.#flat[mid * 2] ?? 0
      const to = this.#flat[mid * 2 + 1] ?? 0
      if (leaf < from) hi = mid - 1
      else if (leaf >= to) lo = mid + 1
      else {
        const pieces: number[] = []
        if (leaf > from) pieces.push(from, leaf)
        if (leaf + 1 < to) pieces.push(leaf + 1, to)
        this.#flat.splice(mid * 2, 2, ...pieces)
        this.#count--
        return true
      }
    }
    return false
  }

  /** The ranges as [first, last] (inclusive). */
  *ranges(): Generator<[number, number]> {
    for (let i = 0; i + 1 < this.#flat.length; i += 2)
      yield [this.#flat[i] ?? 0, (this.#flat[i + 1] ?? 0) - 1]
  }
}

/** A checkpoint ready to compare: the signed size and root, and whether its signature verified. */
interface QueuedCheckpoint {
  readonly size: number
  readonly root: Buffer
  readonly time: number
  readonly verified: boolean
  readonly source: string
}

/** A row whose leaf hash differs from the stored one, classified at the end. */
interface Mismatch {
  readonly traceId: string
  readonly seq: number
  readonly leafIndex: number
  readonly hash: Buffer
}

interface AuditContext {
  readonly merkle: MerkleLogStore
  /** The keys checkpoints are verified with, by name. */
  readonly keys: ReadonlyMap<string, readonly KeyObject[]>
  /** Leaves covered by a verified checkpoint signed at or before this time are expired. */
  readonly horizon: number | undefined
  emit(finding: StoreFinding): void
  /** Adds a fact that is not a finding to the report. */
  note(text: string): void
}

/**
 * Verifies a note's origin and signature with `keys` (matched on key name and key id; lines of
 * other keys are ignored): undefined when one verifies, else why not.
 */
function noteProblem(
  note: string,
  projectId: string,
  keys: ReadonlyMap<string, readonly KeyObject[]>,
): string | undefined {
  let origin: string
  try {
    origin = checkpointOrigin(projectId)
  } catch (error) {
    return errorText(error)
  }
  let signatures
  try {
    signatures = parseCheckpoint(note).signatures
  } catch (error) {
    return errorText(error)
  }
  let failure: string | undefined
  for (const { keyName } of signatures)
    for (const key of keys.get(keyName) ?? []) {
      try {
        verifyCheckpoint(note, keyName, key, origin)
        return undefined
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (code !== 'unknown-key') failure = errorText(error)
      }
    }
  if (failure !== undefined) return failure
  const named = signatures.map((s) => `${s.keyName} (id ${s.keyId.toString('hex')})`).join(', ')
  return `signed by ${named}: not a known key`
}

/** The audit state of one project. */
class ProjectAuditor {
  readonly projectId: string
  readonly treeSize: number
  readonly #ctx: AuditContext
  #tree = new StreamingRoot()
  /** The lowest stored level, and its width in leaves (1 when every level is stored). */
  readonly #low: number
  readonly #group: number
  /** The tree at the last multiple of #group leaves (#low > 0), to resume from over a gap. */
  #coarse = new StreamingRoot()
  /** First leaf of the group of #group leaves with a leaf without row, until the group ends. */
  #gap: number | undefined
  /** Checkpoints whose size falls inside a gap's group, and the last such gap (for messages). */
  #gapUncompared = 0
  #gapRange: [number, number] = [0, 0]
  /** Trace ids of the leaves pushed and not yet compared in a stored node (#low > 0). */
  #ids = new Map<number, string>()
  /** The next leaf index the recomputed tree expects (its size unless broken). */
  #next = 0
  /** Why the tree cannot be recomputed further, once a stored node is missing. */
  #broken: string | undefined
  #uncompared = 0
  /** Leaf index of the last row in commit order, and whether any logged row was seen. */
  #lastLeaf = -1
  #logged = false
  rows = 0
  logged = 0
  notInLog = 0
  findings = 0
  readonly #deleted = new RangeList()
  readonly #expired = new RangeList()
  readonly #stored: QueuedCheckpoint[] = []
  #storedAfter = -1
  #storedDone = false
  #storedCompared = 0
  readonly #external: QueuedCheckpoint[]
  #externalAt = 0
  #externalCompared = 0
  #covered = 0
  #holderLookups = 0
  readonly #mismatches: Mismatch[] = []
  /** Leaf indexes of #mismatches, sorted: their ancestors differ from the stored nodes anyway. */
  readonly #mismatchedLeaves: number[] = []
  /** Complete subtrees of the recomputed tree, to compare with the stored nodes in batches. */
  #nodes: [number, number, Buffer][] = []
  /** Stored leaf hashes of the rows of the current page (read in one go by `prefetch`). */
  #leafHashes = new Map<number, Buffer>()
  #nodeFindings = 0
  #recomputedRoot: Buffer | undefined

  constructor(
    ctx: AuditContext,
    projectId: string,
    treeSize: number,
    external: QueuedCheckpoint[],
  ) {
    this.#ctx = ctx
    this.projectId = projectId
    this.treeSize = treeSize
    this.#external = [...external].sort((a, b) => a.size - b.size)
    this.#low = ctx.merkle.minStoredLevel
    this.#group = 2 ** this.#low
  }

  #emit(finding: Omit<StoreFinding, 'projectId'>): void {
    this.findings++
    this.#ctx.emit({ projectId: this.projectId, ...finding })
  }

  #rowFinding(kind: StoreFindingKind, row: AuditRow, message: string): void {
    this.#emit({
      kind,
      message,
      traceId: row.traceId,
      seq: row.seq,
      ...(row.leafIndex === null ? {} : { leafIndex: row.leafIndex }),
    })
  }

  /** Reads the next page of stored checkpoints, checking each note. */
  async #readCheckpoints(): Promise<void> {
    const page = await this.#ctx.merkle.listCheckpoints(
      this.projectId,
      this.#storedAfter,
      CHECKPOINT_PAGE,
    )
    if (page.length < CHECKPOINT_PAGE) this.#storedDone = true
    for (const stored of page) {
      this.#storedAfter = stored.size
      let signed
      try {
        signed = parseCheckpoint(stored.note).checkpoint
      } catch (error) {
        this.#emit({
          kind: 'checkpoint',
          message: STORE_REASON.checkpointInvalid(stored.size, errorText(error)),
          treeSize: stored.size,
          source: 'store',
        })
        continue
      }
      if (signed.size !== stored.size || !signed.root.equals(stored.root)) {
        this.#emit({
          kind: 'checkpoint',
          message: STORE_REASON.checkpointRow(stored.size, signed.size),
          treeSize: stored.size,
          source: 'store',
        })
        if (signed.size !== stored.size) continue
      }
      const problem = noteProblem(stored.note, this.projectId, this.#ctx.keys)
      if (problem !== undefined)
        this.#emit({
          kind: 'checkpoint',
          message: STORE_REASON.checkpointInvalid(signed.size, problem),
          treeSize: signed.size,
          source: 'store',
        })
      this.#stored.push({
        size: signed.size,
        root: signed.root,
        time: signed.time,
        verified: problem === undefined,
        source: 'store',
      })
    }
  }

  /** The stored checkpoint of the smallest size not yet compared. */
  async #storedHead(): Promise<QueuedCheckpoint | undefined> {
    // Bounded: each read either fills the queue or ends the list.
    while (this.#stored.length === 0 && !this.#storedDone) await this.#readCheckpoints()
    return this.#stored[0]
  }

  /** Compares every checkpoint of the size the tree has reached. */
  async #reach(): Promise<void> {
    for (let head = await this.#storedHead(); head !== undefined && head.size <= this.#next;) {
      this.#stored.shift()
      if (this.#compare(head)) this.#storedCompared++
      head = await this.#storedHead()
    }
    for (
      let ext = this.#external[this.#externalAt];
      ext !== undefined && ext.size <= this.#next;
      ext = this.#external[++this.#externalAt]
    )
      if (this.#compare(ext)) this.#externalCompared++
  }

  /** Compares a checkpoint of the current size; false when the tree cannot be recomputed. */
  #compare(checkpoint: QueuedCheckpoint): boolean {
    if (this.#broken === undefined && this.#gap !== undefined) {
      this.#gapUncompared++
      return false
    }
    if (this.#broken !== undefined || checkpoint.size !== this.#tree.size) {
      this.#uncompared++
      return false
    }
    const root = this.#tree.root()
    this.#covered = Math.max(this.#covered, checkpoint.size)
    if (!root.equals(checkpoint.root))
      this.#emit({
        kind: 'checkpoint',
        message: STORE_REASON.checkpointMismatch(checkpoint.size, checkpoint.root, root),
        treeSize: checkpoint.size,
        source: checkpoint.source,
      })
    return true
  }

  /** Compares the checkpoints of an empty tree. */
  start(): Promise<void> {
    return this.#reach()
  }

  /**
   * Leaves [#next, target) have no row: records them (expired or deleted) and continues the tree
   * with their stored hashes, stopping at each checkpoint size to compare.
   */
  async #skipTo(target: number): Promise<void> {
    // Bounded: every turn moves #next forward (the next checkpoint is above it after #reach).
    while (this.#next < target) {
      const head = await this.#storedHead()
      const ext = this.#external[this.#externalAt]
      let end = target
      if (head !== undefined && head.size > this.#next) end = Math.min(end, head.size)
      if (ext !== undefined && ext.size > this.#next) end = Math.min(end, ext.size)
      const horizon = this.#ctx.horizon
      const expired =
        horizon !== undefined && head !== undefined && head.verified && head.time <= horizon
      ;(expired ? this.#expired : this.#deleted).add(this.#next, end)
      if (this.#broken === undefined) await this.#pushStored(this.#next, end)
      this.#next = end
      await this.#reach()
    }
  }

  /**
   * Leaves [from, to) have no row: continues the tree with their stored hashes. When the low levels
   * are not stored, a group holding such a leaf is bridged at its end with the group's stored node.
   */
  async #pushStored(from: number, to: number): Promise<void> {
    if (this.#low === 0) return this.#pushStoredNodes(from, to)
    let at = from
    if (this.#gap === undefined && at % this.#group !== 0) this.#gap = at - (at % this.#group)
    if (this.#gap !== undefined) {
      const end = this.#gap + this.#group
      if (to < end) return
      await this.#closeGap()
      at = end
    }
    const whole = to - (to % this.#group)
    if (at < whole) await this.#pushStoredNodes(at, whole)
    if (whole < to && this.#broken === undefined) this.#gap = whole
  }

  /** The group of the gap ends: the tree resumes from its start with the group's stored node. */
  async #closeGap(): Promise<void> {
    const start = this.#gap ?? 0
    this.#gap = undefined
    this.#gapRange = [start, start + this.#group - 1]
    this.#tree = this.#coarse.clone()
    for (const leaf of this.#ids.keys()) if (leaf >= start) this.#ids.delete(leaf)
    await this.#pushStoredNodes(start, start + this.#group)
  }

  /** Keeps the tree of a multiple of #group leaves, to resume from after a gap. */
  #snapshot(): void {
    if (this.#low > 0 && this.#tree.size % this.#group === 0) this.#coarse = this.#tree.clone()
  }

  /** Pushes the stored hashes of leaves [from, to) as whole aligned subtrees. */
  async #pushStoredNodes(from: number, to: number): Promise<void> {
    try {
      const blocks = await this.#ctx.merkle.withNodes(this.projectId, (node) => {
        const out: [number, Buffer][] = []
        for (let at = from; at < to;) {
          let level = 0
          while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= to) level++
          out.push([level, node(level, at / 2 ** level)])
          at += 2 ** level
        }
        return out
      })
      for (const [level, hash] of blocks) this.#nodes.push(...this.#tree.pushSubtree(level, hash))
      this.#snapshot()
    } catch (error) {
      this.#breakAt(from, errorText(error))
    }
  }

  #breakAt(leaf: number, detail: string): void {
    this.#broken = detail
    this.#emit({ kind: 'tree', message: STORE_REASON.nodeMissing(leaf, detail), leafIndex: leaf })
  }

  /** Reads the stored leaf hashes of a page's rows of this project in one read. */
  async prefetch(leaves: readonly number[]): Promise<void> {
    if (this.#low > 0) return
    const inTree = leaves.filter((l) => Number.isSafeInteger(l) && l >= 0 && l < this.treeSize)
    this.#leafHashes = new Map()
    if (inTree.length === 0) return
    const hashes = await this.#ctx.merkle.withNodes(this.projectId, (node) =>
      inTree.map((leaf) => {
        try {
          return node(0, leaf)
        } catch {
          return undefined
        }
      }),
    )
    for (const [i, leaf] of inTree.entries()) {
      const hash = hashes[i]
      if (hash !== undefined) this.#leafHashes.set(leaf, hash)
    }
  }

  /**
   * Checks one row of this project (rows come in commit order); `seqProblem` is why its commit
   * position is one no commit gives, `afterLog` whether a logged row (of any project) came before.
   */
  async row(row: AuditRow, seqProblem: string | undefined, afterLog: boolean): Promise<void> {
    this.rows++
    if (seqProblem !== undefined) this.#rowFinding('inserted', row, seqProblem)
    if (!row.columnsMatch) this.#rowFinding('changed', row, STORE_REASON.columns)
    if (row.leafIndex === null) {
      if (this.#logged) this.#rowFinding('inserted', row, STORE_REASON.behindLog(this.#lastLeaf))
      // The log is on for every project at once: after any logged row, every row gets a leaf.
      else if (afterLog) this.#rowFinding('inserted', row, STORE_REASON.behindStoreLog)
      else this.notInLog++
      return
    }
    this.logged++
    this.#logged = true
    const problem = documentProblem(row.document)
    if (problem !== undefined) this.#rowFinding('changed', row, problem)
    const leaf = row.leafIndex
    if (!Number.isSafeInteger(leaf) || leaf < 0 || leaf >= this.treeSize) {
      this.#rowFinding('inserted', row, STORE_REASON.beyondTree(leaf, this.treeSize))
      return
    }
    const hash = documentLeafHash(row.document)
    if (leaf >= this.#next) {
      await this.#skipTo(leaf)
      this.#next = leaf + 1
      if (this.#broken === undefined && this.#gap === undefined) {
        if (this.#low > 0) this.#ids.set(leaf, row.traceId)
        this.#nodes.push(...this.#tree.push(hash))
        this.#snapshot()
      } else if (this.#broken === undefined && this.#next === (this.#gap ?? 0) + this.#group)
        await this.#closeGap()
      this.#lastLeaf = leaf
      await this.#reach()
    } else if (this.#deleted.remove(leaf) || this.#expired.remove(leaf)) {
      this.#rowFinding('reordered', row, STORE_REASON.outOfOrder(leaf, this.#lastLeaf))
    } else {
      let other: string | undefined
      if (this.#holderLookups++ < MAX_HOLDER_LOOKUPS)
        try {
          other = (await this.#ctx.merkle.leafAt(this.projectId, leaf))?.trace.trace_id
        } catch {
          other = undefined
        }
      this.#rowFinding(
        'reordered',
        row,
        STORE_REASON.duplicates(leaf, other === row.traceId ? undefined : other),
      )
    }
    // Without stored leaf hashes the stored nodes of 16 leaves and more are compared instead.
    const stored =
      this.#low > 0
        ? hash
        : (this.#leafHashes.get(leaf) ??
          (await this.#ctx.merkle.storedLeafHash(this.projectId, leaf)))
    if (stored === undefined) this.#rowFinding('tree', row, STORE_REASON.leafHashMissing(leaf))
    else if (!stored.equals(hash)) {
      this.#mismatches.push({ traceId: row.traceId, seq: row.seq, leafIndex: leaf, hash })
      const at = this.#firstMismatchAtOrAfter(leaf)
      if (this.#mismatchedLeaves[at] !== leaf) this.#mismatchedLeaves.splice(at, 0, leaf)
    }
    if (this.#nodes.length >= NODE_BATCH) await this.#checkNodes()
  }

  /** Position of the first mismatched leaf >= `leaf` in #mismatchedLeaves. */
  #firstMismatchAtOrAfter(leaf: number): number {
    let lo = 0
    let hi = this.#mismatchedLeaves.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((this.#mismatchedLeaves[mid] ?? 0) < leaf) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Compares the recomputed complete subtrees with the stored nodes at their places (what
   * inclusion and consistency proofs are built from). A node above a leaf whose hash already
   * differs is not reported again.
   */
  async #checkNodes(): Promise<void> {
    const batch = this.#nodes.filter(([level]) => level >= this.#low)
    this.#nodes = []
    const ids = this.#ids
    if (this.#low > 0) {
      // Keep the ids of the group not yet complete.
      const open = this.#tree.size - (this.#tree.size % this.#group)
      this.#ids = new Map([...ids].filter(([leaf]) => leaf >= open))
    }
    if (batch.length === 0) return
    const stored = await this.#ctx.merkle.withNodes(this.projectId, (node) =>
      batch.map(([level, index]) => {
        try {
          return node(level, index)
        } catch (error) {
          return errorText(error)
        }
      }),
    )
    for (const [i, [level, index, hash]] of batch.entries()) {
      const found = stored[i] ?? 'not read'
      const first = index * 2 ** level
      const last = first + 2 ** level - 1
      let message: string
      if (typeof found === 'string') message = STORE_REASON.nodeMissingAt(level, index, found)
      else if (found.equals(hash)) continue
      else if ((this.#mismatchedLeaves[this.#firstMismatchAtOrAfter(first)] ?? last + 1) <= last)
        continue
      else if (this.#low > 0 && level === this.#low) {
        this.#groupFinding(level, index, first, last, ids)
        continue
      } else message = STORE_REASON.nodeDiffers(level, index, first, last)
      this.#nodeFindings++
      this.#emit({ kind: 'tree', message, leafIndex: first })
    }
  }

  /**
   * A group of 16 leaves whose recomputed node differs from the stored one: CHANGED, naming the
   * range and its traces (the nodes above it are not reported again).
   */
  #groupFinding(
    level: number,
    index: number,
    first: number,
    last: number,
    ids: ReadonlyMap<number, string>,
  ): void {
    const traces: string[] = []
    for (let leaf = first; leaf <= last; leaf++) {
      const id = ids.get(leaf)
      if (id !== undefined) traces.push(id)
    }
    this.#mismatchedLeaves.splice(this.#firstMismatchAtOrAfter(first), 0, first)
    this.#nodeFindings++
    this.#emit({
      kind: 'changed',
      message: STORE_REASON.groupDiffers(level, index, first, last, traces),
      leafIndex: first,
      from: first,
      to: last,
      count: last - first + 1,
    })
  }

  /** After the last row: the tail, the remaining checkpoints, the stored root, the classifications. */
  async finish(): Promise<void> {
    await this.#skipTo(this.treeSize)
    for (let head = await this.#storedHead(); head !== undefined; head = await this.#storedHead()) {
      this.#stored.shift()
      this.#beyond(head)
    }
    for (const ext of this.#external.slice(this.#externalAt)) this.#beyond(ext)
    if (this.#broken !== undefined && this.#uncompared > 0)
      this.#emit({
        kind: 'checkpoint',
        message: STORE_REASON.notCompared(this.#uncompared, this.#broken),
      })
    // Not a finding: the leaf without row is one (deleted), or retention explains it (expired).
    if (this.#gapUncompared > 0) {
      const [from, to] = this.#gap === undefined ? this.#gapRange : [this.#gap, this.treeSize - 1]
      this.#ctx.note(
        `project ${this.projectId}: ${STORE_REASON.notCompared(this.#gapUncompared, STORE_REASON.inGap(from, to))}`,
      )
    }
    await this.#checkNodes()
    if (this.#broken === undefined && this.#gap === undefined) {
      this.#recomputedRoot = this.#tree.root()
      if (this.#mismatches.length === 0 && this.#nodeFindings === 0)
        await this.#compareStoredRoot(this.#recomputedRoot)
    }
    await this.#classifyMismatches()
    for (const [from, to] of this.#deleted.ranges())
      this.#emit({
        kind: 'deleted',
        message: STORE_REASON.deleted(from, to),
        from,
        to,
        count: to - from + 1,
      })
  }

  #beyond(checkpoint: QueuedCheckpoint): void {
    this.#emit({
      kind: 'checkpoint',
      message: STORE_REASON.checkpointBeyond(checkpoint.size, this.treeSize),
      treeSize: checkpoint.size,
      source: checkpoint.source,
    })
  }

  async #compareStoredRoot(recomputed: Buffer): Promise<void> {
    if (this.treeSize === 0) return
    const size = this.treeSize
    try {
      const stored = await this.#ctx.merkle.withNodes(this.projectId, (node) =>
        rootHash(size, node),
      )
      if (!stored.equals(recomputed))
        this.#emit({ kind: 'tree', message: STORE_REASON.treeRoot(size, stored, recomputed) })
    } catch (error) {
      this.#emit({ kind: 'tree', message: STORE_REASON.storedRootMissing(errorText(error)) })
    }
  }

  /**
   * Each row whose hash is not its leaf's stored hash is REORDERED when its hash is the stored hash
   * of another leaf (found by one scan of the stored leaves), else CHANGED.
   */
  async #classifyMismatches(): Promise<void> {
    if (this.#mismatches.length === 0) return
    const wanted = new Map<string, Mismatch[]>()
    for (const m of this.#mismatches.slice(0, MAX_LOOKUPS)) {
      const key = m.hash.toString('hex')
      wanted.set(key, [...(wanted.get(key) ?? []), m])
    }
    const found = new Map<Mismatch, number>()
    for (let start = 0; start < this.treeSize && found.size < wanted.size; start += SCAN_CHUNK) {
      const end = Math.min(this.treeSize, start + SCAN_CHUNK)
      await this.#ctx.merkle.withNodes(this.projectId, (node) => {
        for (let leaf = start; leaf < end; leaf++) {
          let hash: Buffer
          try {
            hash = node(0, leaf)
          } catch {
            continue
          }
          for (const m of wanted.get(hash.toString('hex')) ?? [])
            if (m.leafIndex !== leaf && !found.has(m)) found.set(m, leaf)
        }
      })
    }
    for (const m of this.#mismatches) {
      const other = found.get(m)
      this.#emit({
        kind: other === undefined ? 'changed' : 'reordered',
        message: other === undefined ? STORE_REASON.leafHash : STORE_REASON.contentOf(other),
        traceId: m.traceId,
        seq: m.seq,
        leafIndex: m.leafIndex,
      })
    }
  }

  summary(): ProjectAudit {
    return {
      projectId: this.projectId,
      treeSize: this.treeSize,
      rows: this.rows,
      logged: this.logged,
      notInLog: this.notInLog,
      expired: this.#expired.count,
      deleted: this.#deleted.count,
      checkpoints: this.#storedCompared,
      externalCheckpoints: this.#externalCompared,
      covered: this.#covered,
      recomputedRoot: this.#recomputedRoot?.toString('hex') ?? null,
      findings: this.findings,
    }
  }
}

/** Why a stored document is not the canonical document of a trace, or undefined. */
function documentProblem(document: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(document)
  } catch {
    return STORE_REASON.notJson
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return STORE_REASON.notJson
  try {
    return traceDocument(parsed as TraceRecord) === document ? undefined : STORE_REASON.notCanonical
  } catch (error) {
    return STORE_REASON.notEncodable(errorText(error))
  }
}

/**
 * Groups the external notes by project (from their origin) and checks them; notes of projects
 * outside `projectId` are only noted. A note that does not parse is a finding of project ''.
 */
function externalByProject(
  options: StoreAuditOptions,
  keys: ReadonlyMap<string, readonly KeyObject[]>,
  emit: (finding: StoreFinding) => void,
  notes: string[],
): Map<string, QueuedCheckpoint[]> {
  const out = new Map<string, QueuedCheckpoint[]>()
  for (const { source, note } of options.checkpoints ?? []) {
    let checkpoint
    try {
      checkpoint = parseCheckpoint(note).checkpoint
    } catch (error) {
      emit({
        kind: 'checkpoint',
        projectId: '',
        message: STORE_REASON.checkpointInvalid(undefined, errorText(error)),
        source,
      })
      continue
    }
    const projectId = checkpoint.origin.slice('opencts/'.length)
    if (options.projectId !== undefined && projectId !== options.projectId) {
      notes.push(`${source}: checkpoint of project ${projectId} not compared (--project-id)`)
      continue
    }
    const problem = noteProblem(note, projectId, keys)
    if (problem !== undefined)
      emit({
        kind: 'checkpoint',
        projectId,
        message: STORE_REASON.checkpointInvalid(checkpoint.size, problem),
        treeSize: checkpoint.size,
        source,
      })
    out.set(projectId, [
      ...(out.get(projectId) ?? []),
      {
        size: checkpoint.size,
        root: checkpoint.root,
        time: checkpoint.time,
        verified: problem === undefined,
        source,
      },
    ])
  }
  return out
}

const kindOrder = (kind: StoreFindingKind): number => STORE_FINDING_KINDS.indexOf(kind)

function compareFindings(a: StoreFinding, b: StoreFinding): number {
  if (a.projectId !== b.projectId) return a.projectId < b.projectId ? -1 : 1
  const position = (f: StoreFinding): number => f.leafIndex ?? f.from ?? f.treeSize ?? -1
  return (
    kindOrder(a.kind) - kindOrder(b.kind) ||
    position(a) - position(b) ||
    (a.seq ?? 0) - (b.seq ?? 0)
  )
}

/**
 * The keys checkpoints are verified with: the trusted keys when given (a stored key that is not
 * among them is noted), else the keys stored in the file.
 */
async function loadKeys(
  merkle: MerkleLogStore,
  trusted: readonly LogKeyInput[] | undefined,
  notes: string[],
): Promise<{ byName: Map<string, KeyObject[]>; list: StoreAuditReport['keys'] }> {
  const byName = new Map<string, KeyObject[]>()
  const add = (keyName: string, pem: string, keyId: string): void => {
    try {
      const key = createPublicKey(pem)
      byName.set(keyName, [...(byName.get(keyName) ?? []), key])
    } catch (error) {
      notes.push(`log key ${keyName} (id ${keyId}) is not a valid public key: ${errorText(error)}`)
    }
  }
  const stored = await merkle.listLogKeys()
  const list = stored.map((k) => ({ keyName: k.keyName, keyId: k.keyId, createdAt: k.createdAt }))
  if (trusted === undefined) for (const k of stored) add(k.keyName, k.publicKey, k.keyId)
  else {
    for (const k of trusted) add(k.key_name, k.public_key, k.key_id)
    for (const k of stored)
      if (!trusted.some((t) => t.key_name === k.keyName && t.key_id === k.keyId))
        notes.push(`log key ${k.keyName} (id ${k.keyId}) stored in the file is not a trusted key`)
  }
  return { byName, list }
}

/** Audits the store against its log (see the module comment); resolves with the report. */
export async function auditStore(
  merkle: MerkleLogStore,
  options: StoreAuditOptions,
): Promise<StoreAuditReport> {
  const maxFindings = options.maxFindings ?? DEFAULT_MAX_FINDINGS
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE
  const findings: StoreFinding[] = []
  const findingCounts = Object.fromEntries(STORE_FINDING_KINDS.map((k) => [k, 0])) as Record<
    StoreFindingKind,
    number
  >
  let total = 0
  const emit = (finding: StoreFinding): void => {
    total++
    findingCounts[finding.kind]++
    if (findings.length < maxFindings) findings.push(finding)
  }
  const notes: string[] = []
  const keys = await loadKeys(merkle, options.trustedKeys, notes)
  const ctx: AuditContext = {
    merkle,
    keys: keys.byName,
    horizon: options.retentionMs === undefined ? undefined : options.now - options.retentionMs,
    emit,
    note: (text) => notes.push(text),
  }
  const external = externalByProject(options, keys.byName, emit, notes)
  const projects = new Map<string, ProjectAuditor>()
  const project = async (projectId: string): Promise<ProjectAuditor> => {
    let auditor = projects.get(projectId)
    if (auditor === undefined) {
      auditor = new ProjectAuditor(
        ctx,
        projectId,
        await merkle.treeSize(projectId),
        external.get(projectId) ?? [],
      )
      projects.set(projectId, auditor)
      await auditor.start()
    }
    return auditor
  }
  const wanted = (projectId: string): boolean =>
    options.projectId === undefined || projectId === options.projectId
  for (const projectId of [...(await merkle.logProjects()), ...external.keys()])
    if (wanted(projectId)) await project(projectId)

  let read = 0
  let rows = 0
  let previousSeq: number | undefined
  let afterLog = false
  // Rows are read from below every commit position, so that a forged one (0, negative) is read
  // too. Two rows may share a seq only in a forged store; so that none falls between two pages,
  // the next page starts again at the last seq and skips the rows of it already read (`carry`).
  let after = READ_FROM
  let carry = 0
  let limit = pageSize
  // Bounded: each page ends past the last one's highest seq, or (a page of one seq) reads it again
  // with twice the limit, until it holds every row of that seq.
  for (;;) {
    const page = await merkle.auditRows(after, limit)
    const last = page.at(-1)
    if (last === undefined || last.seq <= after) break
    let start = 0
    while (start < carry && page[start]?.seq === previousSeq) start++
    const fresh = page.slice(start)
    const leaves = new Map<string, number[]>()
    for (const row of fresh) {
      if (row.leafIndex === null || !wanted(row.projectId)) continue
      const list = leaves.get(row.projectId)
      if (list === undefined) leaves.set(row.projectId, [row.leafIndex])
      else list.push(row.leafIndex)
    }
    for (const [projectId, list] of leaves) await (await project(projectId)).prefetch(list)
    for (const row of fresh) {
      read++
      const seqProblem =
        row.seq < FIRST_SEQ
          ? STORE_REASON.seqBelow(row.seq)
          : row.seq === previousSeq
            ? STORE_REASON.seqTwice(row.seq)
            : undefined
      previousSeq = row.seq
      const logged = afterLog
      if (row.leafIndex !== null) afterLog = true
      if (!wanted(row.projectId)) continue
      rows++
      await (await project(row.projectId)).row(row, seqProblem, logged)
    }
    options.onProgress?.({
      rows: read,
      seq: last.seq,
      ...(options.headSeq === undefined ? {} : { headSeq: options.headSeq }),
    })
    if (page.length < limit) break
    const atLast = page.filter((row) => row.seq === last.seq).length
    // Read again from the last seq (skipping its rows read); a page of that seq only: twice as many.
    limit = atLast === page.length ? limit * 2 : pageSize
    after = last.seq - 1
    carry = atLast
  }
  for (const auditor of projects.values()) await auditor.finish()
  findings.sort(compareFindings)
  return {
    ok: total === 0,
    rows,
    projects: [...projects.values()]
      .map((p) => p.summary())
      .sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : 0)),
    keys: keys.list,
    keysFrom: options.trustedKeys === undefined ? 'store' : 'trusted',
    findings,
    findingCounts,
    findingsLeftOut: total - findings.length,
    notes,
  }
}

/**
 * @module log/verify-proofs
 * Offline verification of what a third party keeps from the verifiable log (`opencts verify
 * --proof` and `--checkpoints`, docs/verify.md): the public checkpoint keys (the body of
 * `GET /v3/{project_id}/log/keys`), signed checkpoint notes, inclusion proofs (the body of
 * `GET .../log/inclusion-proof`) and consistency proofs.
 *
 * - {@link verifyTraceProof}: one trace with its inclusion proof against a saved checkpoint note.
 *   The leaf hash is recomputed from the trace itself (the proof's `leaf_hash` is never trusted),
 *   the note's signature, origin (`opencts/<project_id>` of the trace) and tree size are checked,
 *   then the audit path must lead from that leaf hash to the note's root.
 * - {@link checkCheckpoints}: many notes; each signature is checked, notes are grouped by origin,
 *   two notes of one size with different roots are a FORK, and each pair of consecutive sizes must
 *   be proven consistent (the smaller tree a prefix of the larger) with a proof got from a caller's
 *   source (saved files or a server).
 * Results carry a stable `code` and a human `reason`; nothing here throws for bad evidence, only
 * for invalid keys ({@link LogKeysError}). `node:crypto` and the pure integrity modules only.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import {
  CHECKPOINT_ORIGIN_PREFIX,
  checkpointOrigin,
  parseCheckpoint,
  publicKeyId,
  verifyCheckpoint,
  type Checkpoint,
} from '../integrity/checkpoint.js'
import {
  EMPTY_ROOT,
  leafHash,
  ProofError,
  verifyConsistency,
  verifyInclusion,
} from '../integrity/merkle.js'
import { leafTextOf, traceDocument } from '../model/trace-leaf.js'
import type { TraceRecord } from '../model/index.js'
import type { LogKeyView } from './log-keys.js'

/** What verification needs of a published checkpoint key (a `LogKeyView` has more). */
export type LogKeyInput = Pick<LogKeyView, 'key_name' | 'key_id' | 'public_key'>

/** A key of the keys file is unusable (not Ed25519, a key id that is not its own, ...). */
export class LogKeysError extends Error {
  override readonly name = 'LogKeysError'
}

interface VerifierKey {
  readonly keyName: string
  /** Lowercase hex of the 4-byte note key id. */
  readonly keyId: string
  readonly publicKey: KeyObject
  /** The PEM it was read from. */
  readonly pem: string
}

const HEX_HASH = /^[0-9a-f]{64}$/

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function verifierKey(key: unknown, where: string): VerifierKey {
  if (!isRecord(key)) throw new LogKeysError(`${where} is not an object`)
  const { key_name: keyName, key_id: keyId, public_key: pem } = key
  if (typeof keyName !== 'string' || keyName === '' || /[\s+]/.test(keyName))
    throw new LogKeysError(`${where}.key_name must be a name without spaces or "+"`)
  if (typeof keyId !== 'string' || !/^[0-9a-f]{8}$/.test(keyId))
    throw new LogKeysError(`${where}.key_id must be 8 lowercase hex characters`)
  if (typeof pem !== 'string') throw new LogKeysError(`${where}.public_key must be a PEM string`)
  if (key.algorithm !== undefined && key.algorithm !== 'Ed25519')
    throw new LogKeysError(`${where}.algorithm is ${JSON.stringify(key.algorithm)}, want "Ed25519"`)
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey(pem)
  } catch {
    throw new LogKeysError(`${where}.public_key is not a PEM public key`)
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new LogKeysError(
      `${where}.public_key is a ${publicKey.asymmetricKeyType ?? 'unknown'} key, want Ed25519`,
    )
  const actual = publicKeyId(keyName, publicKey).toString('hex')
  if (actual !== keyId)
    throw new LogKeysError(
      `${where}: the key id of ${keyName} and its key is ${actual}, not ${keyId}`,
    )
  return { keyName, keyId, publicKey, pem }
}

function verifierKeys(keys: readonly LogKeyInput[]): VerifierKey[] {
  return keys.map((key, i) => verifierKey(key, `keys[${i}]`))
}

/**
 * Parses and checks a log keys file: the body of `GET /v3/{project_id}/log/keys`,
 * `{"keys": [{key_name, key_id, algorithm, public_key, ...}]}`. Each key id is recomputed from the
 * key name and the PEM, so a key filed under another key's id is refused. Throws LogKeysError.
 */
export function parseLogKeysFile(text: string): LogKeyInput[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new LogKeysError('not JSON')
  }
  if (!isRecord(value) || !Array.isArray(value.keys))
    throw new LogKeysError('want an object {"keys": [...]}, the body of GET /log/keys')
  if (value.keys.length === 0) throw new LogKeysError('keys is empty')
  return (value.keys as unknown[]).map((key, i) => {
    const { keyName, keyId, pem } = verifierKey(key, `keys[${i}]`)
    return { key_name: keyName, key_id: keyId, public_key: pem }
  })
}

/** Why a checkpoint note is not accepted. */
export type NoteFailure = 'malformed-checkpoint' | 'unknown-key' | 'bad-signature'

type NoteCheck =
  | { ok: true; checkpoint: Checkpoint; key: VerifierKey }
  | { ok: false; code: NoteFailure; reason: string }

/**
 * Checks a note: it parses, at least one signature line is by a key of `keys` (same name and key
 * id) and every such line verifies. Lines of other keys (witness cosignatures) are ignored.
 */
function checkNote(text: string, keys: readonly VerifierKey[]): NoteCheck {
  let parsed: ReturnType<typeof parseCheckpoint>
  try {
    parsed = parseCheckpoint(text)
  } catch (error) {
    return {
      ok: false,
      code: 'malformed-checkpoint',
      reason: `checkpoint is not a signed checkpoint note: ${message(error)}`,
    }
  }
  const known = keys.filter((k) =>
    parsed.signatures.some((s) => s.keyName === k.keyName && s.keyId.toString('hex') === k.keyId),
  )
  const first = known[0]
  if (first === undefined) {
    const by = parsed.signatures.map((s) => `${s.keyName} ${s.keyId.toString('hex')}`).join(', ')
    const have = keys.map((k) => `${k.keyName} ${k.keyId}`).join(', ')
    return {
      ok: false,
      code: 'unknown-key',
      reason: `checkpoint signature invalid: signed by ${by}, no key of the keys file (${have})`,
    }
  }
  for (const key of known) {
    try {
      verifyCheckpoint(text, key.keyName, key.publicKey)
    } catch (error) {
      return {
        ok: false,
        code: 'bad-signature',
        reason: `checkpoint signature invalid: ${message(error)} (the note was altered or not signed by this key)`,
      }
    }
  }
  return { ok: true, checkpoint: parsed.checkpoint, key: first }
}

/** Why a trace with its proof does not verify. */
export type TraceProofFailure =
  | NoteFailure
  | 'malformed-proof'
  | 'other-project'
  | 'size-mismatch'
  | 'trace-edited'
  | 'leaf-hash-mismatch'
  | 'not-included'

export interface TraceProofValid {
  readonly ok: true
  readonly trace_id: string
  readonly project_id: string
  readonly leaf_index: number
  readonly tree_size: number
  /** Recomputed from the trace. */
  readonly leaf_hash: string
  readonly root_hash: string
  /** Signing time of the checkpoint, epoch ms. */
  readonly checkpoint_time: number
  readonly key_name: string
  readonly key_id: string
}

export interface TraceProofInvalid {
  readonly ok: false
  readonly code: TraceProofFailure
  readonly reason: string
  readonly trace_id?: string
  readonly leaf_index?: number
}

export type TraceProofResult = TraceProofValid | TraceProofInvalid

interface ParsedProof {
  readonly traceId: string
  readonly leafIndex: number
  readonly treeSize: number
  readonly leafHash: Buffer
  readonly auditPath: Buffer[]
  readonly trace: Record<string, unknown>
  readonly projectId: string
}

class MalformedProof extends Error {}

function count(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw new MalformedProof(`${field} must be an integer of at least ${min}`)
  return value
}

function hash(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !HEX_HASH.test(value))
    throw new MalformedProof(`${field} must be 64 lowercase hex characters`)
  return Buffer.from(value, 'hex')
}

function parseProof(proof: unknown): ParsedProof {
  if (!isRecord(proof))
    throw new MalformedProof('not a JSON object (want the body of GET /log/inclusion-proof)')
  const traceId = proof.trace_id
  if (typeof traceId !== 'string' || traceId === '')
    throw new MalformedProof('trace_id must be a non-empty string')
  const leafIndex = count(proof.leaf_index, 'leaf_index', 0)
  const treeSize = count(proof.tree_size, 'tree_size', 1)
  const leaf = hash(proof.leaf_hash, 'leaf_hash')
  if (!Array.isArray(proof.audit_path)) throw new MalformedProof('audit_path must be an array')
  const auditPath = (proof.audit_path as unknown[]).map((h, i) => hash(h, `audit_path[${i}]`))
  const trace = proof.trace
  if (!isRecord(trace)) throw new MalformedProof('trace must be an object (the stored trace)')
  if (trace.trace_id !== traceId)
    throw new MalformedProof(
      `trace.trace_id ${JSON.stringify(trace.trace_id)} is not trace_id ${JSON.stringify(traceId)}`,
    )
  const projectId = trace.project_id
  if (typeof projectId !== 'string' || projectId === '' || /\s/.test(projectId))
    throw new MalformedProof('trace.project_id must be a project id')
  return { traceId, leafIndex, treeSize, leafHash: leaf, auditPath, trace, projectId }
}

/**
 * The leaf hash of a trace as saved (a JSON object): fields of the leaf format only; a field the
 * leaf does not cover (e.g. added after logging) is refused rather than silently ignored.
 */
function traceLeafHash(trace: Record<string, unknown>): Buffer {
  let document: string
  try {
    document = traceDocument(trace as unknown as TraceRecord)
  } catch (error) {
    throw new MalformedProof(`trace cannot be encoded as a leaf: ${message(error)}`)
  }
  const covered = new Set(Object.keys(JSON.parse(document) as Record<string, unknown>))
  const extra = Object.keys(trace).filter((k) => !covered.has(k))
  if (extra.length > 0)
    throw new MalformedProof(
      `trace has fields no leaf holds: ${extra.map((k) => JSON.stringify(k)).join(', ')}`,
    )
  return leafHash(leafTextOf(document))
}

function includes(leaf: Buffer, proof: ParsedProof, root: Buffer): ProofError | undefined {
  try {
    verifyInclusion(leaf, proof.leafIndex, proof.treeSize, proof.auditPath, root)
    return undefined
  } catch (error) {
    if (error instanceof ProofError) return error
    throw error
  }
}

/**
 * Verifies one trace with its inclusion proof (the parsed body of `GET .../log/inclusion-proof`)
 * against a saved checkpoint note and the published keys. Never throws for bad evidence: returns
 * `{ok: false, code, reason}` naming the first problem. Throws LogKeysError for an unusable key.
 */
export function verifyTraceProof(
  proof: unknown,
  checkpointNote: string,
  keys: readonly LogKeyInput[],
): TraceProofResult {
  const verifiers = verifierKeys(keys)
  let parsed: ParsedProof
  let computed: Buffer
  try {
    parsed = parseProof(proof)
    computed = traceLeafHash(parsed.trace)
  } catch (error) {
    if (!(error instanceof MalformedProof)) throw error
    const traceId = isRecord(proof) && typeof proof.trace_id === 'string' ? proof.trace_id : ''
    return {
      ok: false,
      code: 'malformed-proof',
      reason: `proof is malformed: ${error.message}`,
      ...(traceId === '' ? {} : { trace_id: traceId }),
    }
  }
  const about = { trace_id: parsed.traceId, leaf_index: parsed.leafIndex }
  const note = checkNote(checkpointNote, verifiers)
  if (!note.ok) return { ok: false, code: note.code, reason: note.reason, ...about }
  const { checkpoint } = note
  let wantOrigin: string
  try {
    wantOrigin = checkpointOrigin(parsed.projectId)
  } catch (error) {
    return { ok: false, code: 'malformed-proof', reason: `proof is malformed: ${message(error)}` }
  }
  if (checkpoint.origin !== wantOrigin)
    return {
      ok: false,
      code: 'other-project',
      reason:
        `checkpoint of another project: its origin is ${JSON.stringify(checkpoint.origin)}, ` +
        `the trace is of project ${parsed.projectId} (${JSON.stringify(wantOrigin)})`,
      ...about,
    }
  if (checkpoint.size !== parsed.treeSize)
    return {
      ok: false,
      code: 'size-mismatch',
      reason:
        `proof and checkpoint are of different trees: the proof is for tree size ` +
        `${parsed.treeSize}, the checkpoint is of size ${checkpoint.size} (get the proof with ` +
        `--tree-size ${checkpoint.size})`,
      ...about,
    }
  const root = checkpoint.root
  const rootHex = root.toString('hex')
  const computedHex = computed.toString('hex')
  const claimedHex = parsed.leafHash.toString('hex')
  const failure = includes(computed, parsed, root)
  if (failure === undefined) {
    if (computedHex !== claimedHex)
      return {
        ok: false,
        code: 'leaf-hash-mismatch',
        reason:
          `proof's leaf_hash ${claimedHex} is not the hash of its trace (${computedHex}); the ` +
          `trace itself is in the checkpoint's tree, the proof file was altered`,
        ...about,
      }
    return {
      ok: true,
      trace_id: parsed.traceId,
      project_id: parsed.projectId,
      leaf_index: parsed.leafIndex,
      tree_size: parsed.treeSize,
      leaf_hash: computedHex,
      root_hash: rootHex,
      checkpoint_time: checkpoint.time,
      key_name: note.key.keyName,
      key_id: note.key.keyId,
    }
  }
  if (computedHex !== claimedHex) {
    const where = `trace ${parsed.traceId} (leaf ${parsed.leafIndex})`
    if (includes(parsed.leafHash, parsed, root) === undefined)
      return {
        ok: false,
        code: 'trace-edited',
        reason:
          `trace edited: leaf hash differs: ${where} hashes to ${computedHex}, but the ` +
          `checkpoint's tree holds ${claimedHex} at leaf ${parsed.leafIndex}`,
        ...about,
      }
    return {
      ok: false,
      code: 'not-included',
      reason:
        `trace edited and proof does not lead to the checkpoint root: leaf hash differs: ` +
        `${where} hashes to ${computedHex}, the proof says ${claimedHex}, and the audit path ` +
        `leads from neither to root ${rootHex} (${failure.message})`,
      ...about,
    }
  }
  return {
    ok: false,
    code: 'not-included',
    reason:
      `proof does not lead to the checkpoint root: from leaf ${parsed.leafIndex} of trace ` +
      `${parsed.traceId}, ${failure.message} (the trace, its audit path or its leaf index is not what was logged)`,
    ...about,
  }
}

/** A saved checkpoint note and the name it is reported under (its file name). */
export interface NamedNote {
  readonly name: string
  readonly text: string
}

/**
 * Where consistency proofs come from: the RFC 9162 proof that the tree of `first` leaves of the
 * project is a prefix of the tree of `second` leaves, as lowercase hex hashes; `undefined` when
 * there is none. A throw is reported as a finding of that pair (its message is the reason).
 */
export type ConsistencySource = (
  projectId: string,
  first: number,
  second: number,
) => Promise<readonly string[] | undefined>

export interface CheckpointResult {
  readonly name: string
  readonly ok: boolean
  readonly origin?: string
  readonly tree_size?: number
  readonly root_hash?: string
  readonly timestamp?: number
  readonly key_name?: string
  readonly key_id?: string
  readonly code?: NoteFailure
  readonly reason?: string
}

export interface CheckpointRef {
  readonly name: string
  readonly tree_size: number
  readonly root_hash: string
}

export type ConsistencyFailure = 'not-prefix' | 'proof-unavailable' | 'malformed-proof'

export interface ConsistencyResult {
  readonly origin: string
  readonly first: CheckpointRef
  readonly second: CheckpointRef
  readonly ok: boolean
  readonly code?: ConsistencyFailure
  readonly reason?: string
}

export interface ForkResult {
  readonly origin: string
  readonly tree_size: number
  /** One checkpoint per distinct root. */
  readonly checkpoints: CheckpointRef[]
  readonly reason: string
}

export interface CheckpointsReport {
  readonly checkpoints: CheckpointResult[]
  readonly consistency: ConsistencyResult[]
  readonly forks: ForkResult[]
  readonly summary: {
    readonly checkpoints: { readonly valid: number; readonly invalid: number }
    readonly consistency: { readonly valid: number; readonly invalid: number }
    readonly forks: number
    readonly findings: number
    readonly ok: boolean
  }
}

interface ValidNote {
  readonly name: string
  readonly checkpoint: Checkpoint
}

function ref(note: ValidNote): CheckpointRef {
  return {
    name: note.name,
    tree_size: note.checkpoint.size,
    root_hash: note.checkpoint.root.toString('hex'),
  }
}

/** One note per distinct root of a size, in the order given. */
function distinctRoots(notes: readonly ValidNote[]): ValidNote[] {
  const out: ValidNote[] = []
  for (const note of notes)
    if (!out.some((o) => o.checkpoint.root.equals(note.checkpoint.root))) out.push(note)
  return out
}

async function fetchProof(
  source: ConsistencySource,
  projectId: string,
  first: number,
  second: number,
): Promise<{ proof: Buffer[] } | { code: ConsistencyFailure; reason: string }> {
  let hexes: readonly string[] | undefined
  try {
    hexes = await source(projectId, first, second)
  } catch (error) {
    return {
      code: 'proof-unavailable',
      reason: `no consistency proof for sizes ${first} and ${second}: ${message(error)}`,
    }
  }
  if (hexes === undefined)
    return {
      code: 'proof-unavailable',
      reason: `no consistency proof for sizes ${first} and ${second} (give one with --consistency-proofs, or fetch it from a server)`,
    }
  const bad = hexes.findIndex((h) => typeof h !== 'string' || !HEX_HASH.test(h))
  if (bad >= 0)
    return {
      code: 'malformed-proof',
      reason: `consistency proof for sizes ${first} and ${second}: proof[${bad}] is not 64 lowercase hex characters`,
    }
  return { proof: hexes.map((h) => Buffer.from(h, 'hex')) }
}

function consistent(
  origin: string,
  older: ValidNote,
  newer: ValidNote,
  proof: Buffer[],
): ConsistencyResult {
  const base = { origin, first: ref(older), second: ref(newer) }
  const m = older.checkpoint.size
  const n = newer.checkpoint.size
  const fail = (detail: string): ConsistencyResult => ({
    ...base,
    ok: false,
    code: 'not-prefix',
    reason:
      `checkpoint ${older.name} (size ${m}) is not a prefix of ${newer.name} (size ${n}): ` +
      `the log was rewritten or forked (${detail})`,
  })
  if (m === 0)
    return older.checkpoint.root.equals(EMPTY_ROOT)
      ? { ...base, ok: true }
      : fail('a tree of size 0 must have the empty root')
  try {
    verifyConsistency(m, n, proof, older.checkpoint.root, newer.checkpoint.root)
    return { ...base, ok: true }
  } catch (error) {
    if (error instanceof ProofError) return fail(error.message)
    throw error
  }
}

/**
 * Checks saved checkpoint notes: each note's signature (a key of `keys`, as in
 * {@link verifyTraceProof}); then, per origin, FORKs (two notes of one size with different roots)
 * and the consistency of each pair of consecutive sizes, every distinct root of the smaller size
 * against every distinct root of the larger, with one proof per pair of sizes from `source`.
 * Throws LogKeysError for an unusable key only.
 */
export async function checkCheckpoints(
  notes: readonly NamedNote[],
  keys: readonly LogKeyInput[],
  source: ConsistencySource,
): Promise<CheckpointsReport> {
  const verifiers = verifierKeys(keys)
  const checkpoints: CheckpointResult[] = []
  const byOrigin = new Map<string, ValidNote[]>()
  for (const { name, text } of notes) {
    const note = checkNote(text, verifiers)
    if (!note.ok) {
      checkpoints.push({ name, ok: false, code: note.code, reason: note.reason })
      continue
    }
    const cp = note.checkpoint
    checkpoints.push({
      name,
      ok: true,
      origin: cp.origin,
      tree_size: cp.size,
      root_hash: cp.root.toString('hex'),
      timestamp: cp.time,
      key_name: note.key.keyName,
      key_id: note.key.keyId,
    })
    byOrigin.set(cp.origin, [...(byOrigin.get(cp.origin) ?? []), { name, checkpoint: cp }])
  }
  const consistency: ConsistencyResult[] = []
  const forks: ForkResult[] = []
  for (const [origin, valid] of byOrigin) {
    const projectId = origin.slice(CHECKPOINT_ORIGIN_PREFIX.length)
    const sizes = [...new Set(valid.map((v) => v.checkpoint.size))].sort((a, b) => a - b)
    const rootsAt = new Map(
      sizes.map((size) => [size, distinctRoots(valid.filter((v) => v.checkpoint.size === size))]),
    )
    for (const size of sizes) {
      const roots = rootsAt.get(size) ?? []
      if (roots.length > 1)
        forks.push({
          origin,
          tree_size: size,
          checkpoints: roots.map(ref),
          reason:
            `${roots.map((r) => r.name).join(', ')} are checkpoints of size ${size} ` +
            `with different roots (${roots.map((r) => r.checkpoint.root.toString('hex')).join(', ')}): ` +
            `the log was forked (two versions of its history were signed)`,
        })
    }
    for (let i = 0; i + 1 < sizes.length; i++) {
      const m = sizes[i] ?? 0
      const n = sizes[i + 1] ?? 0
      const olders = rootsAt.get(m) ?? []
      const newers = rootsAt.get(n) ?? []
      const got = m === 0 ? { proof: [] } : await fetchProof(source, projectId, m, n)
      for (const older of olders)
        for (const newer of newers) {
          if ('proof' in got) consistency.push(consistent(origin, older, newer, got.proof))
          else
            consistency.push({
              origin,
              first: ref(older),
              second: ref(newer),
              ok: false,
              code: got.code,
              reason: got.reason,
            })
        }
    }
  }
  const invalidCheckpoints = checkpoints.filter((c) => !c.ok).length
  const invalidPairs = consistency.filter((c) => !c.ok).length
  const findings = invalidCheckpoints + invalidPairs + forks.length
  return {
    checkpoints,
    consistency,
    forks,
    summary: {
      checkpoints: { valid: checkpoints.length - invalidCheckpoints, invalid: invalidCheckpoints },
      consistency: { valid: consistency.length - invalidPairs, invalid: invalidPairs },
      forks: forks.length,
      findings,
      ok: findings === 0,
    },
  }
}

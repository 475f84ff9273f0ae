/**
 * @module log/leaf-hash-pool
 * Leaf hashing off the event loop: one worker thread, shared by the process, hashes the documents
 * of large batches while the event loop goes on parsing and validating the next ones (SHA-256 of
 * every stored trace is the largest CPU cost of the log). The worker is started on first use and
 * keeps the process alive only while a batch is pending. When it cannot start or dies, the batch is hashed on the
 * event loop instead: the pool only ever changes where the hashing runs, never the hashes.
 */
import { Worker } from 'node:worker_threads'
import type { MerkleHashing } from '../store/index.js'
import { TRACE_LOG_HASHING, documentLeafHash } from './trace-log-hashing.js'

interface Pending {
  readonly documents: readonly string[]
  readonly resolve: (hashes: Buffer[]) => void
}

const HASH_SIZE = 32
/** Old-generation heap of the worker, MB (its batches arrive as buffers, off this heap). */
const WORKER_HEAP_MB = 96
let worker: Worker | undefined
let failed = false
let nextId = 0
const pending = new Map<number, Pending>()

function inline(documents: readonly string[]): Buffer[] {
  return documents.map(documentLeafHash)
}

/** Settles every pending batch inline and stops using the worker. */
function giveUp(): void {
  failed = true
  worker = undefined
  for (const [id, p] of pending) {
    pending.delete(id)
    p.resolve(inline(p.documents))
  }
}

function start(): Worker | undefined {
  if (failed) return undefined
  if (worker !== undefined) return worker
  try {
    // A bounded heap; documents arrive as one transferred buffer (no copy of the batch's strings
    // on the worker's heap). Should it ever run out, the batch is hashed inline.
    const w = new Worker(new URL('./leaf-hash-worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
    })
    w.on('message', (message: { id: number; hashes: Uint8Array }) => {
      const p = pending.get(message.id)
      if (p === undefined) return
      pending.delete(message.id)
      if (pending.size === 0) w.unref()
      const bytes = Buffer.from(message.hashes.buffer, message.hashes.byteOffset)
      p.resolve(p.documents.map((_, i) => bytes.subarray(HASH_SIZE * i, HASH_SIZE * (i + 1))))
    })
    w.on('error', giveUp)
    w.on('exit', giveUp)
    // After the listeners: attaching a 'message' listener refs the worker again.
    w.unref()
    worker = w
    return w
  } catch {
    failed = true
    return undefined
  }
}

/**
 * The documents as UTF-8 end to end in one buffer of its own (transferable), with where each ends:
 * handed to the worker without copying them onto its heap (a batch is up to 12 MB).
 */
function encodeDocuments(documents: readonly string[]): {
  bytes: Uint8Array<ArrayBuffer>
  ends: Uint32Array<ArrayBuffer>
} {
  const ends = new Uint32Array(documents.length)
  let total = 0
  documents.forEach((doc, i) => {
    total += Buffer.byteLength(doc, 'utf8')
    ends[i] = total
  })
  const bytes = new Uint8Array(total)
  const view = Buffer.from(bytes.buffer, 0, total)
  let offset = 0
  for (const doc of documents) offset += view.write(doc, offset, 'utf8')
  return { bytes, ends }
}

/** The leaf hashes of `documents` (documentLeafHash of each), computed on the pool's worker. */
export function hashLeavesOffThread(documents: readonly string[]): Promise<Buffer[]> {
  const w = start()
  if (w === undefined) return Promise.resolve(inline(documents))
  return new Promise((resolve) => {
    const id = nextId++
    pending.set(id, { documents, resolve })
    if (pending.size === 1) w.ref()
    try {
      const { bytes, ends } = encodeDocuments(documents)
      w.postMessage({ id, bytes, ends }, [bytes.buffer, ends.buffer])
    } catch {
      pending.delete(id)
      if (pending.size === 0) w.unref()
      resolve(inline(documents))
    }
  })
}

/** The log's hashing with large batches hashed on the pool (what the server uses). */
export const OFFLOADED_TRACE_LOG_HASHING: MerkleHashing = {
  ...TRACE_LOG_HASHING,
  leafHashes: hashLeavesOffThread,
}

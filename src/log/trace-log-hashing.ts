/**
 * @module log/trace-log-hashing
 * The Merkle log's encoding and hashing as the store needs it (store/ imports neither model's
 * leaf encoder nor integrity/): the canonical document stored for each trace, the RFC 6962 leaf
 * hash of a stored document, and the append of integrity/merkle.
 */
import { appendLeaf, leafHash } from '../integrity/merkle.js'
import { leafTextOf, traceDocument } from '../model/trace-leaf.js'
import type { MerkleHashing } from '../store/index.js'

/** The leaf hash of a stored document: SHA-256(0x00 || version-1 leaf). */
export function documentLeafHash(document: string): Buffer {
  return leafHash(leafTextOf(document))
}

/** Hashing on the event loop only (the worker thread uses this module too). */
export const TRACE_LOG_HASHING: MerkleHashing = {
  document: traceDocument,
  leafHash: documentLeafHash,
  appendLeaf,
}

/**
 * @module log/trace-log-hashing
 * The Merkle log's encoding and hashing as the store needs it (store/ imports neither model's
 * leaf encoder nor integrity/): the canonical document stored for each trace, the RFC 6962 leaf
 * hash of a stored document, and the append of integrity/merkle.
 */
import { appendLeaf, leafHash, leafHashOfParts } from '../integrity/merkle.js'
import { leafTextOf, traceDocument } from '../model/trace-leaf.js'
import type { MerkleHashing } from '../store/index.js'

/** The leaf hash of a stored document: SHA-256(0x00 || version-1 leaf). */
export function documentLeafHash(document: string): Buffer {
  return leafHash(leafTextOf(document))
}

/** The leaf text's opening, which replaces a document's opening `{`. */
const LEAF_OPENING = leafTextOf('{')

/**
 * {@link documentLeafHash} of a document given as its UTF-8 bytes (a stored document starts with
 * the one-byte `{`): what the worker thread hashes, from one transferred buffer.
 */
export function documentBytesLeafHash(document: Uint8Array): Buffer {
  return leafHashOfParts([LEAF_OPENING, document.subarray(1)])
}

/** Hashing on the event loop only (the worker thread uses this module too). */
export const TRACE_LOG_HASHING: MerkleHashing = {
  document: traceDocument,
  leafHash: documentLeafHash,
  appendLeaf,
}

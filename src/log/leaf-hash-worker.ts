/**
 * @module log/leaf-hash-worker
 * The worker thread of the leaf hash pool: receives `{id, bytes, ends}` (the batch's documents as
 * UTF-8, end to end in one transferred buffer, and where each ends), answers `{id, hashes}` with the
 * 32-byte leaf hash of each document laid end to end (one transferred buffer).
 */
import { parentPort } from 'node:worker_threads'
import { documentBytesLeafHash } from './trace-log-hashing.js'

parentPort?.on('message', (message: { id: number; bytes: Uint8Array; ends: Uint32Array }) => {
  const { bytes, ends } = message
  const out = new Uint8Array(32 * ends.length)
  let start = 0
  ends.forEach((end, i) => {
    out.set(documentBytesLeafHash(bytes.subarray(start, end)), 32 * i)
    start = end
  })
  parentPort?.postMessage({ id: message.id, hashes: out }, [out.buffer])
})

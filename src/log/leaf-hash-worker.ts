/**
 * @module log/leaf-hash-worker
 * The worker thread of the leaf hash pool: receives `{id, documents}`, answers `{id, hashes}` with
 * the 32-byte leaf hash of each document laid end to end (one transferred buffer).
 */
import { parentPort } from 'node:worker_threads'
import { documentLeafHash } from './trace-log-hashing.js'

parentPort?.on('message', (message: { id: number; documents: string[] }) => {
  const out = new Uint8Array(32 * message.documents.length)
  message.documents.forEach((doc, i) => out.set(documentLeafHash(doc), 32 * i))
  parentPort?.postMessage({ id: message.id, hashes: out }, [out.buffer])
})

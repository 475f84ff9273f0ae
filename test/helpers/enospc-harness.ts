/**
 * Test helper run by test/disk-full-enospc.test.ts inside `unshare -rm` on a small tmpfs mounted at
 * argv[2]: fills the disk through the SQLite store until a real ENOSPC, tries the object folder on
 * the full disk, frees space (a filler file) and checks both recover. Prints one JSON line.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isOpenCtsError } from '../../src/errors/index.js'
import { openSqliteStore } from '../../src/store/sqlite/index.js'
import { FsObjectSink } from '../../src/transfer/fs/index.js'
import { makeTrace } from './make-trace.js'

const dir = process.argv[2] ?? ''
const codeOf = (error: unknown): string =>
  isOpenCtsError(error)
    ? `${error.code} ${error.httpStatus} ${String(error.retryAfter)}`
    : String(error)

const filler = join(dir, 'filler')
writeFileSync(filler, Buffer.alloc(1 << 20, 1))
const store = openSqliteStore({ path: join(dir, 'opencts.db') })
const sink = new FsObjectSink(join(dir, 'objects'))
await sink.createBucket('bucket')
let storeError: string | undefined
let batches = 0
for (; batches < 2000 && storeError === undefined; batches++) {
  try {
    await store.traces.append(
      Array.from({ length: 20 }, () => makeTrace({ request: 'x'.repeat(4000) })),
    )
  } catch (error) {
    storeError = codeOf(error)
  }
}
// The failed batch may leave room for smaller writes: take it, down to single traces.
for (let i = 0; i < 1000; i++) {
  try {
    await store.traces.append([makeTrace({ request: 'x'.repeat(4000) })])
  } catch {
    break
  }
}
const storeFull = store.storage.full
let probeWhileFull = 'ok'
await store.probeSpace().catch((error: unknown) => (probeWhileFull = codeOf(error)))
let putError = 'none'
await sink
  .put('bucket', 'trace-file.json.gz', Buffer.alloc(512 * 1024, 2))
  .catch((error: unknown) => (putError = codeOf(error)))
const sinkFull = sink.storage.full

rmSync(filler)
await store.probeSpace()
const storeRecovered = !store.storage.full
await store.traces.append([makeTrace()])
await sink.put('bucket', 'trace-file.json.gz', Buffer.alloc(512 * 1024, 2))
const sinkRecovered = !sink.storage.full
await store.close()
process.stdout.write(
  `${JSON.stringify({ batches, storeError, storeFull, probeWhileFull, putError, sinkFull, storeRecovered, sinkRecovered })}\n`,
)

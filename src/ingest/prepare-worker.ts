/**
 * @module ingest/prepare-worker
 * An ingest worker thread (see prepare-pool): prepares the batches posted to it with
 * `prepareIngest` and posts back the result (the engine's buffers moved, not copied) or the error
 * (an OpenCtsError as its code and message, rethrown as the same error on the event loop).
 */
import { randomUUID } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import { isOpenCtsError } from '../errors/index.js'
import type { PrepareBatch } from '../store/index.js'
import { loadPrepareBatch, prepareIngest, type PrepareJob } from './prepare-batch.js'
import type { WorkerReply } from './prepare-pool.js'

/** Each preparer module is imported once per thread. */
const preparers = new Map<string, Promise<PrepareBatch>>()

function preparer(module: string): Promise<PrepareBatch> {
  let loaded = preparers.get(module)
  if (loaded === undefined) {
    loaded = loadPrepareBatch(module)
    // A failed import is retried by the next batch, not cached.
    loaded.catch(() => preparers.delete(module))
    preparers.set(module, loaded)
  }
  return loaded
}

async function answer(id: number, job: PrepareJob): Promise<void> {
  const port = parentPort
  if (port === null) return
  let reply: WorkerReply
  try {
    const result = await prepareIngest(job, randomUUID, preparer)
    reply = { id, ok: true, result }
    port.postMessage(reply, result.batch === undefined ? [] : [...result.batch.transfer])
    return
  } catch (error) {
    reply = isOpenCtsError(error)
      ? { id, ok: false, code: error.code, message: error.message }
      : {
          id,
          ok: false,
          code: null,
          message: error instanceof Error ? error.message : String(error),
        }
  }
  port.postMessage(reply)
}

parentPort?.on('message', (message: { id: number; job: PrepareJob }) => {
  void answer(message.id, message.job)
})

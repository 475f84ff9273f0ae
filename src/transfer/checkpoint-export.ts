/**
 * @module transfer/checkpoint-export
 * Copies the project's latest signed checkpoint (log/checkpointer.ts, format in
 * integrity/checkpoint.ts) into the bucket of each delivering tracker, so that a third party can
 * keep a copy and monitor the log (docs/transfer.md, "Checkpoints in the bucket").
 *
 * Per tracker and transfer cycle, after the trace files: when the project's latest checkpoint is
 * larger than the one last exported to this tracker's bucket, its note text (UTF-8, the exact
 * signed bytes; never encrypted: checkpoints are public and signed) is put
 * 1. under its by-size key (layout.ts `checkpointFileKey`), then
 * 2. under the tracker's latest key (`latestCheckpointKey`), overwriting the previous one.
 * In this order, whatever the latest key holds also exists by size. A crash or failure in between
 * is repaired next cycle by putting both again: the store keeps one checkpoint per (project, size),
 * so a by-size object is only ever rewritten with the same bytes.
 *
 * What was exported is remembered in memory per tracker (bucket, key, size); after a restart, or
 * when the tracker's bucket or names change, it is read back from the object at the latest key (the
 * bucket itself is the durable record). Only the latest checkpoint at the time of a cycle is
 * exported, not every checkpoint signed in between: consistency between two exported ones is
 * proven by `GET /v3/{project_id}/log/consistency-proof`.
 */
import { checkpointOrigin, parseCheckpoint } from '../integrity/checkpoint.js'
import type { Tracker } from '../model/index.js'
import type { StoredCheckpoint } from '../store/index.js'
import { checkpointFileKey, latestCheckpointKey } from './layout.js'
import type { ObjectSink } from './object-sink.js'

export interface CheckpointExportDeps {
  readonly sink: ObjectSink
  readonly region: string
  /** The project's checkpoint of the largest size, or undefined (no log, or not signed yet). */
  readonly latestCheckpoint: (projectId: string) => Promise<StoredCheckpoint | undefined>
}

interface Exported {
  readonly bucket: string
  readonly key: string
  /** Size of the checkpoint at `key`; -1 when there is none (or not one of this project). */
  readonly size: number
}

/** The size of the checkpoint note `body` of `projectId`, or -1 when it is not one. */
function exportedSize(body: Uint8Array, projectId: string): number {
  try {
    const { checkpoint } = parseCheckpoint(Buffer.from(body).toString('utf8'))
    return checkpoint.origin === checkpointOrigin(projectId) ? checkpoint.size : -1
  } catch {
    return -1
  }
}

export class CheckpointExport {
  readonly #deps: CheckpointExportDeps
  readonly #exported = new Map<string, Exported>()

  constructor(deps: CheckpointExportDeps) {
    this.#deps = deps
  }

  /**
   * Puts the project's latest checkpoint into the tracker's bucket when it is newer than the one
   * there; returns whether it wrote. Throws the sink's errors (the export is then retried next
   * cycle).
   */
  async export(tracker: Tracker): Promise<boolean> {
    const { sink, region } = this.#deps
    const latest = await this.#deps.latestCheckpoint(tracker.project_id)
    if (latest === undefined) return false
    const bucket = tracker.obs_info.bucket_name
    const name = {
      region,
      tracker: tracker.tracker_name,
      prefix: tracker.obs_info.file_prefix_name,
      projectId: tracker.project_id,
    }
    const key = latestCheckpointKey(name)
    let known = this.#exported.get(tracker.id)
    if (known === undefined || known.bucket !== bucket || known.key !== key) {
      const object = await sink.get(bucket, key)
      known = {
        bucket,
        key,
        size: object === undefined ? -1 : exportedSize(object.body, tracker.project_id),
      }
      this.#exported.set(tracker.id, known)
    }
    if (latest.size <= known.size) return false
    const body = Buffer.from(latest.note, 'utf8')
    await sink.put(
      bucket,
      checkpointFileKey({ ...name, size: latest.size, time: latest.time }),
      body,
    )
    await sink.put(bucket, key, body)
    this.#exported.set(tracker.id, { bucket, key, size: latest.size })
    return true
  }

  /** Forgets what was exported for trackers other than `ids` (deleted trackers). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#exported.keys()) if (!ids.has(id)) this.#exported.delete(id)
  }
}

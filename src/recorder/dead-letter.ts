/**
 * @module recorder/dead-letter
 * The recorder's dead-letter folder (`opencts record --dead-letter DIR`): each batch OpenCTS
 * refused for good (or left unsent when the recorder stopped) becomes one file
 * `<UTC time>_<project id>_<n>.jsonl`, one trace per line, readable only by its owner. That is the
 * input of `opencts ingest`, so the operator replays a file once the cause is fixed (e.g. the
 * producer's user was granted the project): `opencts ingest FILE -p <project id>`, then deletes it.
 * Files are written whole (temporary file, then rename), so a replay never reads half a batch.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DeadBatch, DeadLetterStore } from './trace-reporter.js'

/** Characters kept from a project id in a file name (others become `_`). */
const SAFE = /[^0-9A-Za-z-]/g

export class FolderDeadLetter implements DeadLetterStore {
  readonly description: string
  readonly #dir: string
  #count = 0

  constructor(dir: string) {
    this.#dir = dir
    this.description = dir
  }

  async write(batch: DeadBatch): Promise<string> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 })
    const time = new Date().toISOString().replace(/[:.]/g, '-')
    const project = batch.projectId.replace(SAFE, '_').slice(0, 64)
    const name = `${time}_${project}_${String(++this.#count).padStart(4, '0')}.jsonl`
    const path = join(this.#dir, name)
    const text = batch.traces.map((trace) => JSON.stringify(trace)).join('\n') + '\n'
    const temp = `${path}.tmp-${process.pid}`
    await writeFile(temp, text, { mode: 0o600, flag: 'wx' })
    await rename(temp, path)
    return path
  }
}

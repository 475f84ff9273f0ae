/**
 * @module log/checkpointer
 * Signs checkpoints: every `intervalMs` (default 1 s), each project whose log grew since its
 * latest checkpoint gets a new one (size, root hash, time), signed with the log key and stored. A
 * project that does not grow gets none, so checkpoints come at most once per interval and only
 * while new leaves arrive. The size and every node of the root are read in one snapshot.
 */
import { rootHash } from '../integrity/merkle.js'
import { checkpointOrigin, signCheckpoint } from '../integrity/checkpoint.js'
import type { Clock } from '../platform/clock.js'
import type { MerkleLogStore, StoredCheckpoint } from '../store/index.js'
import type { LogKeys } from './log-keys.js'

export interface CheckpointerDeps {
  readonly store: MerkleLogStore
  readonly keys: LogKeys
  readonly clock: Clock
  readonly intervalMs: number
  /** Called with each new checkpoint after it is stored (exports, metrics). */
  readonly onCheckpoint?: (checkpoint: StoredCheckpoint) => void
  /** Background failures (the loop goes on). */
  readonly onError?: (error: unknown) => void
}

export class Checkpointer {
  readonly #deps: CheckpointerDeps
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined

  constructor(deps: CheckpointerDeps) {
    this.#deps = deps
  }

  /** Signs and stores a checkpoint of every grown project now; returns how many were made. */
  runOnce(): Promise<number> {
    // One run at a time: a call during a run waits for it and then runs again.
    const previous = this.#running ?? Promise.resolve(0)
    const next = previous.catch(() => 0).then(() => this.#run())
    this.#running = next
    return next.finally(() => {
      if (this.#running === next) this.#running = undefined
    })
  }

  async #run(): Promise<number> {
    const { store, keys, clock } = this.#deps
    const grown = await store.uncheckpointed()
    if (grown.length === 0) return 0
    const signer = await keys.signer()
    let made = 0
    for (const { projectId } of grown) {
      const { size, root } = await store.withNodes(projectId, (node, size) => ({
        size,
        root: rootHash(size, node),
      }))
      const time = clock.now()
      const note = signCheckpoint(
        { origin: checkpointOrigin(projectId), size, root, time },
        signer.keyName,
        signer.privateKey,
      )
      const checkpoint: StoredCheckpoint = { projectId, size, root, time, note }
      await store.saveCheckpoint(checkpoint)
      made++
      this.#deps.onCheckpoint?.(checkpoint)
    }
    return made
  }

  /** Runs every interval until stopped. */
  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.#deps.onError?.(error))
    }, this.#deps.intervalMs)
    this.#timer.unref()
  }

  /** Stops the loop and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running?.catch(() => 0)
  }
}

/**
 * @module platform/storage-condition
 * Whether a store can take writes for lack of space. The SQLite store sets it when the engine
 * reports a full disk (SQLITE_FULL, from ENOSPC or `max_page_count`) and clears it when a write that
 * needs new space commits again (a batch of traces, or the space probe of `/health`); the folder
 * object sink sets it on ENOSPC and clears it when an object is written again. Read by `/health`
 * and the metrics; nothing waits on it, so the server recovers without a restart as soon as space
 * is back.
 */
export class StorageCondition {
  #fullSince: number | null = null
  #fullErrors = 0
  readonly #seen = new WeakSet<object>()
  readonly #onFull: (() => void)[] = []

  /** Calls `listener` on each write refused for lack of space (the metrics count them). */
  onFull(listener: () => void): void {
    this.#onFull.push(listener)
  }

  /** Records a failed write for lack of space; the same error object counts once. */
  markFull(error: unknown, now: number = Date.now()): void {
    if (typeof error === 'object' && error !== null) {
      if (this.#seen.has(error)) return
      this.#seen.add(error)
    }
    this.#fullSince ??= now
    this.#fullErrors++
    for (const listener of this.#onFull) listener()
  }

  /** Records a write that needed new space and committed. */
  markWritable(): void {
    this.#fullSince = null
  }

  /** True from a failed write for lack of space until a later write that needs space commits. */
  get full(): boolean {
    return this.#fullSince !== null
  }

  /** When the current full condition began (ms), or null. */
  get fullSince(): number | null {
    return this.#fullSince
  }

  /** Writes refused for lack of space since the store opened. */
  get fullErrors(): number {
    return this.#fullErrors
  }
}

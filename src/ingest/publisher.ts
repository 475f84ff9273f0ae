/**
 * @module ingest/publisher
 * In-process fan-out of committed traces to downstream consumers (notification matcher, log streams,
 * live views). Listeners are called after the commit, never before; a listener that throws is
 * reported through `onListenerError` and does not affect the producer or other listeners.
 * Durable consumers (transfer, delivery) must also resume from the store's cursor (`readFrom`).
 */
import type { TraceRecord } from '../model/index.js'

export type CommitListener = (traces: readonly TraceRecord[]) => void

export class Publisher {
  readonly #listeners = new Set<CommitListener>()
  readonly #onListenerError: (error: unknown) => void

  constructor(onListenerError: (error: unknown) => void = () => {}) {
    this.#onListenerError = onListenerError
  }

  /** Subscribes; returns the unsubscribe function. */
  subscribe(listener: CommitListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  publish(traces: readonly TraceRecord[]): void {
    if (traces.length === 0) return
    for (const listener of this.#listeners) {
      try {
        listener(traces)
      } catch (error) {
        this.#onListenerError(error)
      }
    }
  }
}

/**
 * @module ingest/publisher
 * In-process fan-out of committed traces to downstream consumers (notification matcher, log streams,
 * live views). Listeners are called after the commit, never before; a listener that throws is
 * reported through `onListenerError` and does not affect the producer or other listeners.
 * Durable consumers (transfer, delivery) must also resume from the store's cursor (`readFrom`).
 */
import type { TraceRecord } from '../model/index.js'

/**
 * What listeners hear of a committed trace: the fields they filter and count on. Light, so that a
 * batch prepared in a worker thread need not bring its whole traces back to the event loop; a
 * listener that needs more reads the store (`readFrom`).
 */
export type PublishedTrace = Pick<
  TraceRecord,
  | 'trace_id'
  | 'project_id'
  | 'time'
  | 'service_type'
  | 'resource_type'
  | 'trace_name'
  | 'trace_rating'
  | 'user_name'
>

export type CommitListener = (traces: readonly PublishedTrace[]) => void

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

  publish(traces: readonly PublishedTrace[]): void {
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

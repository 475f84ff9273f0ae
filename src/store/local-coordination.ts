/**
 * @module store/local-coordination
 * Coordination of one node alone (the embedded engine, whose data directory admits one server):
 * every lease is held from the moment it is named, and no other node commits.
 */
import type { Coordination, LeaseHandlers } from './ports/coordination.js'

export class LocalCoordination implements Coordination {
  readonly #held = new Map<string, LeaseHandlers>()
  #closed = false

  hold(name: string, handlers: LeaseHandlers): void {
    if (this.#held.has(name)) throw new Error(`the lease ${name} is already held`)
    if (this.#closed) return
    this.#held.set(name, handlers)
    handlers.acquired()
  }

  held(): readonly string[] {
    return [...this.#held.keys()].sort()
  }

  onRemoteCommit(): () => void {
    return () => undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    const handlers = [...this.#held.values()]
    this.#held.clear()
    for (const h of handlers) await h.lost()
  }
}

/**
 * @module store/ports/coordination
 * The coordination port: what several OpenCTS nodes on one database need from each other. Background
 * work (transfer, deliveries, log streams, checkpoints, retention) runs under a named lease held by
 * one node at a time, and a node learns of the commits of the other nodes. One node on an embedded
 * store holds every lease at once and has no other node to hear from.
 */

/** What a lease holder runs: started when the lease is taken, stopped when it is given up or lost. */
export interface LeaseHandlers {
  /** This node now holds the lease: start the work (returns at once). */
  acquired(): void
  /** This node no longer holds the lease (lost, or released at close): stop the work. */
  lost(): Promise<void> | void
}

export interface Coordination {
  /**
   * Takes part in the election of the lease `name`: `acquired` runs when this node takes it (at once
   * with one node), `lost` when it loses it or at `close`. At most one node holds a lease at a time;
   * when the holder dies, a live node takes it within the documented failover time. Naming a lease
   * twice on one node throws.
   */
  hold(name: string, handlers: LeaseHandlers): void
  /** The leases this node holds now, sorted (metrics, /health). */
  held(): readonly string[]
  /**
   * Calls `listener` shortly after another node commits traces (sub-second), so that this node's
   * consumers (notification matcher, log streams, transfer) wake without polling. Never called for
   * this node's own commits (the in-process publisher covers those). Returns the unsubscribe.
   */
  onRemoteCommit(listener: () => void): () => void
  /** Gives up every lease (awaiting each `lost`) and stops listening. */
  close(): Promise<void>
}

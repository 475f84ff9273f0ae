/**
 * @module platform/clock
 * Time and id sources, injected so that tests are deterministic.
 */
import { randomUUID } from 'node:crypto'

export interface Clock {
  /** Epoch milliseconds. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  #now: number
  constructor(start: number) {
    this.#now = start
  }
  now(): number {
    return this.#now
  }
  advance(ms: number): void {
    this.#now += ms
  }
  set(ms: number): void {
    this.#now = ms
  }
}

export interface IdSource {
  /** A new random UUID (lower-case). */
  uuid(): string
}

export const randomIds: IdSource = { uuid: () => randomUUID() }

/**
 * @module insights/detectors/series-map
 * The bounded state of one detector: at most `cap` entries, the least recently used evicted first
 * (a Map's insertion order, an entry moved to the end when used). It records which entries changed
 * and which were evicted since the last `drain`, so that only those are written to the store.
 * Entries are JSON-serialisable; each carries `touched` (event time of its last use), by which a
 * reloaded map restores its order. Keys are JSON texts (`["project","IMS","createImage"]`): no NUL
 * byte, which PostgreSQL text cannot hold. Pure.
 */

export interface Touched {
  /** Event time (ms) the entry was last used. */
  touched: number
  /**
   * The `seq` of the last trace observed when the entry was last written (drain's `through`):
   * after a checkpoint written in parts was cut short, the counting detectors skip the traces
   * their entry already counted (see insight-job.ts).
   */
  through?: number
}

export class SeriesMap<T extends Touched> {
  readonly #prefix: string
  readonly #cap: number
  readonly #map = new Map<string, T>()
  readonly #dirty = new Set<string>()
  readonly #deleted = new Set<string>()
  /** Entries the store holds (loaded or drained): only those need a delete when evicted. */
  readonly #stored = new WeakSet<T>()

  /** `prefix` names the detector in the store's keys (`rate:`, `denied:` …). */
  constructor(prefix: string, cap: number) {
    this.#prefix = prefix
    this.#cap = cap
  }

  get size(): number {
    return this.#map.size
  }

  /** Entries changed or evicted since the last drain. */
  get pending(): number {
    return this.#dirty.size + this.#deleted.size
  }

  /** The entry, made the most recently used. */
  get(key: string): T | undefined {
    const value = this.#map.get(key)
    if (value !== undefined) {
      this.#map.delete(key)
      this.#map.set(key, value)
    }
    return value
  }

  /** Stores (or replaces) an entry as the most recently used; evicts beyond the cap. */
  set(key: string, value: T): void {
    this.#map.delete(key)
    this.#map.set(key, value)
    this.#dirty.add(key)
    this.#deleted.delete(key)
    while (this.#map.size > this.#cap) {
      const oldest = this.#map.entries().next().value
      if (oldest === undefined) break
      this.#map.delete(oldest[0])
      this.#dirty.delete(oldest[0])
      if (this.#stored.has(oldest[1])) this.#deleted.add(oldest[0])
    }
  }

  /** Records that the entry changed in place (written at the next drain). */
  changed(key: string): void {
    if (this.#map.has(key)) this.#dirty.add(key)
  }

  entries(): IterableIterator<[string, T]> {
    return this.#map.entries()
  }

  /** Whether `storeKey` (as `drain` writes it) belongs to this map. */
  owns(storeKey: string): boolean {
    return storeKey.startsWith(this.#prefix)
  }

  /**
   * Loads stored entries (the store's keys), oldest `touched` first, without marking them changed;
   * an entry that does not parse is skipped (and deleted at the next drain).
   */
  load(stored: readonly (readonly [string, string])[], valid: (value: unknown) => boolean): void {
    const parsed: [string, T][] = []
    for (const [storeKey, text] of stored) {
      const key = storeKey.slice(this.#prefix.length)
      try {
        const value: unknown = JSON.parse(text)
        if (valid(value)) parsed.push([key, value as T])
        else this.#deleted.add(key)
      } catch {
        this.#deleted.add(key)
      }
    }
    parsed.sort((a, b) => a[1].touched - b[1].touched)
    for (const [key, value] of parsed) {
      this.#map.set(key, value)
      this.#stored.add(value)
    }
    while (this.#map.size > this.#cap) {
      const oldest = this.#map.keys().next().value
      if (oldest === undefined) break
      this.#map.delete(oldest)
      this.#deleted.add(oldest)
    }
  }

  /**
   * Up to `limit` changed entries (store key, JSON, stamped `through`) and evicted store keys
   * since the last drain, evictions first; the rest stay pending for the next drain.
   */
  drain(through: number, limit = Infinity): { upserts: [string, string][]; deletes: string[] } {
    const deletes: string[] = []
    for (const key of this.#deleted) {
      if (deletes.length >= limit) break
      deletes.push(this.#prefix + key)
      this.#deleted.delete(key)
    }
    const upserts: [string, string][] = []
    for (const key of this.#dirty) {
      if (deletes.length + upserts.length >= limit) break
      this.#dirty.delete(key)
      const value = this.#map.get(key)
      if (value === undefined) continue
      value.through = through
      upserts.push([this.#prefix + key, JSON.stringify(value)])
      this.#stored.add(value)
    }
    return { upserts, deletes }
  }
}

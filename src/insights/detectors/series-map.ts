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

  /** The changed entries (store key, JSON) and evicted store keys since the last drain. */
  drain(): { upserts: [string, string][]; deletes: string[] } {
    const upserts: [string, string][] = []
    for (const key of this.#dirty) {
      const value = this.#map.get(key)
      if (value === undefined) continue
      upserts.push([this.#prefix + key, JSON.stringify(value)])
      this.#stored.add(value)
    }
    const deletes = [...this.#deleted].map((key) => this.#prefix + key)
    this.#dirty.clear()
    this.#deleted.clear()
    return { upserts, deletes }
  }
}

/**
 * A least-recently-used cache bounded by the bytes of its values, not their number: user buckets
 * differ in size, and the isolate's budget is in bytes.
 *
 * @module
 */

/** An LRU map whose entries each declare their size; the oldest are evicted above `maxBytes`. */
export class ByteLru<K, V> {
  readonly maxBytes: number
  // NOTE: a Map iterates in insertion order, so re-inserting on access makes the first key the LRU one.
  readonly #entries = new Map<K, { value: V; bytes: number }>()
  #bytes = 0
  #closed = false

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size
  }

  /** The value of `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  /**
   * Stores `value` of `bytes` bytes and evicts least recently used entries until the total fits.
   * A value larger than the whole budget is not stored (the caller still uses it for its request).
   */
  set(key: K, value: V, bytes: number): void {
    const old = this.#entries.get(key)
    if (old) {
      this.#bytes -= old.bytes
      this.#entries.delete(key)
    }
    if (bytes > this.maxBytes || this.#closed) return
    this.#entries.set(key, { value, bytes })
    this.#bytes += bytes
    for (const [oldestKey, oldest] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break
      this.#entries.delete(oldestKey)
      this.#bytes -= oldest.bytes
    }
  }

  /** Drops every entry. */
  clear(): void {
    this.#entries.clear()
    this.#bytes = 0
  }

  /**
   * Drops every entry and stores nothing from now on (a replaced model version's caches: requests
   * still holding it use what they load without keeping it).
   */
  close(): void {
    this.clear()
    this.#closed = true
  }
}

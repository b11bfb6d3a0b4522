/**
 * Byte-keyed interning of ids: a reader looks an id up by its UTF-8 bytes in the input buffer, so
 * a row whose ids were seen before creates no string; only a new id is decoded, once.
 *
 * @module
 */

/** MurmurHash3's 32-bit finalizer: every input bit moves every output bit (the table indexes by the low bits). */
function fmix(x: number): number {
  let h = x
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/** Keys of at most this many bytes are stored in their slot (no separate key memory to visit). */
const SHORT = 8

/**
 * An open-addressing hash table from byte strings to integers (linear probing, load ≤ ½). Each
 * slot is 4 integers: key length + 1 (0 = empty), then for a key of ≤ 8 bytes the key itself
 * packed into two integers, for a longer one its hash and its place in a byte arena, then the
 * value. Looking up a short key (a numeric id, a short code) touches one cache line; the last
 * key found is remembered, so the runs of one user in a file sorted by user cost a comparison.
 * Memory: 16 bytes per slot (2–4 slots per key), plus the bytes of the long keys. Ids written
 * as plain whole numbers (`0`, `4711`) skip the slots: their number indexes a direct array.
 *
 * @internal
 * @example
 * ```ts
 * const table = new ByteIdTable()
 * if (table.get(buf, s, e) < 0) table.set(buf, s, e, index)
 * ```
 */
export class ByteIdTable {
  /**
   * Value + 1 of each plainly written whole number key below its length (0 = absent): such ids
   * (most numeric ids) need no hashing; the array grows up to {@link DIRECT_PER_KEY} entries per key.
   */
  #direct = new Int32Array(0)
  /** Keys in the slots (the others are in {@link #direct}). */
  #inSlots = 0
  #slots = new Int32Array(4 * 1024)
  #mask = 1023
  #size = 0
  /** Long keys' bytes: key x is `#arena[#starts[x], #starts[x + 1])`. */
  #arena = new Uint8Array(0)
  #starts = new Int32Array(1)
  #longKeys = 0
  // The last key found or added (short keys only): length + 1, packed bytes, value.
  #lastTag = 0
  #last0 = 0
  #last1 = 0
  #lastValue = -1
  // The last long key found: its arena number (-1 for none) and value.
  #lastLong = -1
  #lastLongValue = -1

  /** Keys stored. */
  get size(): number {
    return this.#size
  }

  /** The value of the key `buf[start, end)`, or -1 when it is not in the table. */
  get(buf: Uint8Array, start: number, end: number): number {
    const length = end - start
    if (length > SHORT) return this.#getLong(buf, start, end)
    let k0 = 0
    let k1 = 0
    const split = length < 4 ? end : start + 4
    for (let j = start; j < split; j++) k0 = (k0 << 8) | buf[j]!
    for (let j = split; j < end; j++) k1 = (k1 << 8) | buf[j]!
    const tag = length + 1
    if (tag === this.#lastTag && k0 === this.#last0 && k1 === this.#last1) return this.#lastValue
    // A small whole number written plainly (`0`, `4711`, not `007`) is its own index.
    const n = plainNumber(buf, start, end)
    if (n >= 0 && n < this.#direct.length) {
      const value = this.#direct[n]! - 1
      if (value >= 0) return value
      // Not there: new, or stored in the slots before the array reached it.
    }
    const slots = this.#slots
    const mask = this.#mask
    for (let slot = fmix(k0 ^ Math.imul(k1 ^ tag, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const at = slot << 2
      const t = slots[at]!
      if (t === 0) return -1
      if (t === tag && slots[at + 1] === k0 && slots[at + 2] === k1) {
        this.#lastTag = tag
        this.#last0 = k0
        this.#last1 = k1
        this.#lastValue = slots[at + 3]!
        return this.#lastValue
      }
    }
  }

  /** Adds the key `buf[start, end)`, which must not be in the table, with `value`. */
  set(buf: Uint8Array, start: number, end: number, value: number): void {
    const n = plainNumber(buf, start, end)
    if (n >= 0 && n < Math.max(DIRECT_MIN, DIRECT_PER_KEY * (this.#size + 1))) {
      if (n >= this.#direct.length) {
        const direct = new Int32Array(Math.max(DIRECT_MIN, 2 * this.#direct.length, n + 1))
        direct.set(this.#direct)
        this.#direct = direct
      }
      this.#direct[n] = value + 1
      this.#size++
      return
    }
    if ((this.#inSlots + 1) * 2 > this.#mask + 1) this.#grow()
    this.#inSlots++
    const length = end - start
    const tag = length + 1
    let a: number
    let b: number
    let h: number
    if (length > SHORT) {
      h = longHash(buf, start, end)
      a = h
      b = this.#addLong(buf, start, end)
    } else {
      a = 0
      b = 0
      const split = length < 4 ? end : start + 4
      for (let j = start; j < split; j++) a = (a << 8) | buf[j]!
      for (let j = split; j < end; j++) b = (b << 8) | buf[j]!
      h = fmix(a ^ Math.imul(b ^ tag, 0x9e3779b1))
    }
    this.#place(h, tag, a, b, value)
    this.#size++
  }

  #getLong(buf: Uint8Array, start: number, end: number): number {
    const length = end - start
    const tag = length + 1
    // The last long key found (a file sorted by user repeats it row after row): one comparison.
    if (this.#lastLong >= 0 && this.#starts[this.#lastLong + 1]! - this.#starts[this.#lastLong]! === length) {
      const s = this.#starts[this.#lastLong]!
      const arena = this.#arena
      let j = 0
      while (j < length && arena[s + j] === buf[start + j]) j++
      if (j === length) return this.#lastLongValue
    }
    const h = longHash(buf, start, end)
    const slots = this.#slots
    const mask = this.#mask
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = slot << 2
      const t = slots[at]!
      if (t === 0) return -1
      if (t !== tag || slots[at + 1] !== h) continue
      const s = this.#starts[slots[at + 2]!]!
      const arena = this.#arena
      let j = 0
      while (j < length && arena[s + j] === buf[start + j]) j++
      if (j === length) {
        this.#lastLong = slots[at + 2]!
        this.#lastLongValue = slots[at + 3]!
        return this.#lastLongValue
      }
    }
  }

  /** Copies a long key into the arena; returns its number. */
  #addLong(buf: Uint8Array, start: number, end: number): number {
    const x = this.#longKeys
    if (x + 2 > this.#starts.length) {
      const starts = new Int32Array(Math.max(16, this.#starts.length * 2))
      starts.set(this.#starts)
      this.#starts = starts
    }
    const s = this.#starts[x]!
    const length = end - start
    if (s + length > this.#arena.length) {
      const arena = new Uint8Array(Math.max(4096, this.#arena.length * 2, s + length))
      arena.set(this.#arena.subarray(0, s))
      this.#arena = arena
    }
    this.#arena.set(buf.subarray(start, end), s)
    this.#starts[x + 1] = s + length
    this.#longKeys = x + 1
    return x
  }

  #place(h: number, tag: number, a: number, b: number, value: number): void {
    const slots = this.#slots
    const mask = this.#mask
    let slot = h & mask
    while (slots[slot << 2] !== 0) slot = (slot + 1) & mask
    const at = slot << 2
    slots[at] = tag
    slots[at + 1] = a
    slots[at + 2] = b
    slots[at + 3] = value
  }

  #grow(): void {
    const old = this.#slots
    this.#slots = new Int32Array(old.length * 2)
    this.#mask = (this.#mask << 1) | 1
    for (let at = 0; at < old.length; at += 4) {
      const tag = old[at]!
      if (tag === 0) continue
      const a = old[at + 1]!
      const b = old[at + 2]!
      // A long key's hash is in the slot; a short key's is recomputed from its bytes.
      const h = tag - 1 > SHORT ? a : fmix(a ^ Math.imul(b ^ tag, 0x9e3779b1))
      this.#place(h, tag, a, b, old[at + 3]!)
    }
  }
}

/** The direct array ({@link ByteIdTable}) may cover this many numbers per key stored, at least {@link DIRECT_MIN}. */
const DIRECT_PER_KEY = 8
const DIRECT_MIN = 1 << 16

/**
 * The value of `buf[start, end)` when it is a whole number of at most 9 digits written plainly
 * (no sign, no leading zero unless it is `0`); -1 otherwise.
 */
function plainNumber(buf: Uint8Array, start: number, end: number): number {
  const length = end - start
  if (length < 1 || length > 9 || (buf[start] === 48 && length > 1)) return -1
  let n = 0
  for (let j = start; j < end; j++) {
    const d = buf[j]! - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/** Hash of a long key `buf[start, end)` (FNV-1a, then mixed). */
function longHash(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0
  for (let j = start; j < end; j++) h = Math.imul(h ^ buf[j]!, 0x01000193)
  return fmix(h)
}

/**
 * A compact id ↔ index map for large catalogs: one UTF-8 string table with offsets and an
 * open-addressing hash table (FNV-1a, linear probing) of indexes, instead of a `Map` of strings.
 * About `idBytes + 4 + 4·capacity/n` bytes per id (≈ 26 B for 10-char ids) where a `Map` of V8
 * strings costs ≈ 100 B.
 *
 * @module
 */
import { CoreError } from '../errors.js'
import type { IdTable } from './id-table.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** FNV-1a over `bytes[start, end)` (the same function as `stableHash32`, on bytes). */
function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5
  for (let i = start; i < end; i++) {
    hash ^= bytes[i]!
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/** Slots for `count` ids: a power of two ≥ 2·count (load factor ≤ 0.5). */
function capacityFor(count: number): number {
  let capacity = 16
  while (capacity < count * 2) capacity *= 2
  return capacity
}

/**
 * Bytes an {@link IdIndex} of `count` ids totalling `idBytes` UTF-8 bytes holds: the string table,
 * the offsets and the slots. Exact (typed arrays only); use it to plan memory before loading.
 */
export function idIndexByteLength(count: number, idBytes: number): number {
  return idBytes + 4 * (count + 1) + 4 * capacityFor(count)
}

/** Ids of global indexes `[0, count)`: string table + offsets + hash slots. Build with {@link IdIndexBuilder}. */
export class IdIndex {
  readonly #bytes: Uint8Array
  readonly #offsets: Uint32Array
  /** Slot → index + 1 (0 = empty). */
  readonly #slots: Int32Array
  readonly #mask: number
  #scratch = new Uint8Array(256)

  /** @internal */
  constructor(bytes: Uint8Array, offsets: Uint32Array, slots: Int32Array) {
    this.#bytes = bytes
    this.#offsets = offsets
    this.#slots = slots
    this.#mask = slots.length - 1
  }

  /**
   * An index over an existing id table (e.g. a user bucket's): reuses its bytes and offsets (views
   * on the shard) and adds only the hash slots (4–8 B per id).
   */
  static over(table: IdTable): IdIndex {
    const index = new IdIndex(table.bytes, table.offsets, new Int32Array(capacityFor(table.size)))
    for (let i = 0; i < table.size; i++) index.insert(i)
    return index
  }

  /** Number of ids. */
  get size(): number {
    return this.#offsets.length - 1
  }

  /** Bytes held (typed arrays, exact; for {@link IdIndex.over}, the shared table's bytes included). */
  get byteLength(): number {
    return this.#bytes.byteLength + this.#offsets.byteLength + this.#slots.byteLength
  }

  /** Bytes of the hash slots alone (what {@link IdIndex.over} adds to a table it shares). */
  get slotBytes(): number {
    return this.#slots.byteLength
  }

  /** The id at `index`. */
  get(index: number): string {
    if (!(index >= 0 && index < this.size) || !Number.isInteger(index)) {
      throw new CoreError('INVALID_ARGUMENT', `Item index ${index} is outside 0..${this.size - 1}.`)
    }
    return decoder.decode(this.#bytes.subarray(this.#offsets[index]!, this.#offsets[index + 1]!))
  }

  /** The index of `id` (its first occurrence), or -1. */
  indexOf(id: string): number {
    // UTF-8 is at most 3 bytes per UTF-16 code unit.
    if (this.#scratch.length < id.length * 3) this.#scratch = new Uint8Array(id.length * 3)
    const { written } = encoder.encodeInto(id, this.#scratch)
    return this.#find(this.#scratch, 0, written)
  }

  #find(key: Uint8Array, start: number, end: number): number {
    const length = end - start
    const bytes = this.#bytes
    const offsets = this.#offsets
    for (let slot = fnv1a(key, start, end) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const entry = this.#slots[slot]!
      if (entry === 0) return -1
      const index = entry - 1
      const at = offsets[index]!
      if (offsets[index + 1]! - at !== length) continue
      let same = true
      for (let i = 0; i < length; i++) {
        if (bytes[at + i] !== key[start + i]) {
          same = false
          break
        }
      }
      if (same) return index
    }
  }

  /** @internal Inserts `index` unless its id is already present (first occurrence wins). */
  insert(index: number): void {
    const at = this.#offsets[index]!
    const end = this.#offsets[index + 1]!
    if (this.#find(this.#bytes, at, end) >= 0) return
    let slot = fnv1a(this.#bytes, at, end) & this.#mask
    while (this.#slots[slot] !== 0) slot = (slot + 1) & this.#mask
    this.#slots[slot] = index + 1
  }
}

/**
 * Builds an {@link IdIndex} from the id tables of item shards as they arrive, in row order, so a
 * loader can drop each shard once copied. Given `byteCapacity` (an upper bound of the id bytes, e.g.
 * from the manifest's shard sizes), the string table is allocated once and nothing is copied twice.
 *
 * @example
 * ```ts
 * const builder = new IdIndexBuilder(manifest.counts.items)
 * for (const shard of shards) builder.add(shard.rowOffset, shard.ids)
 * const ids = builder.build()
 * ids.indexOf('sku-42')
 * ```
 */
export class IdIndexBuilder {
  readonly #count: number
  readonly #offsets: Uint32Array
  #bytes: Uint8Array
  #rows = 0
  #used = 0

  constructor(count: number, byteCapacity = 0) {
    this.#count = count
    this.#offsets = new Uint32Array(count + 1)
    this.#bytes = new Uint8Array(Math.max(0, byteCapacity))
  }

  /** Copies the ids of rows `[rowOffset, rowOffset + table.size)`; parts must come in row order. */
  add(rowOffset: number, table: IdTable): void {
    if (rowOffset !== this.#rows || rowOffset + table.size > this.#count) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `Ids of rows ${rowOffset}..${rowOffset + table.size - 1} do not continue rows 0..${this.#rows - 1} within 0..${this.#count - 1}. Add id tables in row order, without gaps.`,
      )
    }
    const { bytes, offsets } = table
    if (this.#used + bytes.length > this.#bytes.length) {
      // NOTE: only without a (sufficient) capacity: doubling copies the table once more.
      const grown = new Uint8Array(Math.max(this.#used + bytes.length, this.#bytes.length * 2))
      grown.set(this.#bytes.subarray(0, this.#used))
      this.#bytes = grown
    }
    this.#bytes.set(bytes, this.#used)
    for (let r = 0; r < table.size; r++) this.#offsets[rowOffset + r] = this.#used + offsets[r]!
    this.#used += bytes.length
    this.#rows += table.size
  }

  /** The index; every row must have been added. */
  build(): IdIndex {
    if (this.#rows !== this.#count) {
      throw new CoreError('INVALID_ARGUMENT', `Ids cover ${this.#rows} of ${this.#count} rows.`)
    }
    this.#offsets[this.#count] = this.#used
    const bytes = this.#used === this.#bytes.length ? this.#bytes : this.#bytes.slice(0, this.#used)
    const index = new IdIndex(bytes, this.#offsets, new Int32Array(capacityFor(this.#count)))
    for (let i = 0; i < this.#count; i++) index.insert(i)
    return index
  }
}

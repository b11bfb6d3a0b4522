import { CoreError, ShardFormatError } from '../errors.js'

// NOTE: ignoreBOM keeps a leading U+FEFF in an id instead of silently dropping it.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The ids of a shard's rows, read lazily from the shard's bytes (offsets + UTF-8),
 * with a lookup map built on first use.
 */
export class IdTable {
  readonly #offsets: Uint32Array
  readonly #bytes: Uint8Array
  #index: Map<string, number> | undefined
  #cache: (string | undefined)[] | undefined

  constructor(offsets: Uint32Array, bytes: Uint8Array) {
    this.#offsets = offsets
    this.#bytes = bytes
  }

  /** Number of ids. */
  get size(): number {
    return this.#offsets.length - 1
  }

  /** The id of row `row`. */
  get(row: number): string {
    if (!(row >= 0 && row < this.size) || !Number.isInteger(row)) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `Row ${row} is outside 0..${this.size - 1}; look the row up with indexOf first.`,
      )
    }
    this.#cache ??= new Array(this.size)
    let id = this.#cache[row]
    if (id === undefined) {
      try {
        id = decoder.decode(this.#bytes.subarray(this.#offsets[row]!, this.#offsets[row + 1]!))
      } catch (cause) {
        throw new ShardFormatError('SHARD_MALFORMED', `Id of row ${row} is not valid UTF-8.`, { cause })
      }
      this.#cache[row] = id
    }
    return id
  }

  /** The row of `id`, or -1. Builds a map over all ids on first call. */
  indexOf(id: string): number {
    if (!this.#index) {
      const index = new Map<string, number>()
      for (let i = 0; i < this.size; i++) index.set(this.get(i), i)
      this.#index = index
    }
    return this.#index.get(id) ?? -1
  }

  /** The UTF-8 bytes of all ids, concatenated (a view on the shard; copy it to keep it). */
  get bytes(): Uint8Array {
    return this.#bytes
  }

  /** Offsets of each id in {@link IdTable.bytes}: id `row` is `bytes[offsets[row] .. offsets[row + 1])`. */
  get offsets(): Uint32Array {
    return this.#offsets
  }

  /** All ids as an array. */
  toArray(): string[] {
    const out: string[] = new Array(this.size)
    for (let i = 0; i < this.size; i++) out[i] = this.get(i)
    return out
  }

  /**
   * Validates the table; called by the decoder. Offsets must start at 0, never decrease, end at
   * `bytes.length`, and every id must be valid UTF-8. Checking the whole byte run once with a fatal
   * decoder plus "no id starts on a continuation byte (10xxxxxx)" proves every slice is valid UTF-8
   * without decoding ids one by one.
   * @internal
   */
  static check(offsets: Uint32Array, bytes: Uint8Array): void {
    if (offsets.length === 0 || offsets[0] !== 0) {
      throw new ShardFormatError('SHARD_MALFORMED', 'Id table offsets must start at 0.')
    }
    for (let i = 1; i < offsets.length; i++) {
      if (offsets[i]! < offsets[i - 1]!) {
        throw new ShardFormatError('SHARD_MALFORMED', `Id table offsets decrease at ${i}.`)
      }
    }
    if (offsets[offsets.length - 1] !== bytes.length) {
      throw new ShardFormatError('SHARD_MALFORMED', 'Id table offsets do not end at the id bytes length.')
    }
    for (let i = 0; i < offsets.length - 1; i++) {
      const start = offsets[i]!
      if (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) {
        throw new ShardFormatError('SHARD_MALFORMED', `Id ${i} starts inside a UTF-8 character.`)
      }
    }
    let ascii = true
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! >= 0x80) {
        ascii = false
        break
      }
    }
    if (ascii) return
    try {
      decoder.decode(bytes)
    } catch (cause) {
      throw new ShardFormatError('SHARD_MALFORMED', 'Id table is not valid UTF-8.', { cause })
    }
  }
}

/** Encodes ids as (offsets, UTF-8 bytes). */
export function encodeIds(ids: readonly string[]): { offsets: Uint32Array; bytes: Uint8Array } {
  const encoder = new TextEncoder()
  const parts = ids.map((id) => encoder.encode(id))
  const offsets = new Uint32Array(ids.length + 1)
  let total = 0
  for (let i = 0; i < parts.length; i++) {
    total += parts[i]!.length
    offsets[i + 1] = total
  }
  const bytes = new Uint8Array(total)
  for (let i = 0; i < parts.length; i++) bytes.set(parts[i]!, offsets[i]!)
  return { offsets, bytes }
}

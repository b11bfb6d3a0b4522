import { CoreError } from '../errors.js'
import {
  alignUp,
  DEFAULT_MAX_SHARD_BYTES,
  SHARD_CHECKSUM_BYTES,
  SHARD_HEADER_BYTES,
  SHARD_SECTION_ENTRY_BYTES,
} from './format.js'

/** A half-open range of rows `[start, end)`. */
export interface RowRange {
  start: number
  end: number
}

/**
 * Splits `count` rows into consecutive ranges so that `overhead` plus the bytes of the rows of each
 * range stays within `maxBytes` (greedy, in order). The one splitting rule of every per-item object
 * of a version: item shards ({@link planItemShards}) and catalog shards (core's `splitCatalog`).
 *
 * @throws {@link CoreError} `INVALID_ARGUMENT` when one row alone cannot fit
 */
export function planRowRanges(
  count: number,
  rowBytes: (row: number) => number,
  overhead: number,
  maxBytes: number,
  what = 'row',
): RowRange[] {
  const ranges: RowRange[] = []
  let start = 0
  let size = overhead
  for (let r = 0; r < count; r++) {
    const row = rowBytes(r)
    if (overhead + row > maxBytes) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `One ${what} (${row} bytes) cannot fit in a ${maxBytes}-byte shard.`,
      )
    }
    if (size + row > maxBytes) {
      ranges.push({ start, end: r })
      start = r
      size = overhead
    }
    size += row
  }
  ranges.push({ start, end: count })
  return ranges
}

/**
 * Splits the rows of an item shard into consecutive ranges so that no encoded shard exceeds
 * `maxBytes`. Row size counts the int8 factors, scale, norm, id offset and the id's UTF-8 bytes;
 * the fixed overhead counts the header, section table, alignment padding and checksum.
 *
 * @example
 * ```ts
 * for (const { start, end } of planItemShards(ids, 64)) encodeShard({ kind: 'items', rowOffset: start, ... })
 * ```
 */
export function planItemShards(
  ids: readonly string[],
  dims: number,
  maxBytes = DEFAULT_MAX_SHARD_BYTES,
): RowRange[] {
  const encoder = new TextEncoder()
  const sections = 5
  // Header + table + up to 7 padding bytes per section + one extra id offset + checksum.
  const overhead =
    alignUp(SHARD_HEADER_BYTES + sections * SHARD_SECTION_ENTRY_BYTES) +
    sections * 7 +
    4 +
    SHARD_CHECKSUM_BYTES
  return planRowRanges(
    ids.length,
    (r) => dims + 4 + 4 + 4 + encoder.encode(ids[r]!).length,
    overhead,
    maxBytes,
    'item row',
  )
}

/**
 * Bytes a one-section shard (catalog) adds around its section body: header, section table,
 * alignment padding and checksum.
 */
export const SINGLE_SECTION_OVERHEAD_BYTES =
  alignUp(SHARD_HEADER_BYTES + SHARD_SECTION_ENTRY_BYTES) + 7 + SHARD_CHECKSUM_BYTES

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
  const ranges: RowRange[] = []
  let start = 0
  let size = overhead
  for (let r = 0; r < ids.length; r++) {
    const row = dims + 4 + 4 + 4 + encoder.encode(ids[r]!).length
    if (overhead + row > maxBytes) {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `One item row (${row} bytes) cannot fit in a ${maxBytes}-byte shard.`,
      )
    }
    if (size + row > maxBytes) {
      ranges.push({ start, end: r })
      start = r
      size = overhead
    }
    size += row
  }
  ranges.push({ start, end: ids.length })
  return ranges
}

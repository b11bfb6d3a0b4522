import { CoreError } from '../errors.js'
import { sha256, toHex } from './checksum.js'
import {
  alignUp,
  SECTION_ELEMENT_BYTES,
  type SectionName,
  SectionType,
  SHARD_CHECKSUM_BYTES,
  SHARD_FORMAT_VERSION,
  SHARD_HEADER_BYTES,
  SHARD_MAGIC,
  SHARD_SECTION_ENTRY_BYTES,
  ShardKind,
  DEFAULT_MAX_SHARD_BYTES,
} from './format.js'
import { encodeIds } from './id-table.js'
import type { ShardInput } from './types.js'

type SectionData = Int8Array | Uint8Array | Float32Array | Uint32Array

/** An encoded shard and the checksum to record in the manifest. */
export interface EncodedShard {
  bytes: Uint8Array
  /** Hex SHA-256 of `bytes` without the 32-byte trailer (the trailer holds the same digest). */
  sha256: string
}

/** Options of {@link encodeShard}. */
export interface EncodeShardOptions {
  /** Refuse to write a shard larger than this. Default 24 MiB. */
  maxBytes?: number
}

function rowNorms(values: Int8Array, scales: Float32Array, rows: number, dims: number): Float32Array {
  const norms = new Float32Array(rows)
  for (let r = 0; r < rows; r++) {
    let sum = 0
    const base = r * dims
    for (let d = 0; d < dims; d++) {
      const q = values[base + d]!
      sum += q * q
    }
    norms[r] = scales[r]! * Math.sqrt(sum)
  }
  return norms
}

function collectSections(input: ShardInput): {
  rowCount: number
  dims: number
  rowOffset: number
  sections: [SectionName, SectionData][]
} {
  switch (input.kind) {
    case 'items': {
      const { factors, ids } = input
      if (ids.length !== factors.rows) {
        throw new CoreError('INVALID_ARGUMENT', `Item shard has ${factors.rows} rows but ${ids.length} ids.`)
      }
      const norms = input.norms ?? rowNorms(factors.values, factors.scales, factors.rows, factors.dims)
      const idTable = encodeIds(ids)
      return {
        rowCount: factors.rows,
        dims: factors.dims,
        rowOffset: input.rowOffset ?? 0,
        sections: [
          ['factors', factors.values.subarray(0, factors.rows * factors.dims)],
          ['scales', factors.scales],
          ['norms', norms],
          ['idOffsets', idTable.offsets],
          ['idBytes', idTable.bytes],
        ],
      }
    }
    case 'users': {
      const { factors, ids, interactions } = input
      if (ids.length !== factors.rows || interactions.offsets.length !== factors.rows + 1) {
        throw new CoreError(
          'INVALID_ARGUMENT',
          `User shard rows (${factors.rows}), ids (${ids.length}) and interaction offsets (${interactions.offsets.length} - 1) differ.`,
        )
      }
      const idTable = encodeIds(ids)
      return {
        rowCount: factors.rows,
        dims: factors.dims,
        rowOffset: 0,
        sections: [
          ['factors', factors.values.subarray(0, factors.rows * factors.dims)],
          ['scales', factors.scales],
          ['idOffsets', idTable.offsets],
          ['idBytes', idTable.bytes],
          ['interactionOffsets', interactions.offsets],
          ['interactionItems', interactions.items],
          ['interactionConfidences', interactions.confidences],
        ],
      }
    }
    case 'popularity':
      if (input.itemIndexes.length !== input.scores.length) {
        throw new CoreError('INVALID_ARGUMENT', 'Popularity shard needs one score per item index.')
      }
      return {
        rowCount: input.itemIndexes.length,
        dims: 0,
        rowOffset: 0,
        sections: [
          ['itemIndexes', input.itemIndexes],
          ['scores', input.scores],
        ],
      }
    case 'gram':
      if (input.matrix.length !== input.dims * input.dims) {
        throw new CoreError('INVALID_ARGUMENT', `Gram shard needs ${input.dims}² values, got ${input.matrix.length}.`)
      }
      return { rowCount: input.dims, dims: input.dims, rowOffset: 0, sections: [['matrix', input.matrix]] }
  }
}

/**
 * Encodes a shard in format v1 (see `docs/shard-format.md`): header, section table, 8-byte aligned
 * little-endian sections, trailing SHA-256.
 *
 * @example
 * ```ts
 * const { bytes, sha256 } = await encodeShard({ kind: 'items', factors: quantizeRows(Y, n, 64), ids })
 * ```
 */
export async function encodeShard(input: ShardInput, options: EncodeShardOptions = {}): Promise<EncodedShard> {
  const { rowCount, dims, rowOffset, sections } = collectSections(input)
  const tableEnd = SHARD_HEADER_BYTES + sections.length * SHARD_SECTION_ENTRY_BYTES
  let cursor = alignUp(tableEnd)
  const placed = sections.map(([name, data]) => {
    const offset = cursor
    cursor = alignUp(offset + data.byteLength)
    return { name, data, offset }
  })
  const total = cursor + SHARD_CHECKSUM_BYTES
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SHARD_BYTES
  if (total > maxBytes) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `A ${input.kind} shard of ${total} bytes exceeds the limit of ${maxBytes}; split it into more shards.`,
    )
  }
  if (total > 0xffffffff) throw new CoreError('INVALID_ARGUMENT', 'Shards are limited to 4 GiB.')

  const bytes = new Uint8Array(total)
  const view = new DataView(bytes.buffer)
  bytes.set(SHARD_MAGIC, 0)
  view.setUint16(4, SHARD_FORMAT_VERSION, true)
  view.setUint16(6, ShardKind[input.kind], true)
  view.setUint32(8, rowCount, true)
  view.setUint32(12, dims, true)
  view.setUint32(16, rowOffset, true)
  view.setUint32(20, sections.length, true)
  view.setUint32(24, total, true)
  view.setUint32(28, 0, true)

  placed.forEach(({ name, data, offset }, i) => {
    const entry = SHARD_HEADER_BYTES + i * SHARD_SECTION_ENTRY_BYTES
    view.setUint32(entry, SectionType[name], true)
    view.setUint32(entry + 4, data.byteLength / SECTION_ELEMENT_BYTES[name], true)
    view.setUint32(entry + 8, offset, true)
    view.setUint32(entry + 12, data.byteLength, true)
    writeLittleEndian(view, bytes, offset, data)
  })

  const digest = await sha256(bytes.subarray(0, total - SHARD_CHECKSUM_BYTES))
  bytes.set(digest, total - SHARD_CHECKSUM_BYTES)
  return { bytes, sha256: toHex(digest) }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

function writeLittleEndian(view: DataView, bytes: Uint8Array, offset: number, data: SectionData): void {
  if (data instanceof Int8Array || data instanceof Uint8Array || LITTLE_ENDIAN_HOST) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset)
    return
  }
  // NOTE: big-endian hosts are rare, but the format is little-endian everywhere.
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(offset + i * 4, data[i]!, true)
    else view.setUint32(offset + i * 4, data[i]!, true)
  }
}

/** Exact byte size a shard would have, for planning splits. */
export function shardByteLength(sectionByteLengths: readonly number[]): number {
  let cursor = alignUp(SHARD_HEADER_BYTES + sectionByteLengths.length * SHARD_SECTION_ENTRY_BYTES)
  for (const len of sectionByteLengths) cursor = alignUp(cursor + len)
  return cursor + SHARD_CHECKSUM_BYTES
}

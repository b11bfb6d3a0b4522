import { CoreError } from '../errors.js'
import type { QuantizedMatrix } from '../quantize/quantize.js'
import { sha256, toHex } from './checksum.js'
import {
  alignUp,
  candidateListsProblem,
  DEFAULT_MAX_SHARD_BYTES,
  isStrictlyAscending,
  listBytesProblem,
  listOffsetsProblem,
  SECTION_ELEMENT_BYTES,
  type SectionName,
  SectionType,
  SHARD_CHECKSUM_BYTES,
  SHARD_FORMAT_VERSION,
  SHARD_HEADER_BYTES,
  SHARD_MAGIC,
  SHARD_SECTION_ENTRY_BYTES,
  ShardKind,
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

function invalid(message: string): never {
  throw new CoreError('INVALID_ARGUMENT', message)
}

function checkFactors(kind: string, factors: QuantizedMatrix, ids: readonly string[]): void {
  const { rows, dims } = factors
  if (!Number.isInteger(dims) || dims < 1 || dims > 4096)
    invalid(`A ${kind} shard needs dims in 1..4096, got ${dims}.`)
  if (!Number.isInteger(rows) || rows < 0 || rows > 0xffffffff)
    invalid(`A ${kind} shard needs a row count in 0..2³²−1.`)
  if (factors.values.length < rows * dims)
    invalid(`${kind} factors hold ${factors.values.length} values, fewer than ${rows} × ${dims}.`)
  if (factors.scales.length < rows)
    invalid(`${kind} factors hold ${factors.scales.length} scales for ${rows} rows.`)
  if (ids.length !== rows)
    invalid(`A ${kind} shard has ${rows} rows but ${ids.length} ids; give one id per row.`)
  checkNonNegativeFinite(factors.scales.subarray(0, rows), `${kind} scales`)
  const seen = new Set<string>()
  for (const id of ids) {
    if (seen.has(id))
      invalid(`Id "${id.slice(0, 64)}" appears twice in one ${kind} shard; ids must be unique.`)
    seen.add(id)
  }
}

function checkNonNegativeFinite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!(v >= 0 && v < Number.POSITIVE_INFINITY))
      invalid(`${what}[${i}] is ${v}; it must be finite and ≥ 0.`)
  }
}

function checkFinite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) invalid(`${what}[${i}] is ${values[i]}; it must be finite.`)
  }
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
      checkFactors('items', factors, ids)
      const rowOffset = input.rowOffset ?? 0
      if (!Number.isInteger(rowOffset) || rowOffset < 0 || rowOffset + factors.rows > 0xffffffff) {
        invalid(`rowOffset must be an integer in 0..2³²−1 − rows, got ${rowOffset}.`)
      }
      const scales = factors.scales.subarray(0, factors.rows)
      const norms = input.norms ?? rowNorms(factors.values, scales, factors.rows, factors.dims)
      if (norms.length !== factors.rows)
        invalid(`An item shard needs one norm per row: ${norms.length} for ${factors.rows}.`)
      checkNonNegativeFinite(norms, 'norms')
      const idTable = encodeIds(ids)
      return {
        rowCount: factors.rows,
        dims: factors.dims,
        rowOffset,
        sections: [
          ['factors', factors.values.subarray(0, factors.rows * factors.dims)],
          ['scales', scales],
          ['norms', norms],
          ['idOffsets', idTable.offsets],
          ['idBytes', idTable.bytes],
        ],
      }
    }
    case 'users': {
      const { factors, ids, interactions } = input
      checkFactors('users', factors, ids)
      const { offsets, items, confidences } = interactions
      if (offsets.length !== factors.rows + 1) {
        invalid(
          `A user shard of ${factors.rows} rows needs ${factors.rows + 1} interaction offsets, got ${offsets.length}.`,
        )
      }
      if (items.length !== confidences.length) invalid('Interactions need one confidence per item.')
      if (offsets[0] !== 0 || offsets[factors.rows] !== items.length) {
        invalid(`Interaction offsets must run from 0 to ${items.length} (the number of interactions).`)
      }
      for (let r = 1; r <= factors.rows; r++) {
        if (offsets[r]! < offsets[r - 1]!) invalid(`Interaction offsets decrease at row ${r}.`)
      }
      checkFinite(confidences, 'interaction confidences')
      const candidates = input.candidates
      if (candidates) {
        const problem = candidateListsProblem(candidates, factors.rows, true)
        if (problem) invalid(problem)
      }
      const idTable = encodeIds(ids)
      return {
        rowCount: factors.rows,
        dims: factors.dims,
        rowOffset: 0,
        sections: [
          ['factors', factors.values.subarray(0, factors.rows * factors.dims)],
          ['scales', factors.scales.subarray(0, factors.rows)],
          ['idOffsets', idTable.offsets],
          ['idBytes', idTable.bytes],
          ['interactionOffsets', offsets],
          ['interactionItems', items],
          ['interactionConfidences', confidences],
          ...(candidates
            ? [
                ['candidateOffsets', candidates.offsets] as [SectionName, SectionData],
                ['candidateItems', candidates.items] as [SectionName, SectionData],
                ['candidateScores', candidates.scores] as [SectionName, SectionData],
              ]
            : []),
        ],
      }
    }
    case 'popularity':
      if (input.itemIndexes.length !== input.scores.length)
        invalid('A popularity shard needs one score per item index.')
      checkFinite(input.scores, 'popularity scores')
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
      if (!Number.isInteger(input.dims) || input.dims < 1 || input.dims > 4096) {
        invalid(`A gram shard needs dims in 1..4096, got ${input.dims}.`)
      }
      if (input.matrix.length !== input.dims * input.dims) {
        invalid(`A gram shard needs ${input.dims}² values, got ${input.matrix.length}.`)
      }
      checkFinite(input.matrix, 'gram matrix')
      return { rowCount: input.dims, dims: input.dims, rowOffset: 0, sections: [['matrix', input.matrix]] }
    case 'catalog':
      if (!Number.isInteger(input.rows) || input.rows < 0 || input.rows > 0xffffffff)
        invalid(`A catalog shard needs a row count in 0..2³²−1, got ${input.rows}.`)
      return {
        rowCount: input.rows,
        dims: 0,
        rowOffset: input.rowOffset ?? 0,
        sections: [['json', input.json]],
      }
    case 'partitions': {
      const { dims, centroids, listOffsets, itemIndexes } = input
      if (!Number.isInteger(dims) || dims < 1 || dims > 4096)
        invalid(`A partitions shard needs dims in 1..4096, got ${dims}.`)
      const lists = listOffsets.length - 1
      if (lists < 1 || centroids.length !== lists * dims)
        invalid(
          `A partitions shard needs ${Math.max(lists, 1)} × ${dims} centroid values, got ${centroids.length}.`,
        )
      checkFinite(centroids, 'centroids')
      const problem = listOffsetsProblem(listOffsets, itemIndexes.length)
      if (problem) invalid(`A partitions shard: ${problem}`)
      const { listBytes, listDigests } = input
      const bytesProblem = listBytes.length === lists + 1 ? listBytesProblem(listBytes) : 'wrong length'
      if (bytesProblem) invalid(`A partitions shard needs ${lists + 1} list byte offsets: ${bytesProblem}`)
      if (listDigests.length !== 32 * lists)
        invalid(`A partitions shard needs ${32 * lists} digest bytes, got ${listDigests.length}.`)
      return {
        rowCount: lists,
        dims,
        rowOffset: 0,
        sections: [
          ['matrix', centroids],
          ['listOffsets', listOffsets],
          ['itemIndexes', itemIndexes],
          ['listBytes', listBytes],
          ['listDigests', listDigests],
        ],
      }
    }
    case 'partitionList': {
      const { partition, dims, factors, scales, norms, itemIndexes } = input
      const rows = itemIndexes.length
      if (!Number.isInteger(dims) || dims < 1 || dims > 4096)
        invalid(`A partition list needs dims in 1..4096, got ${dims}.`)
      if (!Number.isInteger(partition) || partition < 0 || partition > 0xffffffff)
        invalid(`A partition list needs a partition number in 0..2³²−1, got ${partition}.`)
      if (factors.length !== rows * dims || scales.length !== rows || norms.length !== rows)
        invalid(
          `A partition list of ${rows} items needs ${rows} × ${dims} factors, ${rows} scales and norms.`,
        )
      if (!isStrictlyAscending(itemIndexes)) invalid('A partition list needs ascending item indexes.')
      checkFinite(scales, 'scales')
      checkFinite(norms, 'norms')
      return {
        rowCount: rows,
        dims,
        rowOffset: partition,
        sections: [
          ['factors', factors],
          ['scales', scales],
          ['norms', norms],
          ['itemIndexes', itemIndexes],
        ],
      }
    }
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
export async function encodeShard(
  input: ShardInput,
  options: EncodeShardOptions = {},
): Promise<EncodedShard> {
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

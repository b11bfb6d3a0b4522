import { ShardFormatError } from '../errors.js'
import { sha256, toHex } from './checksum.js'
import {
  candidateListsProblem,
  DEFAULT_MAX_SHARD_BYTES,
  isStrictlyAscending,
  listBytesProblem,
  listOffsetsProblem,
  OPTIONAL_SECTIONS,
  REQUIRED_SECTIONS,
  SECTION_ELEMENT_BYTES,
  type SectionName,
  SHARD_ALIGNMENT,
  SHARD_CHECKSUM_BYTES,
  SHARD_FORMAT_VERSION,
  SHARD_HEADER_BYTES,
  SHARD_MAGIC,
  SHARD_SECTION_ENTRY_BYTES,
  type ShardKindName,
  sectionName,
  shardKindName,
} from './format.js'
import { IdTable } from './id-table.js'
import type {
  CatalogShard,
  DecodedShard,
  GramShard,
  ItemShard,
  PartitionListShard,
  PartitionsShard,
  PopularityShard,
  UserShard,
} from './types.js'

/** Options of {@link decodeShard}. */
export interface DecodeShardOptions {
  /** Reject input larger than this many bytes. Default 24 MiB. */
  maxBytes?: number
  /** Reject a shard of another kind. */
  expectedKind?: ShardKindName
  /** Reject a shard whose checksum differs (hex, from the manifest). */
  expectedSha256?: string
  /** Verify the trailing SHA-256. Default true; only skip when the caller verified the bytes already. */
  verifyChecksum?: boolean
}

type Section = { offset: number; byteLength: number; count: number }

/** Most sections a v1 shard may list (v1 kinds use at most 7). */
const MAX_SECTIONS = 16
/** Header bytes [28, 48) are reserved and must be zero in v1. */
const SHARD_RESERVED_START = 28
/** Largest dims a factor shard may declare. */
const MAX_DIMS = 4096

function expectFinite(values: Float32Array, name: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!))
      fail('SHARD_MALFORMED', `Section ${name} holds a non-finite value at ${i}.`)
  }
}

function expectNonNegativeFinite(values: Float32Array, name: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!(v >= 0 && v < Number.POSITIVE_INFINITY)) {
      fail('SHARD_MALFORMED', `Section ${name} holds a negative or non-finite value at ${i}.`)
    }
  }
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

function fail(code: 'SHARD_TRUNCATED' | 'SHARD_MALFORMED' | 'SHARD_BAD_MAGIC', message: string): never {
  throw new ShardFormatError(code, message)
}

/**
 * Decodes and verifies a shard. Typed-array fields are views on `bytes` (no copy) when `bytes`
 * starts on an 8-byte boundary of its buffer; otherwise the bytes are copied once to align them.
 *
 * @throws {@link ShardFormatError} with code `SHARD_TRUNCATED`, `SHARD_BAD_MAGIC`,
 * `SHARD_UNSUPPORTED_VERSION`, `SHARD_TOO_LARGE`, `SHARD_MALFORMED`, `SHARD_CHECKSUM_MISMATCH`
 * or `SHARD_WRONG_KIND`. It never returns a partially valid shard.
 */
export async function decodeShard(
  input: Uint8Array | ArrayBuffer,
  options: DecodeShardOptions = {},
): Promise<DecodedShard> {
  let bytes = input instanceof Uint8Array ? input : new Uint8Array(input)
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SHARD_BYTES
  if (bytes.byteLength > maxBytes) {
    throw new ShardFormatError(
      'SHARD_TOO_LARGE',
      `Shard is ${bytes.byteLength} bytes, over the limit of ${maxBytes}. Raise maxBytes or split the shard.`,
    )
  }
  if (bytes.byteLength < SHARD_HEADER_BYTES + SHARD_CHECKSUM_BYTES) {
    fail('SHARD_TRUNCATED', `Shard is ${bytes.byteLength} bytes, shorter than a header and checksum.`)
  }
  for (let i = 0; i < SHARD_MAGIC.length; i++) {
    if (bytes[i] !== SHARD_MAGIC[i]) fail('SHARD_BAD_MAGIC', 'Not an edgerec shard (magic "ERSH" missing).')
  }
  if (bytes.byteOffset % SHARD_ALIGNMENT !== 0 || !LITTLE_ENDIAN_HOST) bytes = bytes.slice()
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint16(4, true)
  if (version !== SHARD_FORMAT_VERSION) {
    throw new ShardFormatError(
      'SHARD_UNSUPPORTED_VERSION',
      `Shard format version ${version} is not supported (this reader knows ${SHARD_FORMAT_VERSION}). Upgrade @edgerec/core.`,
    )
  }
  const kind = shardKindName(view.getUint16(6, true))
  if (!kind) fail('SHARD_MALFORMED', `Unknown shard kind ${view.getUint16(6, true)}.`)
  if (options.expectedKind && options.expectedKind !== kind) {
    throw new ShardFormatError('SHARD_WRONG_KIND', `Expected a ${options.expectedKind} shard, got ${kind}.`)
  }
  const rowCount = view.getUint32(8, true)
  const dims = view.getUint32(12, true)
  const rowOffset = view.getUint32(16, true)
  const sectionCount = view.getUint32(20, true)
  const total = view.getUint32(24, true)
  if (total > bytes.byteLength)
    fail('SHARD_TRUNCATED', `Shard says ${total} bytes but only ${bytes.byteLength} arrived.`)
  if (total < bytes.byteLength)
    fail('SHARD_MALFORMED', `Shard says ${total} bytes but ${bytes.byteLength} arrived.`)
  for (let i = SHARD_RESERVED_START; i < SHARD_HEADER_BYTES; i++) {
    if (bytes[i] !== 0) fail('SHARD_MALFORMED', `Reserved header byte ${i} is not zero.`)
  }
  if (kind !== 'items' && kind !== 'partitionList' && kind !== 'catalog' && rowOffset !== 0)
    fail('SHARD_MALFORMED', `A ${kind} shard must have rowOffset 0, got ${rowOffset}.`)
  if (sectionCount > MAX_SECTIONS) fail('SHARD_MALFORMED', `Implausible section count ${sectionCount}.`)
  const tableEnd = SHARD_HEADER_BYTES + sectionCount * SHARD_SECTION_ENTRY_BYTES
  const bodyEnd = total - SHARD_CHECKSUM_BYTES
  if (tableEnd > bodyEnd) fail('SHARD_TRUNCATED', 'Section table runs past the end of the shard.')

  const digest = toHex(new Uint8Array(bytes.buffer, bytes.byteOffset + bodyEnd, SHARD_CHECKSUM_BYTES))
  if (options.expectedSha256 !== undefined && options.expectedSha256.toLowerCase() !== digest) {
    throw new ShardFormatError(
      'SHARD_CHECKSUM_MISMATCH',
      'Shard checksum differs from the manifest: the object was replaced or corrupted. Republish the version.',
    )
  }
  if (options.verifyChecksum !== false) {
    const actual = toHex(await sha256(bytes.subarray(0, bodyEnd)))
    if (actual !== digest) {
      throw new ShardFormatError(
        'SHARD_CHECKSUM_MISMATCH',
        'Shard bytes do not match their SHA-256: corrupted in storage or transit.',
      )
    }
  }

  const sections = new Map<SectionName, Section>()
  const optional = OPTIONAL_SECTIONS[kind] ?? []
  const allowed = [...REQUIRED_SECTIONS[kind], ...optional]
  let previousEnd = tableEnd
  for (let i = 0; i < sectionCount; i++) {
    const entry = SHARD_HEADER_BYTES + i * SHARD_SECTION_ENTRY_BYTES
    const name = sectionName(view.getUint32(entry, true))
    const count = view.getUint32(entry + 4, true)
    const offset = view.getUint32(entry + 8, true)
    const byteLength = view.getUint32(entry + 12, true)
    if (!name) fail('SHARD_MALFORMED', `Unknown section type ${view.getUint32(entry, true)}.`)
    if (!allowed.includes(name)) fail('SHARD_MALFORMED', `A ${kind} shard may not hold a ${name} section.`)
    if (sections.has(name)) fail('SHARD_MALFORMED', `Section ${name} appears twice.`)
    if (offset % SHARD_ALIGNMENT !== 0) fail('SHARD_MALFORMED', `Section ${name} is not 8-byte aligned.`)
    if (offset < previousEnd) fail('SHARD_MALFORMED', `Section ${name} overlaps the one before it.`)
    if (offset + byteLength > bodyEnd)
      fail('SHARD_TRUNCATED', `Section ${name} runs past the end of the shard.`)
    if (count * SECTION_ELEMENT_BYTES[name] !== byteLength) {
      fail('SHARD_MALFORMED', `Section ${name} length ${byteLength} does not match ${count} elements.`)
    }
    sections.set(name, { offset, byteLength, count })
    previousEnd = offset + byteLength
  }
  for (const required of REQUIRED_SECTIONS[kind]) {
    if (!sections.has(required)) fail('SHARD_MALFORMED', `A ${kind} shard needs a ${required} section.`)
  }
  const optionalHeld = optional.filter((name) => sections.has(name))
  if (optionalHeld.length > 0 && optionalHeld.length < optional.length)
    fail(
      'SHARD_MALFORMED',
      `A ${kind} shard holds ${optionalHeld.join(', ')} without ${optional.filter((n) => !sections.has(n)).join(', ')}.`,
    )

  const base = bytes.byteOffset
  const buf = bytes.buffer
  const get = (name: SectionName): Section => sections.get(name)!
  const i8 = (name: SectionName) => new Int8Array(buf, base + get(name).offset, get(name).count)
  const u8 = (name: SectionName) => new Uint8Array(buf, base + get(name).offset, get(name).count)
  const f32 = (name: SectionName) => new Float32Array(buf, base + get(name).offset, get(name).count)
  const u32 = (name: SectionName) => new Uint32Array(buf, base + get(name).offset, get(name).count)
  const expectCount = (name: SectionName, n: number) => {
    if (get(name).count !== n)
      fail('SHARD_MALFORMED', `Section ${name} has ${get(name).count} elements, expected ${n}.`)
  }
  const common = { formatVersion: version, rowCount, dims, rowOffset, sha256: digest, byteLength: total }

  switch (kind) {
    case 'items':
    case 'users': {
      if (dims === 0 || dims > MAX_DIMS) fail('SHARD_MALFORMED', `Implausible dims ${dims}.`)
      expectCount('factors', rowCount * dims)
      expectCount('scales', rowCount)
      expectCount('idOffsets', rowCount + 1)
      const idOffsets = u32('idOffsets')
      const idBytes = u8('idBytes')
      IdTable.check(idOffsets, idBytes)
      const ids = new IdTable(idOffsets, idBytes)
      const scales = f32('scales')
      expectNonNegativeFinite(scales, 'scales')
      if (kind === 'items') {
        expectCount('norms', rowCount)
        const norms = f32('norms')
        expectNonNegativeFinite(norms, 'norms')
        const shard: ItemShard = { kind, ...common, factors: i8('factors'), scales, norms, ids }
        return shard
      }
      expectCount('interactionOffsets', rowCount + 1)
      const offsets = u32('interactionOffsets')
      const nnz = get('interactionItems').count
      expectCount('interactionConfidences', nnz)
      if (offsets[0] !== 0 || offsets[rowCount] !== nnz)
        fail('SHARD_MALFORMED', 'Interaction offsets do not span the items.')
      for (let r = 1; r <= rowCount; r++) {
        if (offsets[r]! < offsets[r - 1]!)
          fail('SHARD_MALFORMED', `Interaction offsets decrease at row ${r}.`)
      }
      const confidences = f32('interactionConfidences')
      expectFinite(confidences, 'interactionConfidences')
      const shard: UserShard = {
        kind,
        ...common,
        factors: i8('factors'),
        scales,
        ids,
        interactions: { offsets, items: u32('interactionItems'), confidences },
      }
      if (sections.has('candidateOffsets')) {
        const candidates = {
          offsets: u32('candidateOffsets'),
          items: u32('candidateItems'),
          scores: f32('candidateScores'),
        }
        const problem = candidateListsProblem(candidates, rowCount)
        if (problem) fail('SHARD_MALFORMED', problem)
        shard.candidates = candidates
      }
      return shard
    }
    case 'popularity': {
      if (dims !== 0) fail('SHARD_MALFORMED', `A popularity shard must have dims 0, got ${dims}.`)
      expectCount('itemIndexes', rowCount)
      expectCount('scores', rowCount)
      const scores = f32('scores')
      expectFinite(scores, 'scores')
      const shard: PopularityShard = { kind, ...common, itemIndexes: u32('itemIndexes'), scores }
      return shard
    }
    case 'gram': {
      if (dims === 0 || dims > MAX_DIMS || rowCount !== dims)
        fail('SHARD_MALFORMED', `Gram shard must be square; got ${rowCount} × ${dims}.`)
      expectCount('matrix', dims * dims)
      const matrix = f32('matrix')
      expectFinite(matrix, 'matrix')
      const shard: GramShard = { kind, ...common, matrix }
      return shard
    }
    case 'catalog': {
      if (dims !== 0) fail('SHARD_MALFORMED', `A catalog shard must have dims 0, got ${dims}.`)
      const shard: CatalogShard = { kind, ...common, json: u8('json') }
      return shard
    }
    case 'partitions': {
      if (dims === 0 || dims > MAX_DIMS || rowCount === 0)
        fail('SHARD_MALFORMED', `Implausible partitions shard: ${rowCount} lists × ${dims} dims.`)
      expectCount('matrix', rowCount * dims)
      expectCount('listOffsets', rowCount + 1)
      const centroids = f32('matrix')
      expectFinite(centroids, 'matrix')
      const listOffsets = u32('listOffsets')
      const itemIndexes = u32('itemIndexes')
      const problem = listOffsetsProblem(listOffsets, itemIndexes.length)
      if (problem) fail('SHARD_MALFORMED', `listOffsets: ${problem}`)
      expectCount('listBytes', rowCount + 1)
      expectCount('listDigests', 32 * rowCount)
      const listBytes = u32('listBytes')
      const bytesProblem = listBytesProblem(listBytes)
      if (bytesProblem) fail('SHARD_MALFORMED', `listBytes: ${bytesProblem}`)
      const shard: PartitionsShard = {
        kind,
        ...common,
        centroids,
        listOffsets,
        itemIndexes,
        listBytes,
        listDigests: u8('listDigests'),
      }
      return shard
    }
    case 'partitionList': {
      if (dims === 0 || dims > MAX_DIMS) fail('SHARD_MALFORMED', `Implausible dims ${dims}.`)
      expectCount('factors', rowCount * dims)
      expectCount('scales', rowCount)
      expectCount('norms', rowCount)
      expectCount('itemIndexes', rowCount)
      const scales = f32('scales')
      expectNonNegativeFinite(scales, 'scales')
      const norms = f32('norms')
      expectNonNegativeFinite(norms, 'norms')
      const itemIndexes = u32('itemIndexes')
      if (!isStrictlyAscending(itemIndexes))
        fail('SHARD_MALFORMED', 'A partition list needs ascending item indexes.')
      const shard: PartitionListShard = {
        kind,
        ...common,
        factors: i8('factors'),
        scales,
        norms,
        itemIndexes,
      }
      return shard
    }
  }
}

/**
 * Constants of shard binary format v1. The normative description is `docs/shard-format.md`.
 *
 * @module
 */

/** "ERSH" in ASCII, the first four bytes of every shard. */
export const SHARD_MAGIC = new Uint8Array([0x45, 0x52, 0x53, 0x48])
/** The format version this code writes and reads. */
export const SHARD_FORMAT_VERSION = 1
/** Fixed header size in bytes. */
export const SHARD_HEADER_BYTES = 48
/** Size of one section-table entry in bytes. */
export const SHARD_SECTION_ENTRY_BYTES = 16
/** Size of the trailing SHA-256 checksum. */
export const SHARD_CHECKSUM_BYTES = 32
/** Every section starts at a multiple of this. */
export const SHARD_ALIGNMENT = 8
/** Default largest shard: 24 MiB, under Cloudflare KV's 25 MiB value limit. */
export const DEFAULT_MAX_SHARD_BYTES = 24 * 1024 * 1024

/** What a shard holds. */
export const ShardKind = {
  /** Item factors (int8) + scales + norms + item ids. */
  items: 1,
  /** One bucket of users: factors + scales + ids + their training interactions. */
  users: 2,
  /** Items ranked by (possibly time-decayed) count. */
  popularity: 3,
  /** The dims × dims float32 matrix YᵀY + λI for fold-in. */
  gram: 4,
  /** The item catalog of a version (categories, tags, price…) as UTF-8 JSON columns. */
  catalog: 5,
  /**
   * The coarse quantizer of partitioned retrieval: `rowCount` centroids (float32, `dims` wide), an
   * offsets table and the item indexes of every partition, contiguous per partition.
   */
  partitions: 6,
  /**
   * One inverted list of partitioned retrieval: the int8 rows of the items of partition
   * `rowOffset`, contiguous (factors, scales, norms) with their global item indexes. A version's
   * lists are concatenated in one object, read one list at a time with ranged reads.
   */
  partitionList: 7,
} as const
/** A value of {@link ShardKind}. */
export type ShardKind = (typeof ShardKind)[keyof typeof ShardKind]
/** The name of a shard kind. */
export type ShardKindName = keyof typeof ShardKind

/** Section type ids and their element types. */
export const SectionType = {
  factors: 1,
  scales: 2,
  norms: 3,
  idOffsets: 4,
  idBytes: 5,
  matrix: 6,
  itemIndexes: 7,
  scores: 8,
  interactionOffsets: 9,
  interactionItems: 10,
  interactionConfidences: 11,
  json: 12,
  listOffsets: 13,
  listBytes: 14,
  listDigests: 15,
  candidateOffsets: 16,
  candidateItems: 17,
  candidateScores: 18,
} as const
/** A value of {@link SectionType}. */
export type SectionType = (typeof SectionType)[keyof typeof SectionType]
/** The name of a section. */
export type SectionName = keyof typeof SectionType

/** Bytes per element of each section. */
export const SECTION_ELEMENT_BYTES: Record<SectionName, 1 | 4> = {
  factors: 1,
  scales: 4,
  norms: 4,
  idOffsets: 4,
  idBytes: 1,
  matrix: 4,
  itemIndexes: 4,
  scores: 4,
  interactionOffsets: 4,
  interactionItems: 4,
  interactionConfidences: 4,
  json: 1,
  listOffsets: 4,
  listBytes: 4,
  listDigests: 1,
  candidateOffsets: 4,
  candidateItems: 4,
  candidateScores: 4,
}

/** The sections each kind must have. */
export const REQUIRED_SECTIONS: Record<ShardKindName, readonly SectionName[]> = {
  items: ['factors', 'scales', 'norms', 'idOffsets', 'idBytes'],
  users: [
    'factors',
    'scales',
    'idOffsets',
    'idBytes',
    'interactionOffsets',
    'interactionItems',
    'interactionConfidences',
  ],
  popularity: ['itemIndexes', 'scores'],
  gram: ['matrix'],
  catalog: ['json'],
  partitions: ['matrix', 'listOffsets', 'itemIndexes', 'listBytes', 'listDigests'],
  partitionList: ['factors', 'scales', 'norms', 'itemIndexes'],
}

/**
 * Sections a kind may hold besides its required ones, all or none: a user bucket's precomputed
 * candidates (issue 16; a reader before them refuses such a shard as malformed).
 */
export const OPTIONAL_SECTIONS: Partial<Record<ShardKindName, readonly SectionName[]>> = {
  users: ['candidateOffsets', 'candidateItems', 'candidateScores'],
}

/** Rounds `n` up to the next multiple of {@link SHARD_ALIGNMENT}. */
export function alignUp(n: number): number {
  return Math.ceil(n / SHARD_ALIGNMENT) * SHARD_ALIGNMENT
}

/** The name of a kind value, or undefined. */
export function shardKindName(kind: number): ShardKindName | undefined {
  for (const [name, value] of Object.entries(ShardKind)) if (value === kind) return name as ShardKindName
  return undefined
}

/** The name of a section type value, or undefined. */
export function sectionName(type: number): SectionName | undefined {
  for (const [name, value] of Object.entries(SectionType)) if (value === type) return name as SectionName
  return undefined
}

/**
 * Why `offsets` is not a valid offsets table over `total` entries (starts at 0, never decreases,
 * ends at `total`), or undefined when it is.
 */
export function listOffsetsProblem(offsets: Uint32Array, total: number): string | undefined {
  if (offsets.length < 2) return 'The offsets table needs at least two entries.'
  if (offsets[0] !== 0 || offsets[offsets.length - 1] !== total)
    return `The offsets table must run from 0 to ${total}.`
  for (let p = 1; p < offsets.length; p++)
    if (offsets[p]! < offsets[p - 1]!) return `The offsets table decreases at ${p}.`
  return undefined
}

/**
 * Why `offsets` is not a table of byte offsets of consecutive encoded lists (starts at 0, each
 * list at least a shard's fixed overhead long and 8-aligned), or undefined when it is.
 */
export function listBytesProblem(offsets: Uint32Array): string | undefined {
  if (offsets.length < 2 || offsets[0] !== 0) return 'The byte offsets must start at 0.'
  for (let p = 1; p < offsets.length; p++) {
    if (offsets[p]! < offsets[p - 1]! + SHARD_HEADER_BYTES + SHARD_CHECKSUM_BYTES)
      return `List ${p - 1} is shorter than a shard header.`
    if (offsets[p]! % SHARD_ALIGNMENT !== 0) return `List ${p} does not start 8-byte aligned.`
  }
  return undefined
}

/**
 * Why `lists` is not a valid candidates table of `rows` user rows (offsets over the items, one
 * finite score per item, scores non-increasing within a row), or undefined. Linear: a bucket is
 * checked on every load. With `distinct` (the encoder), also that no row lists an item twice;
 * readers drop a repeat instead (core's `topKFromCandidates`), so a load need not pay for it.
 */
export function candidateListsProblem(
  lists: { offsets: Uint32Array; items: Uint32Array; scores: Float32Array },
  rows: number,
  distinct = false,
): string | undefined {
  const { offsets, items, scores } = lists
  if (offsets.length !== rows + 1) return `Candidates need ${rows + 1} offsets, got ${offsets.length}.`
  const problem = listOffsetsProblem(offsets, items.length)
  if (problem) return `Candidate offsets: ${problem}`
  if (scores.length !== items.length) return 'Candidates need one score per item.'
  for (let r = 0; r < rows; r++) {
    for (let i = offsets[r]!; i < offsets[r + 1]!; i++) {
      if (!Number.isFinite(scores[i]!)) return `Candidate score ${i} is not finite.`
      if (i > offsets[r]! && scores[i]! > scores[i - 1]!) return `Candidates of row ${r} are not best first.`
    }
    if (
      distinct &&
      new Set(items.subarray(offsets[r]!, offsets[r + 1]!)).size !== offsets[r + 1]! - offsets[r]!
    )
      return `Candidates of row ${r} list an item twice.`
  }
  return undefined
}

/** True when every value is larger than the one before it. */
export function isStrictlyAscending(values: Uint32Array): boolean {
  for (let i = 1; i < values.length; i++) if (values[i]! <= values[i - 1]!) return false
  return true
}

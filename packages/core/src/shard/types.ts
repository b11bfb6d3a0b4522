import type { QuantizedMatrix } from '../quantize/quantize.js'
import type { ShardKindName } from './format.js'
import type { IdTable } from './id-table.js'

/** Training interactions of the rows of a user shard, in CSR form. */
export interface InteractionLists {
  /** `rows + 1` offsets into `items` / `confidences`. */
  offsets: Uint32Array
  /** Global item indexes. */
  items: Uint32Array
  /** Confidence c_ui of each pair. */
  confidences: Float32Array
}

/**
 * Precomputed candidates of the rows of a user shard (issue 16), in CSR form: row r's items at
 * `items[offsets[r] .. offsets[r + 1])`, best first, with the score the worker's scan gives them.
 */
export interface CandidateLists {
  /** `rows + 1` offsets into `items` / `scores`. */
  offsets: Uint32Array
  /** Global item indexes, best first within a row. */
  items: Uint32Array
  /** s_u · s_i · Σ q_u q_i of each candidate, as the scan's top-K returns it (float32), non-increasing within a row. */
  scores: Float32Array
}

/** Input of an item shard. */
export interface ItemShardInput {
  kind: 'items'
  /** Global index of this shard's first row (shards of one version are split by rows). */
  rowOffset?: number
  factors: QuantizedMatrix
  /** L2 norm of each dequantized row; computed when absent. */
  norms?: Float32Array
  ids: readonly string[]
}

/** Input of a user shard (one hash bucket). */
export interface UserShardInput {
  kind: 'users'
  factors: QuantizedMatrix
  ids: readonly string[]
  interactions: InteractionLists
  /** Each user's best items by the trained vector, training interactions left out (optional). */
  candidates?: CandidateLists
}

/** Input of a popularity (or trending) shard: items in rank order. */
export interface PopularityShardInput {
  kind: 'popularity'
  itemIndexes: Uint32Array
  scores: Float32Array
}

/** Input of a gram shard: YᵀY + λI, dims × dims, row-major. */
export interface GramShardInput {
  kind: 'gram'
  dims: number
  matrix: Float32Array
}

/** Input of a catalog shard: UTF-8 JSON columns (core's `encodeCatalogColumns`) of `rows` items. */
export interface CatalogShardInput {
  kind: 'catalog'
  rows: number
  /** Catalog row of the first row (a split catalog's later shards). Default 0. */
  rowOffset?: number
  json: Uint8Array
}

/**
 * Input of a partitions shard: `lists` centroids (row-major `lists × dims` float32), and the item
 * indexes of partition p at `itemIndexes[listOffsets[p] .. listOffsets[p + 1])`.
 */
export interface PartitionsShardInput {
  kind: 'partitions'
  dims: number
  centroids: Float32Array
  listOffsets: Uint32Array
  itemIndexes: Uint32Array
  /**
   * `lists + 1` byte offsets of the encoded lists (kind `partitionList`) in the version's lists
   * object: list p is the ranged read `[listBytes[p], listBytes[p + 1])`.
   */
  listBytes: Uint32Array
  /** `32 · lists` bytes: the SHA-256 of each encoded list (its trailer), in list order. */
  listDigests: Uint8Array
}

/**
 * Input of one inverted list (kind `partitionList`): the items of partition `partition`, their int8
 * rows contiguous (row r is item `itemIndexes[r]`, ascending).
 */
export interface PartitionListShardInput {
  kind: 'partitionList'
  partition: number
  dims: number
  factors: Int8Array
  scales: Float32Array
  norms: Float32Array
  itemIndexes: Uint32Array
}

/** Anything {@link encodeShard} writes. */
export type ShardInput =
  | ItemShardInput
  | UserShardInput
  | PopularityShardInput
  | GramShardInput
  | CatalogShardInput
  | PartitionsShardInput
  | PartitionListShardInput

interface DecodedBase {
  kind: ShardKindName
  formatVersion: number
  rowCount: number
  dims: number
  rowOffset: number
  /** Hex SHA-256 of the shard's bytes before the trailer; equals the manifest's `sha256`. */
  sha256: string
  byteLength: number
}

/** A decoded item shard. Arrays are views on the shard's bytes (no copy). */
export interface ItemShard extends DecodedBase {
  kind: 'items'
  factors: Int8Array
  scales: Float32Array
  norms: Float32Array
  ids: IdTable
}

/** A decoded user shard. */
export interface UserShard extends DecodedBase {
  kind: 'users'
  factors: Int8Array
  scales: Float32Array
  ids: IdTable
  interactions: InteractionLists
  /** Present when the bucket was exported with precomputed candidates. */
  candidates?: CandidateLists
}

/** A decoded popularity shard. */
export interface PopularityShard extends DecodedBase {
  kind: 'popularity'
  itemIndexes: Uint32Array
  scores: Float32Array
}

/** A decoded gram shard. */
export interface GramShard extends DecodedBase {
  kind: 'gram'
  matrix: Float32Array
}

/** A decoded catalog shard: the JSON bytes (parse with core's `decodeCatalogColumns`). */
export interface CatalogShard extends DecodedBase {
  kind: 'catalog'
  json: Uint8Array
}

/** A decoded partitions shard (`rowCount` partitions). Arrays are views on the shard's bytes. */
export interface PartitionsShard extends DecodedBase {
  kind: 'partitions'
  centroids: Float32Array
  listOffsets: Uint32Array
  itemIndexes: Uint32Array
  listBytes: Uint32Array
  listDigests: Uint8Array
}

/**
 * A decoded inverted list: partition `rowOffset`'s `rowCount` items, rows contiguous. Arrays are
 * views on the list's bytes.
 */
export interface PartitionListShard extends DecodedBase {
  kind: 'partitionList'
  factors: Int8Array
  scales: Float32Array
  norms: Float32Array
  itemIndexes: Uint32Array
}

/** Any decoded shard. */
export type DecodedShard =
  | ItemShard
  | UserShard
  | PopularityShard
  | GramShard
  | CatalogShard
  | PartitionsShard
  | PartitionListShard

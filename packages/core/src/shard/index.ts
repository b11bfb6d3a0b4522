export { sha256Hex, toHex } from './checksum.js'
export type { DecodeShardOptions } from './decode.js'
export { decodeShard } from './decode.js'
export type { EncodedShard, EncodeShardOptions } from './encode.js'
export { encodeShard, shardByteLength } from './encode.js'
export type { SectionName, ShardKindName } from './format.js'
export {
  DEFAULT_MAX_SHARD_BYTES,
  SectionType,
  SHARD_ALIGNMENT,
  SHARD_CHECKSUM_BYTES,
  SHARD_FORMAT_VERSION,
  SHARD_HEADER_BYTES,
  SHARD_MAGIC,
  SHARD_SECTION_ENTRY_BYTES,
  ShardKind,
} from './format.js'
export { IdIndex, IdIndexBuilder, idIndexByteLength } from './id-index.js'
export { encodeIds, IdTable } from './id-table.js'
export type { EncodedPartitionLists, PartitionListInput } from './partition-lists.js'
export { encodePartitionLists } from './partition-lists.js'
export type { RowRange } from './split.js'
export { planItemShards, planRowRanges, SINGLE_SECTION_OVERHEAD_BYTES } from './split.js'
export type {
  CandidateLists,
  CatalogShard,
  CatalogShardInput,
  DecodedShard,
  GramShard,
  GramShardInput,
  InteractionLists,
  ItemShard,
  ItemShardInput,
  PartitionListShard,
  PartitionListShardInput,
  PartitionsShard,
  PartitionsShardInput,
  PopularityShard,
  PopularityShardInput,
  ShardInput,
  UserShard,
  UserShardInput,
} from './types.js'

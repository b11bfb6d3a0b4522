export {
  catalogShardKey,
  itemShardKey,
  LIVE_POINTER_KEY,
  manifestKey,
  newVersionId,
  partitionListsKey,
  singleShardKey,
  userShardKey,
  versionPrefix,
} from './keys.js'
export type {
  AlsHyperparameters,
  LivePointer,
  ManifestCandidates,
  ManifestCatalog,
  ManifestPartitions,
  ManifestValidationResult,
  MetricSet,
  ModelEvaluation,
  ModelGate,
  ModelGateLive,
  ModelManifest,
  ShardRef,
  ShardStorage,
} from './manifest.js'
export {
  catalogShardRefs,
  MANIFEST_FORMAT_VERSION,
  manifestShards,
  parseManifest,
  VERSION_PATTERN,
  validateManifest,
} from './manifest.js'
export type { ModelMemoryPlan, SwapMemoryCheck } from './memory.js'
export {
  CATALOG_CODES_PER_SHARD_BYTE,
  CATALOG_LOADING_PER_SHARD_BYTE,
  checkSwapMemory,
  DEFAULT_MODEL_MEMORY_BUDGET_BYTES,
  DEFAULT_PARTITION_CACHE_BYTES,
  DEFAULT_USER_CACHE_BYTES,
  PROBE_KERNEL_CHUNK_ROWS,
  partitionIndexByteLength,
  planModelMemory,
} from './memory.js'
export type {
  PartitionListCheck,
  ShardCheck,
  ShardProblem,
  ShardProblemCode,
  ShardReader,
  VerifyVersionOptions,
  VersionVerification,
} from './verify.js'
export { checkPartitionList, checkShard, verifyVersionShards } from './verify.js'

/**
 * Export: a trained model → one immutable version of int8 shards and a manifest, through any
 * `Storage` (local disk by default).
 *
 * @module
 */

export type { PlannedCandidates } from './candidates.js'
export {
  CANDIDATE_NPROBE_FACTOR,
  candidatesPerUser,
  describeCandidates,
  MAX_CANDIDATES_PER_USER,
  planCandidates,
} from './candidates.js'
export type { ExportInput, ExportOptions, ExportResult } from './export.js'
export { chooseUserBuckets, exportModel } from './export.js'
export { MemoryStorage } from './memory-storage.js'
export type { PartitionsConfig, PlannedPartitions } from './partitions.js'
export { DEFAULT_PARTITION_MIN_ITEMS, planPartitions } from './partitions.js'

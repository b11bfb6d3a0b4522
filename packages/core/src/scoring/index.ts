export type { CandidateScan } from './candidates.js'
export {
  buildCandidateLists,
  CANDIDATE_NPROBE_FACTOR,
  candidateNprobe,
  DEFAULT_CANDIDATES_PER_USER,
  topKFromCandidates,
} from './candidates.js'
export * from './kernel/index.js'
export type {
  BuildPartitionsOptions,
  CosineQuery,
  PartitionCentroids,
  PartitionIndex,
  PartitionRows,
  PlannedPartitionIndex,
  PlanPartitionIndexOptions,
} from './partitions.js'
export {
  buildPartitions,
  chooseNprobe,
  cosineQueryOf,
  DEFAULT_PARTITION_SPILL,
  dequantized,
  layoutPartitionLists,
  orderCentroids,
  partitionOfItems,
  planPartitionIndex,
  probePartitions,
  recallAtK,
  recommendTopKProbed,
  rowInList,
  similarItemsProbed,
  similarOverLists,
  topKOverLists,
} from './partitions.js'
export type { Int8Vector, ItemBlock } from './score.js'
export {
  blockFromQuantized,
  dotInt8,
  dotsInt8,
  findRow,
  pushBlockInt8,
  recommendTopK,
  recommendTopKFloat32,
  scoreBlockInt8,
} from './score.js'
export { similarItems } from './similar.js'
export type { IndexFilter, TopKResult } from './top-k.js'
export { TopK, topK } from './top-k.js'

/**
 * Partitioned retrieval for large versions (issue 16): the coarse quantizer and its inverted lists
 * (core's `planPartitionIndex`: k-means, contiguous lists), and the default `nprobe` chosen by
 * MEASURED recall@10 of the probed top-10 against the exact int8 scan on a seeded sample of users,
 * as the worker serves them.
 *
 * @module
 */
import {
  type Int8Vector,
  type ManifestPartitions,
  mulberry32,
  type PartitionIndex,
  type PartitionRows,
  planPartitionIndex,
  type QuantizedMatrix,
} from '@edgerec/core'
import { TrainerError } from '../errors.js'

/** `export.partitions` in the config. */
export interface PartitionsConfig {
  /** Versions with fewer items are scanned exactly (no partitions). Default 100 000. */
  minItems?: number
  /** Number of partitions. Default ⌈√items⌉. */
  lists?: number
  /**
   * Partitions probed per query by default. Default: the smallest whose measured recall@10
   * reaches `targetRecall` (doubling from 1, then bisection below the first power of two that
   * reaches it; capped at `lists`).
   */
  nprobe?: number
  /** Recall@10 the automatic `nprobe` must reach. Default 0.95. */
  targetRecall?: number
  /** Users sampled to measure recall. Default 200. */
  sampleUsers?: number
  /** Lloyd iterations of k-means. Default 8. */
  iterations?: number
  /** Seed of k-means and the user sample. Default 1. */
  seed?: number
  /**
   * Spilling: an item is also listed in its second-nearest partition when its squared distance
   * to it is at most (1 + spill) times that to its own (core's `DEFAULT_PARTITION_SPILL`, 0.2;
   * 0 = every item in one list). Fewer probes reach the same recall: fewer ranged reads per query.
   */
  spill?: number
}

/** Default `export.partitions.minItems`. */
export const DEFAULT_PARTITION_MIN_ITEMS = 100_000
/** K of the recall@K the trainer measures (partitions and candidates). */
export const RECALL_K = 10

/** The quantizer and what the manifest records about it. */
export interface PlannedPartitions {
  index: PartitionIndex
  /** The int8 rows of each partition, contiguous (written as the partition lists object). */
  lists: PartitionRows[]
  manifest: ManifestPartitions
  /** The sampled users the recall was measured on (the candidates' recall uses the same). */
  queries: Int8Vector[]
}

function positiveInt(value: number | undefined, name: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1))
    throw new TrainerError(
      'EXPORT_FAILED',
      `export.partitions.${name} must be a positive integer, got ${value}. Fix the config.`,
    )
}

/**
 * Builds the partitions of a version when it has at least `minItems` items, else returns
 * undefined (exact scan).
 *
 * @param itemFactors - the float item factors y_i, `items × dims` (k-means runs on them)
 * @param items - the int8 item rows as served (recall is measured on them)
 * @param users - the int8 user rows as served
 */
export function planPartitions(
  itemFactors: ArrayLike<number>,
  items: QuantizedMatrix,
  users: QuantizedMatrix,
  config: PartitionsConfig = {},
): PlannedPartitions | undefined {
  const n = items.rows
  if (n < (config.minItems ?? DEFAULT_PARTITION_MIN_ITEMS) || n < 2) return undefined
  for (const name of ['lists', 'nprobe', 'sampleUsers', 'iterations'] as const)
    positiveInt(config[name], name)
  const target = config.targetRecall ?? 0.95
  if (!(target > 0 && target <= 1))
    throw new TrainerError(
      'EXPORT_FAILED',
      `export.partitions.targetRecall must be in (0, 1], got ${target}.`,
    )
  const seed = config.seed ?? 1
  const random = mulberry32(seed ^ 0x9e3779b9)
  const sample = Math.min(users.rows, config.sampleUsers ?? 200)
  const queries = Array.from({ length: sample }, () => {
    const u = Math.floor(random() * users.rows)
    return {
      values: users.values.subarray(u * users.dims, (u + 1) * users.dims),
      scale: users.scales[u]!,
    }
  })
  const { index, lists, nprobe, recall } = planPartitionIndex(itemFactors, items, queries, {
    ...(config.lists !== undefined ? { lists: config.lists } : {}),
    ...(config.nprobe !== undefined ? { nprobe: config.nprobe } : {}),
    targetRecall: target,
    iterations: config.iterations ?? 8,
    seed,
    ...(config.spill !== undefined ? { spill: config.spill } : {}),
    k: RECALL_K,
  })
  return {
    index,
    lists,
    manifest: { lists: index.lists, nprobe, recall: { k: RECALL_K, value: recall, users: queries.length } },
    queries,
  }
}

/**
 * Precomputed candidates of trained users (issue 16): each user bucket holds every trained user's
 * best `perUser` items by the trained vector x_u (training interactions left out, as serving
 * excludes them), with the score the worker's scan gives them, so the worker answers a user
 * without events since training without reading a partition list. A partitioned version finds
 * them with the probed scan at {@link CANDIDATE_NPROBE_FACTOR} × its default nprobe, and records
 * that scan's measured recall@10; an exact-scan version scans every item.
 *
 * @module
 */
import {
  blockFromQuantized,
  bundledInt8KernelBytes,
  type CandidateScan,
  candidateNprobe,
  chooseNprobe,
  createInt8Kernel,
  DEFAULT_CANDIDATES_PER_USER,
  type ManifestCandidates,
  type QuantizedMatrix,
  recommendTopKProbed,
} from '@edgerec/core'
import { TrainerError } from '../errors.js'
import {
  type CandidatePool,
  type CandidateScanData,
  scanOf,
  sharedExactData,
  sharedProbedData,
} from './candidate-threads.js'
import type { ExportResult } from './export.js'
import { type PlannedPartitions, RECALL_K } from './partitions.js'

/** Re-exported from core, where the worker benchmark reads it too. */
export { CANDIDATE_NPROBE_FACTOR } from '@edgerec/core'

/** Largest `export.candidates` (a user row costs 8 B per candidate in its bucket). */
export const MAX_CANDIDATES_PER_USER = 1000

/** How the candidates of a version are found, and what the manifest records about them. */
export interface PlannedCandidates {
  perUser: number
  /** The scan of one user (probed or exact, with the Wasm int8 kernel). */
  scan: CandidateScan
  /** The scan's data copied onto shared memory, for worker threads ({@link CandidatePool}). */
  share(): CandidateScanData
  manifest: ManifestCandidates
  /** Seconds spent planning (the recall measurement of a partitioned version). */
  seconds: number
}

/**
 * Candidates per user of a version: `configured` (`export.candidates`, 0 = off), else
 * {@link DEFAULT_CANDIDATES_PER_USER} for a partitioned version and 0 for an exact-scan one (its
 * scan is fast and its buckets stay small).
 *
 * @throws TrainerError `EXPORT_FAILED` when `configured` is not an integer in 0..{@link MAX_CANDIDATES_PER_USER}
 */
export function candidatesPerUser(configured: number | undefined, partitioned: boolean): number {
  if (configured === undefined) return partitioned ? DEFAULT_CANDIDATES_PER_USER : 0
  if (!Number.isInteger(configured) || configured < 0 || configured > MAX_CANDIDATES_PER_USER)
    throw new TrainerError(
      'EXPORT_FAILED',
      `export.candidates must be an integer in 0..${MAX_CANDIDATES_PER_USER} (0 = off), got ${configured}. Fix the config.`,
    )
  return configured
}

/**
 * The scan of a version's candidates, or undefined when `perUser` is 0. Partitioned (`planned`):
 * the probed scan over the planned lists at nprobe' = min(lists, {@link CANDIDATE_NPROBE_FACTOR} ·
 * nprobe), its recall@10 against the exact scan measured (core's `chooseNprobe` at nprobe') on the
 * users that chose nprobe. Else the exact scan over every item (recall 1 by construction: null).
 *
 * @param items - the int8 item rows as served
 */
export function planCandidates(
  items: QuantizedMatrix,
  planned: PlannedPartitions | undefined,
  perUser: number,
): PlannedCandidates | undefined {
  if (perUser === 0) return undefined
  const started = performance.now()
  if (planned) {
    const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: items.dims })
    const { index, lists } = planned
    const nprobe = candidateNprobe(index.lists, planned.manifest.nprobe)
    const { recall } = chooseNprobe(index, lists, [blockFromQuantized(items)], planned.queries, {
      nprobe,
      k: RECALL_K,
      kernel,
    })
    return {
      perUser,
      scan: (user, n, exclude) => recommendTopKProbed(user, index, lists, nprobe, n, exclude, kernel),
      share: () => sharedProbedData(index.centroids, lists, items.dims, nprobe),
      manifest: { perUser, nprobe, recall: { k: RECALL_K, value: recall, users: planned.queries.length } },
      seconds: (performance.now() - started) / 1000,
    }
  }
  return {
    perUser,
    scan: scanOf({
      kind: 'exact',
      dims: items.dims,
      rows: items.rows,
      values: items.values,
      scales: items.scales,
    }),
    share: () => sharedExactData(items),
    manifest: { perUser, nprobe: null, recall: null },
    seconds: (performance.now() - started) / 1000,
  }
}

/**
 * The line the trainer prints about a version's precomputed candidates (issue 16), or undefined
 * without them: per user, how they were found, their recall@10 and the time they took.
 */
export function describeCandidates(
  exported: Pick<ExportResult, 'manifest' | 'candidateSeconds'>,
): string | undefined {
  const c = exported.manifest.candidates
  if (!c) return undefined
  const scan =
    c.nprobe === null || c.recall === null
      ? 'exact scan'
      : `probed scan at nprobe ${c.nprobe}, recall@${c.recall.k} ${c.recall.value.toFixed(3)} vs exact scan (${c.recall.users} users)`
  const seconds = exported.candidateSeconds
  return `Precomputed candidates: ${c.perUser} per trained user (${scan})${seconds !== undefined ? ` in ${seconds.toFixed(1)} s` : ''}.`
}

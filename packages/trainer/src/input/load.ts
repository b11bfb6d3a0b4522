/**
 * Reads an event source to the end and builds the interaction matrix: the first stage of training.
 *
 * @module
 */
import type { BadRowPolicy, EventSource, ReadReport } from '@edgerec/adapters'
import type { InteractionMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { InteractionAccumulator, type WeightingOptions, type WeightingStats } from '../weighting/index.js'

/** Options of {@link loadInteractions}. */
export interface LoadOptions extends WeightingOptions, BadRowPolicy {
  /** Called after each batch with the number of events read so far. */
  onProgress?: (eventsRead: number) => void
  signal?: AbortSignal
}

/** The loaded data with what reading and weighting did. */
export interface LoadedInteractions {
  data: InteractionMatrix
  stats: WeightingStats
  /** Rows read and rejected, with the first bad rows and their line numbers. */
  report: ReadReport
}

/**
 * Streams `source` into an {@link InteractionAccumulator} and aggregates it.
 *
 * @throws TrainerError `NO_INTERACTIONS` when nothing is left to train on
 * @example
 * ```ts
 * const { data, stats, report } = await loadInteractions(csvEventSource({ path: 'ratings.csv' }), { minUserInteractions: 2 })
 * ```
 */
export async function loadInteractions(
  source: EventSource,
  options: LoadOptions = {},
): Promise<LoadedInteractions> {
  const accumulator = new InteractionAccumulator(options)
  const readOptions: Parameters<EventSource['read']>[0] = {}
  if (options.maxBadRows !== undefined) readOptions.maxBadRows = options.maxBadRows
  if (options.maxBadFraction !== undefined) readOptions.maxBadFraction = options.maxBadFraction
  if (options.keepBadRows !== undefined) readOptions.keepBadRows = options.keepBadRows
  if (options.signal) readOptions.signal = options.signal
  const stream = source.read(readOptions)
  for await (const batch of stream) {
    accumulator.add(batch)
    options.onProgress?.(accumulator.size)
  }
  const { data, stats } = accumulator.build()
  if (data.matrix.indices.length === 0) {
    const why =
      stats.events === 0
        ? `${source.description} holds no valid events (${stream.report.rows} rows, ${stream.report.badRows} bad).`
        : `all ${stats.pairs} (user, item) pairs of ${source.description} were dropped (${stats.nonPositivePairs} with a total weight ≤ 0, the rest by the min-interaction filters).`
    throw new TrainerError(
      'NO_INTERACTIONS',
      `Nothing to train on: ${why} Check the input, the event weights and minUserInteractions/minItemInteractions.`,
    )
  }
  return { data, stats, report: stream.report }
}

/**
 * Reads an event source to the end and builds the interaction matrix: the first stage of training.
 *
 * @module
 */
import {
  type BadRowPolicy,
  type EventSource,
  type IndexedEventSink,
  type ReadReport,
  topReasons,
} from '@edgerec/adapters'
import type { CsrAllocator, InteractionMatrix } from '../data/matrix.js'
import { reduceHeap } from '../data/release.js'
import { TrainerError } from '../errors.js'
import { InteractionAccumulator, type WeightingOptions, type WeightingStats } from '../weighting/index.js'

const FIXES: [RegExp, string][] = [
  [
    /^timestamp/,
    'give the format with --time-format (events.timeFormat, e.g. %d-%m-%Y), the unit with --time-unit s|ms, or another column with --time-col',
  ],
  [
    /fields, the (header|first row) has/,
    'set the delimiter with --delimiter tab|comma|semicolon|pipe|<chars> (events.delimiter), or --no-header if the first row is data',
  ],
  [/^value/, 'pick the value column with --value-col <column> (or --value-col none to ignore it)'],
  [/^user id/, 'pick the user column with --user-col <column or 1-based position>'],
  [/^item id/, 'pick the item column with --item-col <column or 1-based position>'],
  [/^type/, 'pick the type column with --type-col <column>, or map event types in weighting.eventWeights'],
  [/not JSON|JSON object/, 'check the format: --format csv|tsv|ndjson|parquet'],
  [/quoted field|closing quote/, 'check the delimiter (--delimiter) and the quoting of the file'],
  [
    /^(userId|itemId|type|timestamp|value|id|anonymousId):/,
    'map your field names with --columns user=…,item=…',
  ],
]

/** What a user can do about a kind of bad row (a flag and its config key), or a generic hint. */
export function fixForReason(kind: string): string {
  for (const [pattern, fix] of FIXES) if (pattern.test(kind)) return fix
  return 'fix these rows in the input'
}

/**
 * The most frequent bad-row reasons of a read, one line each: count, reason, an example row
 * and the flag that fixes it.
 */
export function describeBadRows(report: ReadReport, n = 3): string[] {
  return topReasons(report, n).map(
    (r) =>
      `${r.count.toLocaleString('en-US')}× ${r.example.reason}, e.g. line ${r.example.line}${r.example.raw !== undefined ? `: ${r.example.raw}` : ''} → ${fixForReason(r.kind)}.`,
  )
}

/** Options of {@link loadInteractions}. */
export interface LoadOptions extends WeightingOptions, BadRowPolicy {
  /** Called after each batch with the number of events read so far. */
  onProgress?: (eventsRead: number) => void
  /** File inputs: called as raw bytes are read, with the input's size when known. */
  onBytes?: (bytesRead: number, totalBytes: number | undefined) => void
  signal?: AbortSignal
  /**
   * Allocates the loaded matrix's CSR arrays (see `InteractionAccumulator.build`): give
   * `(rows, cols, pairs) => allocateAlsMatrix(rows, cols, pairs, als)` when the matrix goes
   * straight into `trainAls(matrix, als)`, so that the matrix is held once, not twice (8 bytes
   * per pair less at the training's peak). Default: ordinary typed arrays.
   */
  allocateMatrix?: CsrAllocator
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
  if (options.onBytes) readOptions.onBytes = options.onBytes
  let report: ReadReport
  if (source.readInto) {
    // The fast path: rows go straight into the accumulator's columns, no event objects.
    const progress = options.onProgress
    // Indexed events when the reader interns ids itself (CSV: no id string per row).
    const sink: IndexedEventSink = progress
      ? {
          event(...args: Parameters<InteractionAccumulator['event']>): void {
            accumulator.event(...args)
            if ((accumulator.size & 0xffff) === 0) progress(accumulator.size)
          },
          userIndex: (id) => accumulator.userIndex(id),
          itemIndex: (id) => accumulator.itemIndex(id),
          indexedEvent(...args: Parameters<InteractionAccumulator['indexedEvent']>): void {
            accumulator.indexedEvent(...args)
            if ((accumulator.size & 0xffff) === 0) progress(accumulator.size)
          },
        }
      : accumulator
    report = await source.readInto(sink, readOptions)
    progress?.(accumulator.size)
  } else {
    const stream = source.read(readOptions)
    for await (const batch of stream) {
      accumulator.add(batch)
      options.onProgress?.(accumulator.size)
    }
    report = stream.report
  }
  const { data, stats } = accumulator.build({ allocate: options.allocateMatrix })
  // The parse's dead strings and the young generation it grew would otherwise stay resident under
  // whatever comes next (the ALS memory): give those pages back now.
  reduceHeap()
  if (data.matrix.indices.length === 0) {
    if (stats.events === 0 && report.badRows > 0) {
      const reasons = describeBadRows(report)
      throw new TrainerError(
        'NO_INTERACTIONS',
        `Nothing to train on: every one of the ${report.rows.toLocaleString('en-US')} rows of ${source.description} was rejected. Most frequent reasons:\n  ${reasons.join('\n  ')}${report.notes.length > 0 ? `\nHow the input was read: ${report.notes.join('; ')}.` : ''}`,
      )
    }
    const why =
      stats.events === 0
        ? `${source.description} holds no events (${report.rows} rows). Check the path and the input.`
        : `all ${stats.pairs} (user, item) pairs of ${source.description} were dropped (${stats.nonPositivePairs} with a total weight ≤ 0, the rest by the min-interaction filters). Check the event weights and lower minUserInteractions/minItemInteractions.`
    throw new TrainerError('NO_INTERACTIONS', `Nothing to train on: ${why}`)
  }
  return { data, stats, report }
}

/**
 * The event-source contract: every reader (CSV, NDJSON, Parquet, SQLite, Cloudflare D1) streams
 * batches of {@link SourceEvent}s and keeps a {@link ReadReport} of what it read and rejected.
 *
 * @module
 */
import { EventSourceError } from './errors.js'

/**
 * One interaction as the trainer needs it: who, what, which kind, how much, when.
 * Readers normalize every input format to this shape.
 */
export interface SourceEvent {
  /** The user (`userId`, or the anonymous id when the event has no user id). */
  userId: string
  itemId: string
  /** Event type; `undefined` when the input has no type column (the trainer applies its default). */
  type: string | undefined
  /** Magnitude (rating, quantity); `undefined` when absent. */
  value: number | undefined
  /** Epoch milliseconds; `0` when the input has no time column. */
  timestamp: number
  /**
   * When the edge worker stored the event, epoch ms (its clock): set by the D1/SQLite sources,
   * undefined for file inputs. The trainer's `trainedUntil` cut-off comes from it.
   */
  receivedAt?: number
}

/**
 * Receives events one at a time, as plain arguments: the allocation-free way to read large
 * inputs (see {@link EventSource.readInto}). The strings may be kept.
 */
export interface EventSink {
  event(
    userId: string,
    itemId: string,
    type: string | undefined,
    value: number | undefined,
    timestamp: number,
    /** When the edge worker stored the event (epoch ms), for sources that know it. */
    receivedAt?: number,
  ): void
}

/**
 * An {@link EventSink} that also takes ids as dense indexes it hands out. A reader that interns ids
 * itself (the CSV reader hashes their bytes) asks for the index of each distinct id once and then
 * passes indexes, so no string is made per row. Same events, same order as through `event`.
 */
export interface IndexedEventSink extends EventSink {
  /** The index of a user id (the same one for the same id), adding the id when it is new. */
  userIndex(userId: string): number
  /** The index of an item id, adding the id when it is new. */
  itemIndex(itemId: string): number
  /** {@link EventSink.event} with the ids given as indexes from {@link userIndex} and {@link itemIndex}. */
  indexedEvent(
    user: number,
    item: number,
    type: string | undefined,
    value: number | undefined,
    timestamp: number,
  ): void
}

/** Whether a sink takes indexed events ({@link IndexedEventSink}). */
export function isIndexedSink(sink: EventSink): sink is IndexedEventSink {
  const s = sink as Partial<IndexedEventSink>
  return (
    typeof s.userIndex === 'function' &&
    typeof s.itemIndex === 'function' &&
    typeof s.indexedEvent === 'function'
  )
}

/** One rejected row. */
export interface BadRow {
  /** 1-based line (CSV/NDJSON: physical line where the row starts), or row number (Parquet, SQL). */
  line: number
  /** What is wrong with it. */
  reason: string
  /** The start of the raw row, for the report (at most 200 characters). */
  raw?: string
}

/** How many rows were rejected for one kind of reason, with the first such row. */
export interface BadRowReason {
  /** Rows rejected for this reason. */
  count: number
  /** The first of them (its reason text is the full one, with the values quoted). */
  example: BadRow
}

/** Distinct reason kinds kept in {@link ReadReport.reasons}; later new kinds are counted as `other`. */
export const MAX_REASON_KINDS = 50

/**
 * The kind of a bad-row reason: the reason with quoted values and numbers blanked, so
 * `timestamp "21-07-2015" is …` and `timestamp "22-07-2015" is …` count together.
 */
export function reasonKind(reason: string): string {
  return reason
    .replace(/ \(try [^)]*\)/g, '')
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/(?<![-\w.])\d+(?![-\w.])/g, 'N')
}

/** What a read produced. Complete once the iteration ends. */
export interface ReadReport {
  /** Data rows seen (header excluded). */
  rows: number
  /** Rows turned into events. */
  events: number
  /** Rows rejected; `events + badRows === rows`. */
  badRows: number
  /** The first rejected rows (up to `keepBadRows`). */
  samples: BadRow[]
  /** Every rejected row counted by {@link reasonKind}, with an example row of each kind. */
  reasons: Record<string, BadRowReason>
  /**
   * What the reader decided on its own (delimiter, header or not, which column feeds which
   * field), for the log: a user should never have to guess how a file was read.
   */
  notes: string[]
  /** What looks wrong with the input as a whole (a mapped column that no row has, …). */
  warnings: string[]
}

/** The reason kinds of a report, most frequent first. */
export function topReasons(report: ReadReport, n = 3): { kind: string; count: number; example: BadRow }[] {
  return Object.entries(report.reasons)
    .map(([kind, r]) => ({ kind, count: r.count, example: r.example }))
    .sort((a, b) => b.count - a.count)
    .slice(0, n)
}

/** When bad rows become fatal. Without limits, bad rows are only counted and reported. */
export interface BadRowPolicy {
  /** Fail once more than this many rows are bad. Default: no limit. */
  maxBadRows?: number
  /** Fail at the end when more than this fraction (0..1) of rows are bad. Default: no limit. */
  maxBadFraction?: number
  /** Bad rows kept in the report with their line numbers. Default 20. */
  keepBadRows?: number
}

/** Options every reader accepts. */
export interface ReadOptions extends BadRowPolicy {
  /** Events per yielded batch. Default 8192. */
  batchSize?: number
  /** Stops the read. */
  signal?: AbortSignal
  /**
   * File readers: called as the raw bytes are read, with the input's size when known (progress of
   * long reads; for `.gz` inputs the compressed bytes).
   */
  onBytes?: (bytesRead: number, totalBytes: number | undefined) => void
}

/** A read in progress: iterate it for batches, then look at its report. */
export interface EventStream extends AsyncIterable<SourceEvent[]> {
  /** Counts so far; final once iteration is done. */
  readonly report: ReadReport
}

/**
 * A source of events. `read()` may be called more than once; each call reads from the start.
 *
 * @example
 * ```ts
 * const source = csvEventSource({ path: 'ratings.csv', columns: { user: 'userId', item: 'movieId' } })
 * const stream = source.read({ maxBadFraction: 0.01 })
 * for await (const batch of stream) for (const e of batch) use(e)
 * console.log(stream.report.badRows, stream.report.samples)
 * ```
 */
export interface EventSource {
  /** Human-readable description for logs, e.g. `csv file ratings.csv`. */
  readonly description: string
  read(options?: ReadOptions): EventStream
  /**
   * Optional fast path for large inputs: reads everything into `sink` without building event
   * objects or batches, and resolves with the final report. Same rows, same order, same report
   * as {@link read}. Readers without it are read with `read()`.
   */
  readInto?(sink: EventSink, options?: ReadOptions): Promise<ReadReport>
}

/** Default number of bad rows kept in a report. */
export const DEFAULT_KEEP_BAD_ROWS = 20

/** Default events per batch. */
export const DEFAULT_BATCH_SIZE = 8192

/**
 * Counts rows, keeps the first bad ones and enforces the {@link BadRowPolicy}.
 *
 * @internal
 */
export class BadRowTracker {
  readonly report: ReadReport = {
    rows: 0,
    events: 0,
    badRows: 0,
    samples: [],
    reasons: {},
    notes: [],
    warnings: [],
  }
  #kinds = 0
  readonly #policy: BadRowPolicy
  readonly #description: string

  constructor(description: string, policy: BadRowPolicy = {}) {
    this.#description = description
    this.#policy = policy
    for (const [name, value] of [
      ['maxBadRows', policy.maxBadRows],
      ['maxBadFraction', policy.maxBadFraction],
      ['keepBadRows', policy.keepBadRows],
    ] as const) {
      if (value !== undefined && !(value >= 0)) {
        throw new EventSourceError('INPUT_INVALID', `${name} must be a number ≥ 0, got ${value}.`)
      }
    }
  }

  /** Records a good row. */
  ok(): void {
    this.report.rows++
    this.report.events++
  }

  /** Records a bad row; throws once `maxBadRows` is exceeded. */
  bad(line: number, reason: string, raw?: string): void {
    this.report.rows++
    this.report.badRows++
    const sample: BadRow = { line, reason }
    if (raw !== undefined) sample.raw = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw
    if (this.report.samples.length < (this.#policy.keepBadRows ?? DEFAULT_KEEP_BAD_ROWS)) {
      this.report.samples.push(sample)
    }
    let kind = reasonKind(reason)
    if (this.report.reasons[kind] === undefined && this.#kinds >= MAX_REASON_KINDS) kind = 'other'
    const counted = this.report.reasons[kind]
    if (counted) counted.count++
    else {
      this.report.reasons[kind] = { count: 1, example: sample }
      this.#kinds++
    }
    const max = this.#policy.maxBadRows
    if (max !== undefined && this.report.badRows > max) {
      throw new EventSourceError(
        'TOO_MANY_BAD_ROWS',
        `${this.#description}: more than ${max} bad rows (maxBadRows) after ${this.report.rows} rows. ${this.#firstProblems()} Fix the input or raise maxBadRows.`,
      )
    }
  }

  /** Checks `maxBadFraction` once the input is exhausted. */
  finish(): void {
    const max = this.#policy.maxBadFraction
    const { rows, badRows } = this.report
    if (max !== undefined && rows > 0 && badRows / rows > max) {
      throw new EventSourceError(
        'TOO_MANY_BAD_ROWS',
        `${this.#description}: ${badRows} of ${rows} rows are bad (${((100 * badRows) / rows).toFixed(2)}% > maxBadFraction ${max}). ${this.#firstProblems()} Fix the input or raise maxBadFraction.`,
      )
    }
  }

  #firstProblems(): string {
    const shown = topReasons(this.report).map(
      (r) =>
        `${r.count}× ${r.example.reason} (e.g. line ${r.example.line}${r.example.raw ? `: ${r.example.raw}` : ''})`,
    )
    return shown.length > 0 ? `Most frequent problems: ${shown.join('; ')}.` : ''
  }
}

/**
 * Wraps an async generator of events into an {@link EventStream} that batches them.
 *
 * @internal
 */
export function batchedStream(
  tracker: BadRowTracker,
  options: ReadOptions,
  produce: (emit: (event: SourceEvent) => void) => AsyncIterable<void>,
): EventStream {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  return {
    report: tracker.report,
    async *[Symbol.asyncIterator]() {
      let batch: SourceEvent[] = []
      const emit = (event: SourceEvent): void => {
        tracker.ok()
        batch.push(event)
      }
      // The producer yields after each chunk of input so full batches leave memory early.
      for await (const _ of produce(emit)) {
        options.signal?.throwIfAborted()
        if (batch.length >= batchSize) {
          const full = batch
          batch = []
          yield full
        }
      }
      tracker.finish()
      if (batch.length > 0) yield batch
    },
  }
}

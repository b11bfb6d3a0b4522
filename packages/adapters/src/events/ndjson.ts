/**
 * NDJSON events (one JSON object per line), streamed from a local file or any storage key.
 *
 * Without a column mapping each line is an edgerec event (`{ id, userId, itemId, type, value?,
 * timestamp, context? }`, the format of the SDK, the worker and its R2 archive) checked with core's
 * `validateEvent`. With a mapping, lines are flat records whose fields are picked like CSV columns.
 *
 * @module
 */
import { validateEvent } from '@edgerec/core'
import type { ColumnMapping, TimeUnit } from './fields.js'
import { resolveColumns, rowToEvent, timeReader } from './fields.js'
import { describeLocation, type InputLocation, lines, openText } from './input.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSource,
  type EventStream,
  type ReadOptions,
} from './source.js'

/** Options of {@link ndjsonEventSource}. */
export interface NdjsonSourceOptions {
  /** Read flat records with this mapping instead of edgerec events. */
  columns?: ColumnMapping
  timeUnit?: TimeUnit
  /** `strftime`-style format of text timestamps (see `compileTimeFormat`). */
  timeFormat?: string
  /**
   * For edgerec events: allowed clock skew into the future (ms) in `validateEvent`.
   * Default: core's limit (24 h) relative to the time of reading.
   */
  maxFutureSkewMs?: number
}

/**
 * Reads events from NDJSON. A line that is not JSON, not an object, or fails validation is a bad
 * row with its line number and the validator's field errors.
 *
 * @example
 * ```ts
 * const source = ndjsonEventSource({ storage, key: 'archive/2026-11-01.ndjson.gz' })
 * ```
 */
export function ndjsonEventSource(location: InputLocation, options: NdjsonSourceOptions = {}): EventSource {
  const description = `NDJSON ${describeLocation(location)}`
  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      const tracker = new BadRowTracker(description, readOptions)
      const readTime = timeReader(options)
      // Mapped fields: how many rows lack each named key (a typo in a mapping reads as "always absent").
      const mapped = Object.entries(options.columns ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      )
      const absent = new Map<string, number>(mapped.map(([, name]) => [name, 0]))
      let mappedRows = 0
      return batchedStream(tracker, readOptions, async function* (emit) {
        let mappedColumns: ReturnType<typeof resolveColumns> | undefined
        let mappedNames: string[] | undefined
        const validateOptions =
          options.maxFutureSkewMs === undefined ? {} : { maxFutureSkewMs: options.maxFutureSkewMs }
        for await (const batch of lines(openText(location, readOptions.signal, readOptions.onBytes))) {
          for (const { line, text } of batch) {
            if (text.trim().length === 0) continue
            let parsed: unknown
            try {
              parsed = JSON.parse(text)
            } catch (error) {
              tracker.bad(line, `not JSON (${(error as Error).message})`, text)
              continue
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              tracker.bad(line, 'not a JSON object', text)
              continue
            }
            const record = parsed as Record<string, unknown>
            if (options.columns) {
              if (mappedColumns === undefined || mappedNames === undefined) {
                // The mapping names fields; resolve them once against a fixed name list.
                const m = options.columns
                mappedNames = [m.user, m.anonymousUser, m.item, m.value, m.timestamp, m.type].filter(
                  (v): v is string => typeof v === 'string',
                )
                for (const name of ['userId', 'anonymousId', 'itemId', 'value', 'timestamp', 'type']) {
                  if (!mappedNames.includes(name)) mappedNames.push(name)
                }
                mappedColumns = resolveColumns(mappedNames, m, description)
              }
              const names = mappedNames
              mappedRows++
              for (const [name, count] of absent) if (!(name in record)) absent.set(name, count + 1)
              const event = rowToEvent((c) => record[names[c]!], mappedColumns, readTime)
              if (typeof event === 'string') tracker.bad(line, event, text)
              else emit(event)
              continue
            }
            const result = validateEvent(record, validateOptions)
            if (!result.ok) {
              tracker.bad(line, result.errors.map((e) => `${e.field}: ${e.message}`).join(' '), text)
              continue
            }
            const e = result.event
            emit({
              userId: (e.userId ?? e.anonymousId)!,
              itemId: e.itemId,
              type: e.type,
              value: e.value,
              timestamp: e.timestamp,
            })
          }
          yield
        }
        for (const [field, name] of mapped) {
          const missing = absent.get(name) ?? 0
          if (mappedRows > 0 && missing === mappedRows) {
            tracker.report.warnings.push(
              `no row has the key "${name}" (mapped as ${field}); check the column mapping.`,
            )
          } else if (missing > 0) {
            tracker.report.warnings.push(
              `${missing} of ${mappedRows} rows lack the key "${name}" (mapped as ${field}).`,
            )
          }
        }
      })
    },
  }
}

/**
 * Event sources: stream events for training from NDJSON, CSV and Parquet files (local or in any
 * storage), the edge worker's events table in local SQLite, and Cloudflare D1. Bad rows are counted
 * and reported with their line numbers, never silently dropped.
 *
 * @example
 * ```ts
 * import { createEventSource } from '@edgerec/adapters'
 * const source = await createEventSource({ kind: 'file', path: 'ratings.csv', columns: { item: 'movieId', value: 'rating' } })
 * const stream = source.read({ maxBadFraction: 0.01 })
 * for await (const batch of stream) console.log(batch.length)
 * console.log(stream.report)
 * ```
 *
 * @module
 */
export type { ArchiveSourceOptions } from './archive.js'
export { archiveEventSource, DEFAULT_ARCHIVE_PREFIX } from './archive.js'
export type {
  ArchiveSourceConfig,
  D1SourceConfig as D1EventSourceConfig,
  EventSourceConfig,
  FileSourceConfig,
  SqliteSourceConfig,
} from './create.js'
export { createEventSource, formatFromName } from './create.js'
export type { CsvParseOptions, CsvRecord, CsvSourceOptions } from './csv.js'
export { csvEventSource, delimiterName, parseCsv, parseDelimiter, sniffDelimiter } from './csv.js'
export type { EventSourceErrorCode } from './errors.js'
export { EVENT_SOURCE_ERROR_CODES, EventSourceError } from './errors.js'
export type { ColumnMapping, EventField, FieldOptions, ResolvedColumns, TimeUnit } from './fields.js'
export {
  COLUMN_CANDIDATES,
  compileTimeFormat,
  describeColumns,
  parseTimestamp,
  resolveColumns,
  rowToEvent,
  rowToSink,
  SECONDS_THRESHOLD,
  suggestTimeFormat,
  timeReader,
} from './fields.js'
export type { BytesProgress, InputLocation } from './input.js'
export { openBytes, openText } from './input.js'
export type { NdjsonSourceOptions } from './ndjson.js'
export { ndjsonEventSource } from './ndjson.js'
export type { ParquetSourceOptions } from './parquet.js'
export { parquetEventSource, storageAsyncBuffer } from './parquet.js'
export type {
  BadRow,
  BadRowPolicy,
  BadRowReason,
  EventSink,
  EventSource,
  EventStream,
  IndexedEventSink,
  ReadOptions,
  ReadReport,
  SourceEvent,
} from './source.js'
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_KEEP_BAD_ROWS,
  isIndexedSink,
  MAX_REASON_KINDS,
  reasonKind,
  topReasons,
} from './source.js'
export type { D1SourceOptions, EventRow, SqliteSourceOptions, SqlSourceOptions } from './sql.js'
export { DEFAULT_PAGE_ROWS, d1EventSource, sqliteEventSource } from './sql.js'

/**
 * `createEventSource(config)`: the `events` part of `edgerec.config.ts` turned into a reader.
 *
 * @module
 */
import { createStorage } from '../config/create-storage.js'
import type { StorageConfig } from '../config/types.js'
import type { Storage } from '../storage/storage.js'
import { archiveEventSource } from './archive.js'
import { type CsvSourceOptions, csvEventSource } from './csv.js'
import { EventSourceError } from './errors.js'
import type { ColumnMapping, FieldOptions, TimeUnit } from './fields.js'
import type { InputLocation } from './input.js'
import { ndjsonEventSource } from './ndjson.js'
import { parquetEventSource } from './parquet.js'
import type { EventSource } from './source.js'
import { d1EventSource, sqliteEventSource } from './sql.js'

/** A file-based source: a local path, or a key in a storage (`storage` set). */
export interface FileSourceConfig {
  /**
   * `file` picks the format from the extension (`.csv`, `.tsv`, `.dat`/`.txt` (delimited text,
   * delimiter detected), `.ndjson`/`.jsonl`, `.parquet`, optionally `.gz`).
   */
  kind: 'csv' | 'tsv' | 'ndjson' | 'parquet' | 'file'
  /** Local path, or the key when `storage` is set. */
  path: string
  /** Read `path` as a key of this storage (S3, GCS, Azure Blob, R2, local) instead of the local disk. */
  storage?: StorageConfig | Storage
  columns?: ColumnMapping
  timeUnit?: TimeUnit
  /** `strftime`-style format of text timestamps that are not ISO-8601, e.g. `%d-%m-%Y`. */
  timeFormat?: string
  /**
   * Delimited text: field separator (a character, `::`, or `tab`/`comma`/`semicolon`/`pipe`/`space`).
   * Default: detected from the first line, else `,` (tab for `.tsv`).
   */
  delimiter?: string
  /** Delimited text: whether the first row is a header. Default `'auto'` (not when it is all numbers). */
  header?: boolean | 'auto'
}

/** The edge worker's events in a local SQLite file. */
export interface SqliteSourceConfig {
  kind: 'sqlite'
  path: string
  table?: string
  since?: number
}

/** The edge worker's events in Cloudflare D1 (HTTP API). */
export interface D1SourceConfig {
  kind: 'd1'
  accountId: string
  databaseId: string
  apiTokenEnv?: string
  apiBase?: string
  table?: string
  since?: number
}

/** The edge worker's R2 event archive (queued ingestion tier), read through any storage. */
export interface ArchiveSourceConfig {
  kind: 'archive'
  /** Where the archive is: R2 (S3 API), S3, GCS, Azure Blob or a local copy. */
  storage: StorageConfig | Storage
  /** Default `events/archive/`. */
  prefix?: string
  /** Only hours at or after this day (`YYYY-MM-DD`). */
  since?: string
}

/** Any event source config. */
export type EventSourceConfig = FileSourceConfig | SqliteSourceConfig | D1SourceConfig | ArchiveSourceConfig

/** The format a file name implies, or `undefined`. */
export function formatFromName(name: string): 'csv' | 'tsv' | 'ndjson' | 'parquet' | 'sqlite' | undefined {
  const base = name.toLowerCase().replace(/\.gz$/, '')
  if (base.endsWith('.csv')) return 'csv'
  if (base.endsWith('.tsv') || base.endsWith('.tab')) return 'tsv'
  if (base.endsWith('.dat') || base.endsWith('.txt') || base.endsWith('.data')) return 'csv'
  if (base.endsWith('.ndjson') || base.endsWith('.jsonl') || base.endsWith('.json')) return 'ndjson'
  if (base.endsWith('.parquet')) return 'parquet'
  if (base.endsWith('.sqlite') || base.endsWith('.sqlite3') || base.endsWith('.db')) return 'sqlite'
  return undefined
}

const isStorage = (value: StorageConfig | Storage): value is Storage =>
  typeof (value as Storage).getStream === 'function'

/**
 * Builds an event source from its config. Storage configs go through `createStorage`, so only the
 * chosen provider's SDK is loaded.
 *
 * @example
 * ```ts
 * const source = await createEventSource({ kind: 'file', path: 'events/2026-11.csv.gz', storage: { provider: 's3', bucket: 'shop-events' } })
 * ```
 */
export async function createEventSource(config: EventSourceConfig): Promise<EventSource> {
  switch (config.kind) {
    case 'sqlite': {
      const options: Parameters<typeof sqliteEventSource>[0] = { path: config.path }
      if (config.table !== undefined) options.table = config.table
      if (config.since !== undefined) options.since = config.since
      return sqliteEventSource(options)
    }
    case 'd1': {
      const { kind: _kind, ...rest } = config
      return d1EventSource(rest)
    }
    case 'archive': {
      if (!config.storage) {
        throw new EventSourceError('INPUT_INVALID', `events.storage is required for kind 'archive'.`)
      }
      const storage = isStorage(config.storage) ? config.storage : await createStorage(config.storage)
      return archiveEventSource({
        storage,
        ...(config.prefix !== undefined ? { prefix: config.prefix } : {}),
        ...(config.since !== undefined ? { since: config.since } : {}),
      })
    }
    case 'csv':
    case 'tsv':
    case 'ndjson':
    case 'parquet':
    case 'file': {
      if (typeof config.path !== 'string' || config.path.length === 0) {
        throw new EventSourceError('INPUT_INVALID', `events.path is required for kind '${config.kind}'.`)
      }
      const location: InputLocation = config.storage
        ? {
            storage: isStorage(config.storage) ? config.storage : await createStorage(config.storage),
            key: config.path,
          }
        : { path: config.path }
      let format: string | undefined = config.kind
      if (config.kind === 'file') {
        format = formatFromName(config.path)
        if (format === 'sqlite' && !config.storage) return sqliteEventSource({ path: config.path })
        if (format === undefined || format === 'sqlite') {
          throw new EventSourceError(
            'INPUT_INVALID',
            `Cannot tell the format of ${config.path} from its name. Use a .csv, .tsv, .dat, .txt, .ndjson, .jsonl or .parquet name, or give the format (--format csv|tsv|ndjson|parquet, events.kind).`,
          )
        }
      }
      const fieldOptions: FieldOptions = {}
      if (config.columns) fieldOptions.columns = config.columns
      if (config.timeUnit) fieldOptions.timeUnit = config.timeUnit
      if (config.timeFormat) fieldOptions.timeFormat = config.timeFormat
      if (format === 'csv' || format === 'tsv') {
        const csvOptions: CsvSourceOptions = {
          ...fieldOptions,
          defaultDelimiter: format === 'tsv' ? '\t' : ',',
        }
        if (config.delimiter !== undefined) csvOptions.delimiter = config.delimiter
        if (config.header !== undefined) csvOptions.header = config.header
        return csvEventSource(location, csvOptions)
      }
      if (format === 'ndjson') return ndjsonEventSource(location, fieldOptions)
      return parquetEventSource(location, fieldOptions)
    }
    default:
      throw new EventSourceError(
        'INPUT_INVALID',
        `events.kind ${JSON.stringify((config as { kind?: unknown }).kind)} is not one of csv, tsv, ndjson, parquet, file, sqlite, d1.`,
      )
  }
}

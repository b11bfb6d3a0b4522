/**
 * Parquet events through `hyparquet` (pure JavaScript, an optional peer dependency), read one row
 * group slice at a time so memory holds one slice, from a local file or any storage key (ranged reads).
 *
 * @module
 */
import type { AsyncBuffer } from 'hyparquet'
import type { Storage } from '../storage/storage.js'
import { EventSourceError } from './errors.js'
import { describeColumns, type FieldOptions, resolveColumns, rowToEvent, timeReader } from './fields.js'
import { describeLocation, type InputLocation } from './input.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSource,
  type EventStream,
  type ReadOptions,
} from './source.js'

/** Options of {@link parquetEventSource}. */
export interface ParquetSourceOptions extends FieldOptions {
  /** Rows decoded at a time (a row group is read in slices of this size). Default 65536. */
  sliceRows?: number
}

type Hyparquet = typeof import('hyparquet')

async function loadHyparquet(): Promise<Hyparquet> {
  try {
    return await import('hyparquet')
  } catch (cause) {
    throw new EventSourceError(
      'DEPENDENCY_MISSING',
      'Reading Parquet needs the hyparquet package. Install it: npm install hyparquet',
      { cause },
    )
  }
}

/**
 * A hyparquet `AsyncBuffer` over ranged reads of a storage object (one `head`, then `getRange`
 * per slice hyparquet asks for), so a Parquet object is never held whole in memory.
 *
 * @throws EventSourceError `INPUT_NOT_FOUND` when the object does not exist (or vanishes mid-read)
 */
export async function storageAsyncBuffer(storage: Storage, key: string): Promise<AsyncBuffer> {
  const info = await storage.head(key)
  if (!info) {
    throw new EventSourceError(
      'INPUT_NOT_FOUND',
      `Input ${key} does not exist in ${storage.provider} storage. Check the key.`,
    )
  }
  return {
    byteLength: info.size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await storage.getRange(key, end === undefined ? { start } : { start, end })
      if (!bytes)
        throw new EventSourceError(
          'INPUT_NOT_FOUND',
          `Input ${key} disappeared from ${storage.provider} storage while reading.`,
        )
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    },
  }
}

async function localBuffer(hyparquet: Hyparquet, path: string): Promise<AsyncBuffer> {
  try {
    return await hyparquet.asyncBufferFromFile(path)
  } catch (cause) {
    throw new EventSourceError(
      'INPUT_NOT_FOUND',
      `Input file ${path} does not exist or cannot be read. Check the path.`,
      { cause },
    )
  }
}

/**
 * Reads events from a Parquet file. Columns are mapped like CSV columns; INT64 values arrive as
 * bigint and TIMESTAMP columns as `Date`, both handled. Row numbers in bad-row reports are 1-based.
 *
 * @example
 * ```ts
 * const source = parquetEventSource({ path: 'events.parquet' }, { columns: { user: 'customer_id', item: 'sku' } })
 * ```
 */
export function parquetEventSource(location: InputLocation, options: ParquetSourceOptions = {}): EventSource {
  const description = `Parquet ${describeLocation(location)}`
  const sliceRows = options.sliceRows ?? 65_536
  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      const tracker = new BadRowTracker(description, readOptions)
      const readTime = timeReader(options)
      return batchedStream(tracker, readOptions, async function* (emit) {
        const hyparquet = await loadHyparquet()
        const file =
          'path' in location
            ? await localBuffer(hyparquet, location.path)
            : await storageAsyncBuffer(location.storage, location.key)
        let metadata: Awaited<ReturnType<Hyparquet['parquetMetadataAsync']>>
        try {
          metadata = await hyparquet.parquetMetadataAsync(file)
        } catch (cause) {
          throw new EventSourceError(
            'INPUT_INVALID',
            `${description} is not a Parquet file (${(cause as Error).message}).`,
            { cause },
          )
        }
        const header = hyparquet.parquetSchema(metadata).children.map((child) => child.element.name)
        const columns = resolveColumns(header, options.columns, description)
        tracker.report.notes.push(`columns: ${describeColumns(header, columns, options.columns)}`)
        const wanted = [
          ...new Set([
            columns.user,
            columns.anonymousUser,
            columns.item,
            columns.value,
            columns.timestamp,
            columns.type,
          ]),
        ]
          .filter((c) => c >= 0)
          .map((c) => header[c]!)
        const total = Number(metadata.num_rows)
        for (let rowStart = 0; rowStart < total; rowStart += sliceRows) {
          const rowEnd = Math.min(total, rowStart + sliceRows)
          const rows = await hyparquet.parquetReadObjects({
            file,
            metadata,
            columns: wanted,
            rowStart,
            rowEnd,
          })
          for (let r = 0; r < rows.length; r++) {
            const row = rows[r]!
            const event = rowToEvent((c) => row[header[c]!], columns, readTime)
            if (typeof event === 'string')
              tracker.bad(
                rowStart + r + 1,
                event,
                JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
              )
            else emit(event)
          }
          yield
        }
      })
    },
  }
}

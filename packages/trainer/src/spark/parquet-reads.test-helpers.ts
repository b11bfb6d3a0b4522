/**
 * Test helpers for the bounded Parquet reads of the Spark import: a storage that records its
 * ranged reads, and the largest page and column chunk of a Parquet file read from its own headers.
 */
import type { Storage } from '@edgerec/adapters'
import { parquetMetadata } from 'hyparquet'
import { parquetHeader } from 'hyparquet/src/column.js'

/** Every ranged read of a storage: key, and bytes returned. */
export interface Read {
  key: string
  bytes: number
}

/** `storage` with its ranged reads recorded in `reads`. */
export function recordingStorage(storage: Storage, reads: Read[]): Storage {
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'getRange')
        return async (key: string, range: Parameters<Storage['getRange']>[1]) => {
          const bytes = await target.getRange(key, range)
          reads.push({ key, bytes: bytes?.byteLength ?? 0 })
          return bytes
        }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Size of the largest page (header excluded) and of the largest column chunk of a Parquet file. */
export function largestPageAndChunk(bytes: Uint8Array): { page: number; chunk: number } {
  const buffer = bytes.slice().buffer as ArrayBuffer
  let page = 0
  let chunk = 0
  for (const group of parquetMetadata(buffer).row_groups)
    for (const column of group.columns) {
      const meta = column.meta_data!
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset)
      const size = Number(meta.total_compressed_size)
      chunk = Math.max(chunk, size)
      const reader = { view: new DataView(buffer, start, size), offset: 0 }
      while (reader.offset < size) {
        const header = parquetHeader(reader)
        page = Math.max(page, header.compressed_page_size)
        reader.offset += header.compressed_page_size
      }
    }
  return { page, chunk }
}

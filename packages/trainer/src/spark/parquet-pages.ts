/**
 * Page-at-a-time decoding of one Parquet column chunk with hyparquet's page decoders, handing each
 * page's values and levels to the caller instead of assembling rows. The Spark import uses it to
 * write `features: array<float>` straight into a preallocated `Float32Array` (no per-row JS arrays,
 * which is where `parquetReadObjects` spends its time and memory) and the interactions straight into
 * typed arrays. Memory: one window of the chunk's compressed bytes (ranged reads of a few MiB, or
 * one page when a page is larger) plus one decompressed page, whatever the row group's size.
 *
 * @module
 */
import type { AsyncBuffer, DecodedArray, FileMetaData, SchemaTree } from 'hyparquet'

type Hyparquet = typeof import('hyparquet')
type ColumnModule = typeof import('hyparquet/src/column.js')
type DataPageModule = typeof import('hyparquet/src/datapage.js')
type ConvertModule = typeof import('hyparquet/src/convert.js')
type PlainModule = typeof import('hyparquet/src/plain.js')
type SchemaModule = typeof import('hyparquet/src/schema.js')

/** hyparquet's public entry plus the page decoders it exports under `hyparquet/src/*.js`. */
export interface ParquetDecoders {
  hyparquet: Hyparquet
  column: ColumnModule
  datapage: DataPageModule
  convert: ConvertModule
  plain: PlainModule
  schema: SchemaModule
}

let decoders: Promise<ParquetDecoders> | undefined

/** Loads hyparquet lazily (the CLI resolves no Parquet library until a Parquet file is read). */
export function loadParquetDecoders(): Promise<ParquetDecoders> {
  decoders ??= (async () => {
    const [hyparquet, column, datapage, convert, plain, schema] = await Promise.all([
      import('hyparquet'),
      import('hyparquet/src/column.js'),
      import('hyparquet/src/datapage.js'),
      import('hyparquet/src/convert.js'),
      import('hyparquet/src/plain.js'),
      import('hyparquet/src/schema.js'),
    ])
    return { hyparquet, column, datapage, convert, plain, schema }
  })()
  return decoders
}

/** One decoded data page of a column chunk. */
export interface ColumnPage {
  /** The non-null values, in order (a typed array for numeric types). */
  values: DecodedArray
  /** Definition levels, one per value slot; empty when the column has no optional level. */
  definitionLevels: readonly number[]
  /** Repetition levels, one per value slot; empty for a flat column. */
  repetitionLevels: readonly number[]
}

/** A column's place in the schema: its maximum definition and repetition levels. */
export interface ColumnLevels {
  maxDefinition: number
  maxRepetition: number
}

/** How {@link columnPages} reads a column chunk. */
export interface ColumnReadOptions {
  /**
   * Bytes of the chunk fetched per ranged read (default {@link DEFAULT_WINDOW_BYTES}). A page larger
   * than the window is fetched whole, on its own: memory is bounded by the window and the largest
   * page, not by the size of the row group.
   */
  windowBytes?: number
}

/**
 * Bytes per ranged read of a column chunk: 4 MiB holds several of the 1 MiB pages that parquet-mr
 * (Spark) and hyparquet-writer write by default, so a 128 MB chunk takes ~32 reads.
 */
export const DEFAULT_WINDOW_BYTES = 4 * 1024 * 1024

/** The chunk of column `name` (a top-level column) in row group `group`. */
function columnChunk(metadata: FileMetaData, group: number, name: string) {
  const meta = metadata.row_groups[group]?.columns.find(
    (c) => c.meta_data?.path_in_schema[0] === name,
  )?.meta_data
  if (!meta) throw new Error(`parquet column not found: ${name}`)
  return meta
}

/** The maximum definition and repetition levels of column `name` (a top-level column). */
export function columnLevels(
  parquet: ParquetDecoders,
  metadata: FileMetaData,
  group: number,
  name: string,
): ColumnLevels & { schemaPath: SchemaTree[] } {
  const tree: SchemaTree = parquet.hyparquet.parquetSchema(metadata)
  const schemaPath = parquet.schema.getTreePath(tree, columnChunk(metadata, group, name).path_in_schema)
  return {
    maxDefinition: parquet.schema.getMaxDefinitionLevel(schemaPath),
    maxRepetition: parquet.schema.getMaxRepetitionLevel(schemaPath),
    schemaPath,
  }
}

/**
 * The bytes of one column chunk `[start, end)` of a file, fetched through ranged reads of about
 * `window` bytes: {@link ChunkWindow.ensure} makes the next `need` bytes after the cursor
 * available, keeping only the unread tail of the previous read.
 */
class ChunkWindow {
  /** Absolute file offset of `bytes[0]`. */
  #base: number
  bytes = new Uint8Array(0)
  /** Absolute file offset of the cursor (the next unread byte). */
  position: number

  constructor(
    readonly file: AsyncBuffer,
    start: number,
    readonly end: number,
    readonly window: number,
  ) {
    this.#base = start
    this.position = start
  }

  /** Bytes between the cursor and the end of what is fetched. */
  get available(): number {
    return this.#base + this.bytes.length - this.position
  }

  /** The fetched bytes from the cursor on. */
  view(): Uint8Array {
    return this.bytes.subarray(this.position - this.#base)
  }

  /** Makes `need` bytes after the cursor available (fewer at the chunk's end). */
  async ensure(need: number): Promise<void> {
    const have = this.available
    if (have >= need || this.position + have >= this.end) return
    const from = this.#base + this.bytes.length
    const to = Math.min(this.end, this.position + Math.max(need, this.window))
    const fetched = new Uint8Array(await this.file.slice(from, to))
    if (fetched.length !== to - from)
      throw new Error(`parquet read of bytes ${from}..${to} returned ${fetched.length} bytes`)
    if (have === 0) this.bytes = fetched
    else {
      const joined = new Uint8Array(have + fetched.length)
      joined.set(this.view())
      joined.set(fetched, have)
      this.bytes = joined
    }
    this.#base = this.position
  }
}

/** Bytes a page header is first parsed from; doubled while it does not fit (thrift headers are small). */
const HEADER_GUESS = 256

/** A page header that does not parse from this many bytes is corrupt, not truncated. */
const HEADER_LIMIT = 16 * 1024 * 1024

/**
 * Decodes the chunk of column `name` in row group `group` page by page, yielding each data page's
 * values and levels. The chunk is fetched in ranged reads of `windowBytes` (see
 * {@link ColumnReadOptions}); each page is decompressed and decoded on its own; the yielded page
 * is only valid until the next one is requested (its arrays may share the window's bytes).
 * DATA PAGE V1 and V2, dictionary pages, and every codec hyparquet decompresses without extra
 * compressors (uncompressed, snappy).
 *
 * @throws Error (hyparquet's) when the file is not valid Parquet or uses an unsupported codec.
 */
export async function* columnPages(
  parquet: ParquetDecoders,
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: number,
  name: string,
  options: ColumnReadOptions = {},
): AsyncGenerator<ColumnPage, void, undefined> {
  const meta = columnChunk(metadata, group, name)
  const { schemaPath } = columnLevels(parquet, metadata, group, name)
  const decoder = {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element: schemaPath[schemaPath.length - 1]!.element,
    schemaPath,
    codec: meta.codec,
    parsers: parquet.convert.DEFAULT_PARSERS,
  }
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset)
  const end = start + Number(meta.total_compressed_size)
  if (end > file.byteLength) throw new Error(`parquet column ${name} runs past the end of the file`)
  const windowBytes = Math.max(HEADER_GUESS, options.windowBytes ?? DEFAULT_WINDOW_BYTES)
  const chunkBytes = new ChunkWindow(file, start, end, windowBytes)
  let dictionary: DecodedArray | undefined
  while (chunkBytes.position < end - 1) {
    // The header: parsed from what is fetched, again with more bytes when it does not fit.
    let header: ReturnType<ColumnModule['parquetHeader']> | undefined
    for (let need = HEADER_GUESS; header === undefined; need *= 2) {
      await chunkBytes.ensure(need)
      const bytes = chunkBytes.view()
      const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 }
      try {
        header = parquet.column.parquetHeader(reader)
        chunkBytes.position += reader.offset
      } catch (cause) {
        if (chunkBytes.position + bytes.length >= end || need >= HEADER_LIMIT) throw cause
      }
    }
    const size = header.compressed_page_size
    await chunkBytes.ensure(size)
    const compressed = chunkBytes.view().subarray(0, size)
    if (compressed.length !== size) throw new Error(`parquet page of column ${name} is truncated`)
    chunkBytes.position += size
    if (header.type === 'DICTIONARY_PAGE') {
      const page = parquet.datapage.decompressPage(
        compressed,
        header.uncompressed_page_size,
        decoder.codec,
        undefined,
      )
      const dict = parquet.plain.readPlain(
        { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 },
        decoder.type,
        header.dictionary_page_header!.num_values,
        decoder.element.type_length,
      )
      dictionary = parquet.convert.convert(dict, decoder)
    } else if (header.type === 'DATA_PAGE') {
      const daph = header.data_page_header!
      const page = parquet.datapage.decompressPage(
        compressed,
        header.uncompressed_page_size,
        decoder.codec,
        undefined,
      )
      const data = parquet.datapage.readDataPage(page, daph, decoder)
      yield {
        values: parquet.convert.convertWithDictionary(data.dataPage, dictionary, daph.encoding, decoder),
        definitionLevels: data.definitionLevels ?? [],
        repetitionLevels: data.repetitionLevels ?? [],
      }
    } else if (header.type === 'DATA_PAGE_V2') {
      const daph = header.data_page_header_v2!
      const data = parquet.datapage.readDataPageV2(compressed, header, decoder)
      yield {
        values: parquet.convert.convertWithDictionary(data.dataPage, dictionary, daph.encoding, decoder),
        definitionLevels: data.definitionLevels ?? [],
        repetitionLevels: data.repetitionLevels ?? [],
      }
    }
    // INDEX_PAGE: nothing to read.
  }
}

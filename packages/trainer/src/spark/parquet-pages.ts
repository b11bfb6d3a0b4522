/**
 * Page-at-a-time decoding of one Parquet column chunk with hyparquet's page decoders, handing each
 * page's values and levels to the caller instead of assembling rows. The Spark import uses it to
 * write `features: array<float>` straight into a preallocated `Float32Array` (no per-row JS arrays,
 * which is where `parquetReadObjects` spends its time and memory) and the interactions straight into
 * typed arrays. Memory: one column chunk's compressed bytes plus one decompressed page.
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

/**
 * Decodes the chunk of column `name` in row group `group`, page by page, calling `onPage` for each
 * data page. Returns the column's maximum levels (for reading the pages' levels).
 *
 * @throws Error (hyparquet's) when the file is not valid Parquet or uses an unsupported codec.
 */
export async function readColumnPages(
  parquet: ParquetDecoders,
  file: AsyncBuffer,
  metadata: FileMetaData,
  group: number,
  name: string,
  onPage: (page: ColumnPage, levels: ColumnLevels) => void,
): Promise<ColumnLevels> {
  const rowGroup = metadata.row_groups[group]
  const chunk = rowGroup?.columns.find((c) => c.meta_data?.path_in_schema[0] === name)
  const meta = chunk?.meta_data
  if (!meta) throw new Error(`parquet column not found: ${name}`)
  const tree: SchemaTree = parquet.hyparquet.parquetSchema(metadata)
  const schemaPath = parquet.schema.getTreePath(tree, meta.path_in_schema)
  const levels: ColumnLevels = {
    maxDefinition: parquet.schema.getMaxDefinitionLevel(schemaPath),
    maxRepetition: parquet.schema.getMaxRepetitionLevel(schemaPath),
  }
  const decoder = {
    pathInSchema: meta.path_in_schema,
    type: meta.type,
    element: schemaPath[schemaPath.length - 1]!.element,
    schemaPath,
    codec: meta.codec,
    parsers: parquet.convert.DEFAULT_PARSERS,
  }
  const start = Number(meta.dictionary_page_offset || meta.data_page_offset)
  const bytes = await file.slice(start, start + Number(meta.total_compressed_size))
  const reader = { view: new DataView(bytes), offset: 0 }
  let dictionary: DecodedArray | undefined
  while (reader.offset < reader.view.byteLength - 1) {
    const header = parquet.column.parquetHeader(reader)
    const compressed = new Uint8Array(bytes, reader.offset, header.compressed_page_size)
    reader.offset += header.compressed_page_size
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
      onPage(
        {
          values: parquet.convert.convertWithDictionary(data.dataPage, dictionary, daph.encoding, decoder),
          definitionLevels: data.definitionLevels ?? [],
          repetitionLevels: data.repetitionLevels ?? [],
        },
        levels,
      )
    } else if (header.type === 'DATA_PAGE_V2') {
      const daph = header.data_page_header_v2!
      const data = parquet.datapage.readDataPageV2(compressed, header, decoder)
      onPage(
        {
          values: parquet.convert.convertWithDictionary(data.dataPage, dictionary, daph.encoding, decoder),
          definitionLevels: data.definitionLevels ?? [],
          repetitionLevels: data.repetitionLevels ?? [],
        },
        levels,
      )
    }
    // INDEX_PAGE: nothing to read.
  }
  return levels
}

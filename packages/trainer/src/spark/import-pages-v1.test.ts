/**
 * The page-at-a-time Spark import on DATA PAGE V1 files, the page format Spark (parquet-mr) writes
 * by default: levels RLE-encoded behind a 4-byte length, the whole page compressed. hyparquet-writer
 * (the other fixtures) only writes DATA PAGE V2, so these files come from arrow-rs's writer
 * (parquet-wasm, `WriterVersion.V1`), in Spark's nullable layout: `id` required INT32,
 * `features` optional LIST of optional FLOAT, interactions as optional columns. Each file's page
 * headers are read back to prove it really holds v1 pages, several of them, in several row groups.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage, type Storage } from '@edgerec/adapters'
import { mulberry32 } from '@edgerec/core'
import {
  type Data,
  Field,
  Float32,
  Int32,
  List,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow'
import { parquetMetadata } from 'hyparquet'
import { parquetHeader } from 'hyparquet/src/column.js'
import * as parquetWasm from 'parquet-wasm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { importSparkFactors, readFactorTable } from './import.js'
import { importSparkFactorsObjects } from './import-objects.test-helpers.js'
import { largestPageAndChunk, type Read, recordingStorage } from './parquet-reads.test-helpers.js'
import { sparkModelMetadata } from './spark-schema.js'

type Codec = 'UNCOMPRESSED' | 'SNAPPY'

/** Row group and page sizes small enough that a small table spans several of each. */
const layout = { rowGroupRows: 60, pageBytes: 64, batchRows: 16 }

/** Writes `columns` (Arrow data of one length) as Parquet with DATA PAGE V1 pages. */
function writeV1(fields: Field[], columns: Data[], codec: Codec, dictionary: boolean): Uint8Array {
  const schema = new Schema(fields)
  const length = columns[0]!.length
  const batch = new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }),
  )
  const props = new parquetWasm.WriterPropertiesBuilder()
    .setWriterVersion(parquetWasm.WriterVersion.V1)
    .setCompression(parquetWasm.Compression[codec])
    .setDictionaryEnabled(dictionary)
    .setMaxRowGroupSize(layout.rowGroupRows)
    .setDataPageSizeLimit(layout.pageBytes)
    .setWriteBatchSize(layout.batchRows)
    .build()
  return parquetWasm.writeParquet(
    parquetWasm.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream')),
    props,
  )
}

/** A factor table in Spark's schema; a `null` row is a null list, a `null` element a null float. */
function factorTableV1(
  ids: readonly number[],
  rows: readonly ((number | null)[] | null)[],
  codec: Codec,
  dictionary = false,
): Uint8Array {
  const list = new List(new Field('element', new Float32(), true))
  return writeV1(
    [new Field('id', new Int32(), false), new Field('features', list, true)],
    [vectorFromArray(ids, new Int32()).data[0]!, vectorFromArray(rows, list).data[0]!],
    codec,
    dictionary,
  )
}

/** Interactions `user: int, item: int, rating: float`, nullable as a Spark DataFrame writes them. */
function interactionsV1(
  u: (number | null)[],
  i: number[],
  r: number[],
  codec: Codec,
  dictionary: boolean,
): Uint8Array {
  return writeV1(
    [
      new Field('user', new Int32(), true),
      new Field('item', new Int32(), true),
      new Field('rating', new Float32(), true),
    ],
    [
      vectorFromArray(u, new Int32()).data[0]!,
      vectorFromArray(i, new Int32()).data[0]!,
      vectorFromArray(r, new Float32()).data[0]!,
    ],
    codec,
    dictionary,
  )
}

/** Every column chunk's codec and page types, from the file's own footer and page headers. */
function pagesOf(bytes: Uint8Array): {
  rowGroups: number
  chunks: { codec: string; pages: string[]; encodings: string[] }[]
} {
  const buffer = bytes.slice().buffer as ArrayBuffer
  const metadata = parquetMetadata(buffer)
  const chunks: { codec: string; pages: string[]; encodings: string[] }[] = []
  for (const group of metadata.row_groups)
    for (const column of group.columns) {
      const meta = column.meta_data!
      const start = Number(meta.dictionary_page_offset || meta.data_page_offset)
      const reader = {
        view: new DataView(buffer, start, Number(meta.total_compressed_size)),
        offset: 0,
      }
      const pages: string[] = []
      const encodings: string[] = []
      while (reader.offset < reader.view.byteLength) {
        const header = parquetHeader(reader)
        pages.push(header.type)
        if (header.data_page_header) encodings.push(header.data_page_header.encoding)
        reader.offset += header.compressed_page_size
      }
      chunks.push({ codec: meta.codec, pages, encodings })
    }
  return { rowGroups: metadata.row_groups.length, chunks }
}

/** Asserts the file holds only v1 data pages (never v2), compressed with `codec`. */
function expectV1(bytes: Uint8Array, codec: Codec): { rowGroups: number; mostPagesInAChunk: number } {
  const { rowGroups, chunks } = pagesOf(bytes)
  const pages = chunks.flatMap((c) => c.pages)
  expect(pages).not.toContain('DATA_PAGE_V2')
  expect(pages).toContain('DATA_PAGE')
  expect(new Set(chunks.map((c) => c.codec))).toEqual(new Set([codec]))
  const mostPagesInAChunk = Math.max(...chunks.map((c) => c.pages.filter((p) => p === 'DATA_PAGE').length))
  return { rowGroups, mostPagesInAChunk }
}

const rank = 6
const users = 180
const items = 420

describe.each(['UNCOMPRESSED', 'SNAPPY'] as const)('importSparkFactors (DATA PAGE V1, %s)', (codec) => {
  let dir: string
  let model: Storage
  let inputs: Storage
  let expected: { userFactors: Float32Array; itemFactors: Float32Array }
  const written: Uint8Array[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-v1-'))
    written.length = 0
    const random = mulberry32(11)
    const save = join(dir, 'model')
    for (const sub of ['metadata', 'userFactors', 'itemFactors'])
      await mkdir(join(save, sub), { recursive: true })
    await writeFile(join(save, 'metadata', 'part-00000'), sparkModelMetadata(rank))
    // Shuffled ids, every 7th left out (must stay zero), in two part files; part 1 of the item
    // table has few distinct values and dictionary encoding (dictionary page + RLE_DICTIONARY v1 pages).
    const table = async (name: string, count: number) => {
      const out = new Float32Array(count * rank)
      const ids = Array.from({ length: count }, (_, k) => k).filter((k) => k % 7 !== 3)
      for (let k = ids.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1))
        ;[ids[k], ids[j]] = [ids[j]!, ids[k]!]
      }
      const half = Math.ceil(ids.length / 2)
      for (const [p, chunk] of [ids.slice(0, half), ids.slice(half)].entries()) {
        const dictionary = name === 'itemFactors' && p === 1
        const rows = chunk.map((id) =>
          Array.from({ length: rank }, (_, f) => {
            const x = Math.fround(dictionary ? ((id + f) % 5) * 0.25 - 0.5 : random() - 0.5)
            out[id * rank + f] = x
            return x
          }),
        )
        const bytes = factorTableV1(chunk, rows, codec, dictionary)
        written.push(bytes)
        await writeFile(join(save, name, `part-0000${p}-c000.${codec.toLowerCase()}.parquet`), bytes)
      }
      return out
    }
    expected = {
      userFactors: await table('userFactors', users),
      itemFactors: await table('itemFactors', items),
    }
    const u: number[] = []
    const i: number[] = []
    const r: number[] = []
    for (let user = 0; user < users; user++)
      for (let k = 0; k < 1 + (user % 5); k++) {
        u.push(user)
        i.push(Math.floor(random() * items))
        r.push(1 + Math.floor(random() * 4) * 0.5)
      }
    inputs = await createStorage({ provider: 'local', root: join(dir, 'inputs') })
    const trainedUntil = Date.UTC(2026, 11, 1)
    await inputs.put(
      'users.json',
      new TextEncoder().encode(JSON.stringify(Array.from({ length: users }, (_, k) => `u${k}`))),
    )
    await inputs.put(
      'items.json',
      new TextEncoder().encode(JSON.stringify(Array.from({ length: items }, (_, k) => `i${k}`))),
    )
    await inputs.put(
      'params.json',
      new TextEncoder().encode(
        JSON.stringify({ als: { factors: rank, alpha: 2 }, trainedUntil, eventWeights: {} }),
      ),
    )
    const third = Math.ceil(u.length / 3)
    for (let p = 0; p < 3; p++) {
      const s = p * third
      // Part 0 plain, the others dictionary-encoded (as parquet-mr does for low-cardinality columns).
      const bytes = interactionsV1(
        u.slice(s, s + third),
        i.slice(s, s + third),
        r.slice(s, s + third),
        codec,
        p > 0,
      )
      written.push(bytes)
      await inputs.put(`interactions/part-0000${p}-c000.${codec.toLowerCase()}.parquet`, bytes)
    }
    model = await createStorage({ provider: 'local', root: save })
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should read v1 files exactly as hyparquet parquetReadObjects does, and as written', async () => {
    // The fixture is what the test claims: only v1 pages, this codec, several row groups and pages.
    const shapes = written.map((bytes) => expectV1(bytes, codec))
    expect(shapes.every((s) => s.rowGroups > 1)).toBe(true)
    // Several pages in a chunk: all four factor files and the plain interactions part (arrow-rs puts
    // a dictionary-encoded interactions row group in one page).
    expect(shapes.filter((s) => s.mostPagesInAChunk > 1).length).toBeGreaterThanOrEqual(5)
    expect(written.flatMap((b) => pagesOf(b).chunks.flatMap((c) => c.pages))).toContain('DICTIONARY_PAGE')
    // arrow-rs tags v1 dictionary data pages RLE_DICTIONARY (parquet-mr: PLAIN_DICTIONARY, same bytes).
    expect(written.flatMap((b) => pagesOf(b).chunks.flatMap((c) => c.encodings))).toContain('RLE_DICTIONARY')

    const fresh = await importSparkFactors({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
    })
    const old = await importSparkFactorsObjects({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
      interactions: { storage: inputs, key: 'interactions/' },
    })
    expect(fresh.model.userFactors).toEqual(old.model.userFactors)
    expect(fresh.model.itemFactors).toEqual(old.model.itemFactors)
    expect(fresh.model.userFactors).toEqual(expected.userFactors)
    expect(fresh.model.itemFactors).toEqual(expected.itemFactors)
    expect(Array.from(fresh.model.itemFactors.subarray(3 * rank, 4 * rank))).toEqual(new Array(rank).fill(0))
    expect(fresh.data.matrix).toEqual(old.data.matrix)
    expect(fresh.data.matrix.indices.length).toBeGreaterThan(users)
  })

  it('should stream v1 chunks in window-sized reads, page by page, with the same result', async () => {
    const window = 256
    const reads: Read[] = []
    const streamed = await importSparkFactors({
      factors: { storage: recordingStorage(model, reads), key: '' },
      idMaps: { storage: recordingStorage(inputs, reads), key: '' },
      read: { windowBytes: window },
    })
    expect(streamed.model.userFactors).toEqual(expected.userFactors)
    expect(streamed.model.itemFactors).toEqual(expected.itemFactors)
    const whole = await importSparkFactors({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
    })
    expect(streamed.data.matrix).toEqual(whole.data.matrix)
    // Chunks longer than the window, pages shorter: every read after a file's footer fits the window.
    const sizes = written.map(largestPageAndChunk)
    expect(Math.max(...sizes.map((s) => s.chunk))).toBeGreaterThan(window)
    expect(Math.max(...sizes.map((s) => s.page))).toBeLessThanOrEqual(window)
    const footers = new Set<string>()
    const pageReads = reads.filter((r) => footers.has(r.key) || !footers.add(r.key))
    expect(pageReads.length).toBeGreaterThan(written.length * 4)
    expect(Math.max(...pageReads.map((r) => r.bytes))).toBeLessThanOrEqual(window)
  })

  it('should name the row when a v1 features list is null or holds a null element', async () => {
    const full = new Array<number>(rank).fill(0.5)
    const withNullElement = [...full.slice(1), null]
    for (const [row, what] of [
      [null, 'no'],
      [withNullElement, String(rank - 1)],
    ] as const) {
      const bytes = factorTableV1([0, 1, 2], [full, row, full], codec)
      expectV1(bytes, codec)
      const storage = await createStorage({ provider: 'local', root: join(dir, `bad-${what}`) })
      await storage.put('t/part-00000.parquet', bytes)
      await expect(readFactorTable(storage, 't/', rank, 3, 'item')).rejects.toMatchObject({
        code: 'IMPORT_INVALID',
        message: expect.stringContaining(
          `part-00000.parquet: item 1 has ${what} features, the metadata says rank ${rank}`,
        ),
      })
    }
  })
  it('should refuse v1 interactions with a null user', async () => {
    const bytes = interactionsV1([0, null, 2], [1, 2, 3], [1, 1, 1], codec, false)
    expectV1(bytes, codec)
    await inputs.put('nulls/part-00000.parquet', bytes)
    await expect(
      importSparkFactors({
        factors: { storage: model, key: '' },
        idMaps: { storage: inputs, key: '' },
        interactions: { storage: inputs, key: 'nulls/' },
      }),
    ).rejects.toMatchObject({
      code: 'IMPORT_INVALID',
      message: expect.stringContaining('nulls/part-00000.parquet: column user has a null'),
    })
  })
})

/**
 * The Spark import streams within a column chunk: a large row group is fetched in ranged reads of
 * the window size (never the whole chunk) and decoded page by page, with the same result as the
 * whole-chunk reader; interactions out of CSR order (another writer's files) still give the matrix
 * {@link csrFromTriples} gives. DATA PAGE V1 streaming is in `import-pages-v1.test.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage, type Storage } from '@edgerec/adapters'
import { mulberry32 } from '@edgerec/core'
import { parquetMetadata } from 'hyparquet'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { csrFromTriples } from '../data/matrix.js'
import { importSparkFactors, readFactorTable } from './import.js'
import { importSparkFactorsChunks } from './import-chunks.test-helpers.js'
import { writeTestSparkInputs } from './inputs.test-helpers.js'
import { largestPageAndChunk, type Read, recordingStorage } from './parquet-reads.test-helpers.js'
import { sparkFactorTableParquet, sparkModelMetadata } from './spark-schema.js'

const rank = 8
const users = 300
const items = 5_000
const window = 8_192

describe('importSparkFactors (streaming within a column chunk)', () => {
  let dir: string
  let model: Storage
  let inputs: Storage
  let itemPart: Uint8Array
  let expected: Float32Array

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-stream-'))
    const random = mulberry32(21)
    model = await createStorage({ provider: 'local', root: join(dir, 'model') })
    await model.put('metadata/part-00000', sparkModelMetadata(rank))
    // Item factors: one part, ONE row group of every row (like Spark's 128 MB row groups), small
    // pages; ids shuffled, every 13th left out.
    const ids = Array.from({ length: items }, (_, k) => k).filter((k) => k % 13 !== 4)
    for (let k = ids.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1))
      ;[ids[k], ids[j]] = [ids[j]!, ids[k]!]
    }
    expected = new Float32Array(items * rank)
    const features = new Float32Array(ids.length * rank)
    for (const [r, id] of ids.entries())
      for (let f = 0; f < rank; f++) {
        const x = Math.fround(random() - 0.5)
        features[r * rank + f] = x
        expected[id * rank + f] = x
      }
    itemPart = sparkFactorTableParquet(Int32Array.from(ids), features, rank, {
      rowGroupRows: items,
      pageBytes: 2_048,
    })
    await model.put('itemFactors/part-00000-c000.snappy.parquet', itemPart)
    const userIds = Int32Array.from({ length: users }, (_, k) => k)
    await model.put(
      'userFactors/part-00000-c000.snappy.parquet',
      sparkFactorTableParquet(
        userIds,
        Float32Array.from({ length: users * rank }, () => random() - 0.5),
        rank,
        { rowGroupRows: users, pageBytes: 1_024 },
      ),
    )
    const u: number[] = []
    const i: number[] = []
    for (let user = 0; user < users; user++)
      for (let k = 0; k < 3 + (user % 11); k++) {
        u.push(user)
        i.push(Math.floor(random() * items))
      }
    inputs = await createStorage({ provider: 'local', root: join(dir, 'inputs') })
    await writeTestSparkInputs(inputs, {
      matrix: csrFromTriples(users, items, u, i, new Float32Array(u.length).fill(1.5)),
      rank,
      regularization: 0.1,
      trainedUntil: Date.UTC(2026, 11, 1),
      layout: { partRows: 1_500, rowGroupRows: 1_500 },
    })
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should fetch a one-row-group chunk in window-sized reads and give what the whole-chunk reader gives', async () => {
    const { page, chunk } = largestPageAndChunk(itemPart)
    // The fixture is what the test claims: one row group, a features chunk many windows long.
    expect(parquetMetadata(itemPart.slice().buffer as ArrayBuffer).row_groups).toHaveLength(1)
    expect(chunk).toBeGreaterThan(8 * window)
    expect(page).toBeLessThan(window)

    const reads: Read[] = []
    const streamed = await importSparkFactors({
      factors: { storage: recordingStorage(model, reads), key: '' },
      idMaps: { storage: recordingStorage(inputs, reads), key: '' },
      read: { windowBytes: window },
    })
    const whole = await importSparkFactorsChunks({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
      interactions: { storage: inputs, key: 'interactions/' },
    })
    expect(streamed.model.itemFactors).toEqual(expected)
    expect(streamed.model.itemFactors).toEqual(whole.model.itemFactors)
    expect(streamed.model.userFactors).toEqual(whole.model.userFactors)
    expect(streamed.data.matrix).toEqual(whole.data.matrix)

    // Column reads never exceed the window (the footer read ends at the file's end: left out).
    const itemReads = reads.filter((r) => r.key.startsWith('itemFactors/'))
    const footer = itemReads[0]!.bytes
    const pageReads = itemReads.slice(1)
    expect(footer).toBe(itemPart.byteLength)
    expect(pageReads.length).toBeGreaterThan(chunk / window)
    expect(Math.max(...pageReads.map((r) => r.bytes))).toBeLessThanOrEqual(window)
    expect(reads.some((r) => r.key.startsWith('interactions/'))).toBe(true)
  })

  it('should fetch a page larger than the window whole, on its own', async () => {
    const { page } = largestPageAndChunk(itemPart)
    const reads: Read[] = []
    const small = 512
    expect(page).toBeGreaterThan(small)
    const out = await readFactorTable(recordingStorage(model, reads), 'itemFactors/', rank, items, 'item', {
      windowBytes: small,
    })
    expect(out).toEqual(expected)
    const largest = Math.max(...reads.slice(1).map((r) => r.bytes))
    expect(largest).toBeGreaterThan(small)
    expect(largest).toBeLessThanOrEqual(page)
  })

  it.each([
    ['a user', 'users'],
    ['an item within a user (and duplicate pairs)', 'items'],
  ] as const)('should build the csrFromTriples matrix when %s comes out of CSR order', async (_, breaks) => {
    const random = mulberry32(5)
    const u: number[] = []
    const i: number[] = []
    const r: number[] = []
    const pairs = new Set<string>()
    while (u.length < 3_000) {
      const user = Math.floor(random() * users)
      const item = Math.floor(random() * 40)
      // Users break the order: distinct pairs, so only the user order can switch paths.
      if (breaks === 'users' && pairs.has(`${user} ${item}`)) continue
      pairs.add(`${user} ${item}`)
      u.push(user)
      i.push(item)
      r.push(0.5 + Math.floor(random() * 4))
    }
    const byPair = (a: number, b: number) => u[a]! - u[b]! || i[a]! - i[b]! || a - b
    const byUser = (a: number, b: number) => u[a]! - u[b]! || a - b
    const order = u.map((_, k) => k).sort(breaks === 'users' ? byPair : byUser)
    // In order first (the CSR path starts), then the order breaks in a later row group.
    const rows = breaks === 'users' ? [...order.slice(0, 2_000), ...order.slice(2_000).reverse()] : order
    const column = (values: number[]) => rows.map((k) => values[k]!)
    await inputs.put(
      'unsorted/part-00000.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'user', data: Int32Array.from(column(u)), type: 'INT32', nullable: false },
            { name: 'item', data: Int32Array.from(column(i)), type: 'INT32', nullable: false },
            { name: 'rating', data: Float32Array.from(column(r)), type: 'FLOAT', nullable: false },
          ],
          rowGroupSize: 700,
        }),
      ),
    )
    const distinct = new Set(rows.map((k) => `${u[k]} ${i[k]}`)).size
    expect(distinct < rows.length).toBe(breaks === 'items')
    const imported = await importSparkFactors({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
      interactions: { storage: inputs, key: 'unsorted/' },
      read: { windowBytes: 1_024 },
    })
    expect(imported.data.matrix).toEqual(csrFromTriples(users, items, column(u), column(i), column(r)))
  })

  it('should build indptr from interactions in CSR order with empty rows between users', async () => {
    // Users 0 and 7 only: rows 1–6 and 8… are empty.
    await inputs.put(
      'sparse/part-00000.parquet',
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'user', data: Int32Array.from([0, 0, 7, 7, 7]), type: 'INT32', nullable: false },
            { name: 'item', data: Int32Array.from([3, 9, 1, 2, 4_999]), type: 'INT32', nullable: false },
            { name: 'rating', data: Float32Array.from([1, 2, 3, 4, 5]), type: 'FLOAT', nullable: false },
          ],
          rowGroupSize: 2,
        }),
      ),
    )
    const { matrix } = (
      await importSparkFactors({
        factors: { storage: model, key: '' },
        idMaps: { storage: inputs, key: '' },
        interactions: { storage: inputs, key: 'sparse/' },
      })
    ).data
    expect(matrix).toEqual(
      csrFromTriples(users, items, [0, 0, 7, 7, 7], [3, 9, 1, 2, 4_999], [1, 2, 3, 4, 5]),
    )
    expect(Array.from(matrix.indptr.subarray(0, 10))).toEqual([0, 2, 2, 2, 2, 2, 2, 2, 5, 5])
    expect(matrix.indptr[users]).toBe(5)
  })
})

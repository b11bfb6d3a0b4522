/**
 * The page-at-a-time Spark import against the object reader it replaced, on a save laid out like a
 * real one: several part files per table, several row groups and pages per file, plain and
 * dictionary-encoded features (exactly Spark's schema, written with hyparquet-writer), and
 * interactions in several part files and row groups.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage, type Storage } from '@edgerec/adapters'
import { mulberry32 } from '@edgerec/core'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { csrFromTriples } from '../data/matrix.js'
import { importSparkFactors, readFactorTable } from './import.js'
import { importSparkFactorsObjects } from './import-objects.test-helpers.js'
import { writeTestSparkInputs } from './inputs.test-helpers.js'
import { sparkFactorTableParquet, sparkModelMetadata } from './spark-schema.js'

const rank = 8
const users = 700
const items = 2_500

describe('importSparkFactors (page reader)', () => {
  let dir: string
  let model: Storage
  let inputs: Storage

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-pages-'))
    const random = mulberry32(7)
    const save = join(dir, 'model')
    for (const sub of ['metadata', 'userFactors', 'itemFactors'])
      await mkdir(join(save, sub), { recursive: true })
    await writeFile(join(save, 'metadata', 'part-00000'), sparkModelMetadata(rank))
    // Shuffled ids, some left out (they must stay zero), split over three part files.
    const write = async (table: string, count: number, parts: number, distinct: boolean) => {
      const ids = Array.from({ length: count }, (_, k) => k).filter((k) => k % 11 !== 5)
      for (let k = ids.length - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1))
        ;[ids[k], ids[j]] = [ids[j]!, ids[k]!]
      }
      const per = Math.ceil(ids.length / parts)
      for (let p = 0; p < parts; p++) {
        const chunk = Int32Array.from(ids.slice(p * per, (p + 1) * per))
        const features = new Float32Array(chunk.length * rank)
        // Part 1 has few distinct values (dictionary pages), the others unique ones (plain pages).
        for (let k = 0; k < features.length; k++)
          features[k] = p === 1 && !distinct ? (k % 5) * 0.25 - 0.5 : random() - 0.5
        await writeFile(
          join(save, table, `part-${String(p).padStart(5, '0')}-x.snappy.parquet`),
          sparkFactorTableParquet(chunk, features, rank, { rowGroupRows: 97, pageBytes: 512 }),
        )
      }
    }
    await write('userFactors', users, 2, true)
    await write('itemFactors', items, 3, false)
    const u: number[] = []
    const i: number[] = []
    const r: number[] = []
    for (let user = 0; user < users; user++)
      for (let k = 0; k < 1 + (user % 9); k++) {
        u.push(user)
        i.push(Math.floor(random() * items))
        r.push(1 + Math.floor(random() * 4) * 0.5)
      }
    inputs = await createStorage({ provider: 'local', root: join(dir, 'inputs') })
    await writeTestSparkInputs(inputs, {
      matrix: csrFromTriples(users, items, u, i, r),
      rank,
      regularization: 0.05,
      trainedUntil: Date.UTC(2026, 11, 1),
      layout: { partRows: 1_000, rowGroupRows: 150 },
    })
    model = await createStorage({ provider: 'local', root: save })
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should give exactly what the object reader gave on multi-file, multi-row-group input', async () => {
    const fresh = await importSparkFactors({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
    })
    const old = await importSparkFactorsObjects({
      factors: { storage: model, key: '' },
      idMaps: { storage: inputs, key: '' },
      interactions: { storage: inputs, key: 'interactions/' },
    })
    // The fixture really has what the test claims: several parts, row groups and pages.
    const { parquetMetadataAsync } = await import('hyparquet')
    const part = await model.get('itemFactors/part-00000-x.snappy.parquet')
    const meta = await parquetMetadataAsync(part!.slice().buffer as ArrayBuffer)
    expect(meta.row_groups.length).toBeGreaterThan(3)
    expect((await inputs.list('interactions/')).objects.length).toBeGreaterThan(2)
    expect(fresh.data.matrix.indices.length).toBeGreaterThan(1_000)

    expect(fresh.model.factors).toBe(rank)
    expect(fresh.model.userFactors).toEqual(old.model.userFactors)
    expect(fresh.model.itemFactors).toEqual(old.model.itemFactors)
    expect(Array.from(fresh.model.itemFactors.subarray(5 * rank, 6 * rank))).toEqual(new Array(rank).fill(0))
    expect(fresh.model.itemFactors.some((x) => x !== 0)).toBe(true)
    expect(fresh.data.matrix).toEqual(old.data.matrix)
    expect(fresh.data.userIds).toEqual(old.data.userIds)
    expect(fresh.data.trainedUntil).toBe(old.data.trainedUntil)
  })

  it('should name the row when a features list is null', async () => {
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from([0, 1]) },
        { name: 'features', data: [new Array(rank).fill(0.5), null] },
      ],
      schema: [
        { name: 'spark_schema', num_children: 2 },
        { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
      ],
    })
    const storage = await createStorage({ provider: 'local', root: join(dir, 'bad') })
    await storage.put('t/part-00000.parquet', new Uint8Array(bytes))
    await expect(readFactorTable(storage, 't/', rank, 2, 'item')).rejects.toMatchObject({
      code: 'IMPORT_INVALID',
      message: expect.stringMatching(/part-00000\.parquet: item 1 has no features, the metadata says rank 8/),
    })
  })

  it('should say a file that is not Parquet is not Parquet', async () => {
    const storage = await createStorage({ provider: 'local', root: join(dir, 'bad') })
    await storage.put('t/part-00000.parquet', new TextEncoder().encode('id,features\n1,2\n'))
    await expect(readFactorTable(storage, 't/', rank, 2, 'item')).rejects.toMatchObject({
      code: 'IMPORT_INVALID',
      message: expect.stringContaining('is not Parquet with columns id: int, features: array<float>'),
    })
  })
})

/**
 * The Spark job's inputs as bounded Parquet part files: part and row-group sizes, exact read-back
 * with hyparquet against the in-memory pairs, at most one upload in flight (so at most two parts
 * in memory), through a real storage (local disk).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage, type PutOptions, type Storage } from '@edgerec/adapters'
import { mulberry32 } from '@edgerec/core'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type CsrMatrix, csrFromTriples } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { interactionsParquet, writeInteractionParts, writeSparkInputs } from './inputs.js'

/** A matrix of ~`pairs` stored values with empty rows and rows longer than a part. */
function matrix(pairs: number, users: number, items: number): CsrMatrix {
  const random = mulberry32(5)
  const u = new Int32Array(pairs)
  const i = new Int32Array(pairs)
  const v = new Float32Array(pairs)
  for (let k = 0; k < pairs; k++) {
    // Every third user has no pairs; user 1 has many (longer than a part below).
    u[k] = k % 10 === 0 ? 1 : 3 * Math.floor(random() * (users / 3)) + 2
    i[k] = Math.floor(random() * items)
    v[k] = Math.round(random() * 64) / 8
  }
  return csrFromTriples(users, items, u, i, v)
}

/** The stored values of `m` as [user, item, rating] rows, in CSR order. */
function triples(m: CsrMatrix): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  for (let user = 0; user < m.rows; user++)
    for (let k = m.indptr[user]!; k < m.indptr[user + 1]!; k++) out.push([user, m.indices[k]!, m.values[k]!])
  return out
}

/** A storage that records how many puts are in flight at once and the largest body. */
class WatchedStorage implements Storage {
  readonly provider: string
  maxInFlight = 0
  largest = 0
  readonly puts: string[] = []
  #inFlight = 0
  readonly #inner: Storage
  constructor(inner: Storage) {
    this.#inner = inner
    this.provider = inner.provider
  }
  async put(key: string, body: Uint8Array | ReadableStream<Uint8Array>, options?: PutOptions) {
    this.#inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight)
    if (body instanceof Uint8Array) this.largest = Math.max(this.largest, body.byteLength)
    this.puts.push(key)
    try {
      // Let the writer run on (encode the next part) while this upload is pending.
      await new Promise((resolve) => setTimeout(resolve, 5))
      return await this.#inner.put(key, body, options)
    } finally {
      this.#inFlight--
    }
  }
  get: Storage['get'] = (key) => this.#inner.get(key)
  getRange: Storage['getRange'] = (key, range) => this.#inner.getRange(key, range)
  getStream: Storage['getStream'] = (key) => this.#inner.getStream(key)
  head: Storage['head'] = (key) => this.#inner.head(key)
  list: Storage['list'] = (prefix, options) => this.#inner.list(prefix, options)
  delete: Storage['delete'] = (key) => this.#inner.delete(key)
}

const read = async (storage: Storage, key: string) => {
  const bytes = (await storage.get(key))!
  const file = bytes.slice().buffer as ArrayBuffer
  return { metadata: parquetMetadata(file), rows: await parquetReadObjects({ file }) }
}

describe('writeInteractionParts', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-inputs-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should cut 250,000 pairs into parts of at most partRows rows and row groups of at most rowGroupRows', async () => {
    const m = matrix(260_000, 3_000, 5_000)
    const total = m.indptr[m.rows]!
    expect(total).toBeGreaterThan(200_000)
    const storage = new WatchedStorage(await createStorage({ provider: 'local', root: dir }))
    const keys = await writeInteractionParts(storage, 'input/interactions/', m, {
      partRows: 40_000,
      rowGroupRows: 15_000,
    })
    expect(keys).toHaveLength(Math.ceil(total / 40_000))
    expect(keys[0]).toBe('input/interactions/part-00000.parquet')
    expect(keys.at(-1)).toBe(`input/interactions/part-${String(keys.length - 1).padStart(5, '0')}.parquet`)
    // One upload at a time: the part being encoded plus the one uploading are all that is held.
    expect(storage.maxInFlight).toBe(1)
    expect(storage.puts).toEqual(keys)

    const back: Array<[number, number, number]> = []
    for (const [p, key] of keys.entries()) {
      const { metadata, rows } = await read(storage, key)
      const expected = p < keys.length - 1 ? 40_000 : total - 40_000 * (keys.length - 1)
      expect(Number(metadata.num_rows)).toBe(expected)
      expect(rows).toHaveLength(expected)
      expect(metadata.row_groups.length).toBe(Math.ceil(expected / 15_000))
      for (const group of metadata.row_groups) expect(Number(group.num_rows)).toBeLessThanOrEqual(15_000)
      expect(metadata.schema.map((s) => [s.name, s.type, s.repetition_type])).toEqual([
        ['root', undefined, undefined],
        ['user', 'INT32', 'REQUIRED'],
        ['item', 'INT32', 'REQUIRED'],
        ['rating', 'FLOAT', 'REQUIRED'],
      ])
      for (const row of rows) back.push([row.user as number, row.item as number, row.rating as number])
    }
    // Parts are contiguous slices in CSR order; a user's row may span two parts.
    expect(back).toEqual(triples(m))
    // Every part is bounded: 40,000 rows of 12 bytes before encoding.
    expect(storage.largest).toBeLessThan(40_000 * 12 + 64 * 1024)
  })

  it('should write one empty part for a matrix with no pairs, so Spark finds a table', async () => {
    const storage = await createStorage({ provider: 'local', root: dir })
    const keys = await writeInteractionParts(storage, 'x/', csrFromTriples(2, 2, [], [], []))
    expect(keys).toEqual(['x/part-00000.parquet'])
    const { metadata, rows } = await read(storage, keys[0]!)
    expect(Number(metadata.num_rows)).toBe(0)
    expect(rows).toEqual([])
  })

  it('should write exactly full parts when the pairs divide evenly', async () => {
    const m = csrFromTriples(4, 4, [0, 0, 1, 3, 3, 3], [0, 1, 2, 0, 1, 3], [1, 2, 3, 4, 5, 6])
    const storage = await createStorage({ provider: 'local', root: dir })
    const keys = await writeInteractionParts(storage, '', m, { partRows: 2 })
    expect(keys).toEqual(['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet'])
    const rows = []
    for (const key of keys) rows.push(...(await read(storage, key)).rows)
    expect(rows).toEqual([
      { user: 0, item: 0, rating: 1 },
      { user: 0, item: 1, rating: 2 },
      { user: 1, item: 2, rating: 3 },
      { user: 3, item: 0, rating: 4 },
      { user: 3, item: 1, rating: 5 },
      { user: 3, item: 3, rating: 6 },
    ])
  })

  it('should refuse a part size that is not a positive integer', async () => {
    const storage = await createStorage({ provider: 'local', root: dir })
    const error = await writeInteractionParts(storage, '', csrFromTriples(1, 1, [0], [0], [1]), {
      partRows: 0,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TrainerError)
    expect(error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('partRows') })
  })
})

describe('writeSparkInputs', () => {
  it('should write the interactions and train directories, id maps and params', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-inputs-'))
    try {
      const storage = await createStorage({ provider: 'local', root: dir })
      const all = csrFromTriples(2, 3, [0, 0, 1], [0, 2, 1], [1, 2, 3])
      const train = csrFromTriples(2, 3, [0, 1], [0, 1], [1, 3])
      const keys = await writeSparkInputs(
        storage,
        'run/input/',
        { matrix: all, userIds: ['a', 'b'], itemIds: ['x', 'y', 'z'], trainedUntil: 5 },
        {
          als: {
            factors: 4,
            regularization: 0.1,
            alpha: 2,
            iterations: 3,
            cgSteps: 3,
            solver: 'cg',
            seed: 1,
          },
          eventWeights: { view: 1 },
          trainedUntil: 5,
        },
        train,
        { partRows: 2 },
      )
      expect(keys).toEqual({
        interactions: 'run/input/interactions/',
        interactionParts: [
          'run/input/interactions/part-00000.parquet',
          'run/input/interactions/part-00001.parquet',
        ],
        train: 'run/input/train/',
        trainParts: ['run/input/train/part-00000.parquet'],
        users: 'run/input/users.json',
        items: 'run/input/items.json',
        params: 'run/input/params.json',
      })
      expect((await read(storage, keys.trainParts![0]!)).rows).toEqual([
        { user: 0, item: 0, rating: 1 },
        { user: 1, item: 1, rating: 3 },
      ])
      expect(JSON.parse(new TextDecoder().decode(await storage.get(keys.items)))).toEqual(['x', 'y', 'z'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('should encode a middle slice of the matrix with the right users', async () => {
    const m = csrFromTriples(5, 2, [1, 1, 1, 4], [0, 1, 1, 0], [1, 2, 9, 4])
    const file = interactionsParquet(m, 1, 3)
    expect(await parquetReadObjects({ file: file.slice().buffer as ArrayBuffer })).toEqual([
      { user: 1, item: 1, rating: 11 },
      { user: 4, item: 0, rating: 4 },
    ])
  })
})

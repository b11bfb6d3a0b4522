import {
  blockFromQuantized,
  type CandidateLists,
  type CatalogShard,
  CatalogTable,
  catalogLayoutOf,
  catalogShardRefs,
  checkPartitionList,
  checkShard,
  chooseNprobe,
  DEFAULT_CANDIDATES_PER_USER,
  DEFAULT_MAX_SHARD_BYTES,
  decodeCatalogColumns,
  decodeShard,
  type GramShard,
  type Int8Vector,
  type ItemShard,
  manifestKey,
  type PartitionRows,
  type PartitionsShard,
  type PopularityShard,
  quantizeRows,
  recommendTopK,
  recommendTopKProbed,
  sha256Hex,
  type UserShard,
  userBucket,
  validateManifest,
} from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { type AlsModel, trainAls } from '../als/index.js'
import type { InteractionMatrix } from '../data/matrix.js'
import { generateEvents } from '../generate/index.js'
import { itemCounts, trendingScores } from '../popularity/index.js'
import { InteractionAccumulator } from '../weighting/index.js'
import { CANDIDATE_NPROBE_FACTOR } from './candidates.js'
import { type ExportInput, exportModel } from './export.js'
import { MemoryStorage } from './memory-storage.js'
import { planPartitions } from './partitions.js'

const als = {
  factors: 8,
  regularization: 0.05,
  alpha: 2,
  iterations: 3,
  cgSteps: 3,
  solver: 'cg' as const,
  seed: 7,
}
let data: InteractionMatrix
let model: AlsModel
let input: ExportInput
let eventWeights: Record<string, number>

beforeAll(async () => {
  const acc = new InteractionAccumulator()
  acc.add([...generateEvents({ events: 20_000, seed: 3 })].map((e) => ({ ...e, value: undefined })))
  const built = acc.build()
  data = built.data
  eventWeights = built.stats.eventWeights
  model = await trainAls(data.matrix, { ...als, threads: 1 })
  input = {
    model,
    data,
    als,
    eventWeights,
    popularity: itemCounts(data.matrix),
    trending: trendingScores(data.matrix, { halfLifeDays: 7, now: data.trainedUntil }),
    evaluation: {
      k: 10,
      split: 'temporal',
      testFraction: 0.2,
      users: 5,
      models: { als: { precision: 0.1, recall: 0.1, map: 0.1, ndcg: 0.1, auc: 0.5, coverage: 0.2 } },
    },
  }
})

describe('exportModel', () => {
  it('should write shards that decode, match their checksums, and a valid manifest last', async () => {
    const storage = new MemoryStorage()
    const order: string[] = []
    const put = storage.put.bind(storage)
    storage.put = async (key, body, options) => {
      order.push(key)
      return put(key, body, options)
    }
    // Small shards and buckets so the split paths run.
    const result = await exportModel(input, {
      storage,
      version: 'test-v1',
      maxShardBytes: 8 * 1024,
      targetUserShardBytes: 4 * 1024,
    })
    expect(order.at(-1)).toBe(manifestKey('test-v1'))
    const manifest = JSON.parse(new TextDecoder().decode(storage.objects.get(manifestKey('test-v1'))!))
    const checked = validateManifest(manifest)
    expect(checked.ok).toBe(true)
    expect(manifest.counts).toEqual({
      users: data.userIds.length,
      items: data.itemIds.length,
      interactions: data.matrix.indices.length,
    })
    expect(manifest.als.alpha).toBe(2)
    expect(manifest.eventWeights.purchase).toBe(8)
    expect(manifest.trainedUntil).toBe(data.trainedUntil)
    expect(manifest.evaluation.models.als.ndcg).toBe(0.1)
    expect(manifest.shards.items.length).toBeGreaterThan(1)
    expect(manifest.userBuckets).toBeGreaterThan(1)
    expect(result.keys).toHaveLength(storage.objects.size)

    const dims = als.factors
    // Every shard: stored bytes match the manifest size and checksum and decode.
    const refs = [
      ...manifest.shards.items,
      ...manifest.shards.users,
      manifest.shards.popularity,
      manifest.shards.trending,
      manifest.shards.gram,
    ]
    for (const ref of refs) {
      const bytes = storage.objects.get(ref.key)!
      expect(bytes.byteLength).toBe(ref.bytes)
      expect(bytes.byteLength).toBeLessThanOrEqual(8 * 1024)
      const shard = await decodeShard(bytes, {
        expectedSha256: ref.sha256,
        expectedKind: ref.kind,
        maxBytes: 8 * 1024,
      })
      expect(shard.rowCount).toBe(ref.rows)
      expect(await sha256Hex(bytes.subarray(0, bytes.byteLength - 32))).toBe(ref.sha256)
    }

    // Items tile 0..n in order with the right ids, and dequantize close to the float factors.
    const itemFactors = new Float32Array(data.itemIds.length * dims)
    for (const ref of manifest.shards.items) {
      const shard = (await decodeShard(storage.objects.get(ref.key)!)) as ItemShard
      expect(shard.rowOffset).toBe(ref.rowOffset)
      for (let r = 0; r < shard.rowCount; r++) {
        expect(shard.ids.get(r)).toBe(data.itemIds[ref.rowOffset + r])
        for (let d = 0; d < dims; d++)
          itemFactors[(ref.rowOffset + r) * dims + d] = shard.scales[r]! * shard.factors[r * dims + d]!
      }
    }
    for (let x = 0; x < itemFactors.length; x++)
      expect(Math.abs(itemFactors[x]! - model.itemFactors[x]!)).toBeLessThan(0.01)

    // Every user is found in the bucket of its hash, with its interactions as c = alpha · r.
    const buckets: UserShard[] = []
    for (const ref of manifest.shards.users)
      buckets.push((await decodeShard(storage.objects.get(ref.key)!)) as UserShard)
    let usersSeen = 0
    const m = data.matrix
    for (let u = 0; u < data.userIds.length; u += 7) {
      const id = data.userIds[u]!
      const shard = buckets[userBucket(id, manifest.userBuckets)]!
      let row = -1
      for (let r = 0; r < shard.rowCount; r++) if (shard.ids.get(r) === id) row = r
      expect(row).toBeGreaterThanOrEqual(0)
      const { offsets, items, confidences } = shard.interactions
      expect(Array.from(items.subarray(offsets[row]!, offsets[row + 1]!))).toEqual(
        Array.from(m.indices.subarray(m.indptr[u]!, m.indptr[u + 1]!)),
      )
      const expected = Array.from(m.values.subarray(m.indptr[u]!, m.indptr[u + 1]!), (v) =>
        Math.fround(2 * v),
      )
      expect(Array.from(confidences.subarray(offsets[row]!, offsets[row + 1]!))).toEqual(expected)
      usersSeen++
    }
    expect(usersSeen).toBeGreaterThan(10)
    expect(buckets.reduce((s, b) => s + b.rowCount, 0)).toBe(data.userIds.length)

    // Popularity: descending counts. Gram: ŶᵀŶ + λI of the dequantized item factors.
    const popularity = (await decodeShard(
      storage.objects.get(manifest.shards.popularity.key)!,
    )) as PopularityShard
    for (let r = 1; r < popularity.rowCount; r++)
      expect(popularity.scores[r - 1]!).toBeGreaterThanOrEqual(popularity.scores[r]!)
    expect(popularity.scores[0]).toBe(Math.max(...(input.popularity as Float32Array)))
    const gram = (await decodeShard(storage.objects.get(manifest.shards.gram.key)!)) as GramShard
    for (let a = 0; a < dims; a++) {
      for (let b = 0; b < dims; b++) {
        let sum = a === b ? als.regularization : 0
        for (let i = 0; i < data.itemIds.length; i++)
          sum += itemFactors[i * dims + a]! * itemFactors[i * dims + b]!
        expect(gram.matrix[a * dims + b]).toBeCloseTo(sum, 4)
      }
    }
  })

  it('should leave no manifest and delete what it wrote when the storage fails mid-export', async () => {
    const storage = new MemoryStorage()
    storage.failOnPut = (_key, index) => index === 5
    await expect(
      exportModel(input, {
        storage,
        version: 'test-v2',
        maxShardBytes: 16 * 1024,
        targetUserShardBytes: 8 * 1024,
        concurrency: 2,
      }),
    ).rejects.toMatchObject({
      code: 'EXPORT_FAILED',
      message: expect.stringContaining('they were removed'),
    })
    expect(storage.objects.has(manifestKey('test-v2'))).toBe(false)
    expect(storage.objects.size).toBe(0)
  })

  it('should refuse to overwrite an existing version and a model that does not match the data', async () => {
    const storage = new MemoryStorage()
    await exportModel(input, { storage, version: 'test-v3' })
    const before = storage.objects.size
    await expect(exportModel(input, { storage, version: 'test-v3' })).rejects.toMatchObject({
      code: 'EXPORT_FAILED',
      message: expect.stringContaining('immutable'),
    })
    expect(storage.objects.size).toBe(before)
    await expect(
      exportModel({ ...input, model: { ...model, items: model.items - 1 } }, { storage }),
    ).rejects.toMatchObject({ code: 'EXPORT_FAILED' })
  })
})

describe('exportModel popularity lists', () => {
  it('should keep the best entries that fit one shard when every item is popular', async () => {
    const storage = new MemoryStorage()
    const items = data.itemIds.length
    // A limit below 8 bytes per item: the lists must be cut to fit, best first.
    const maxShardBytes = Math.max(4096, 8 * Math.floor(items / 2) + 1024)
    expect(8 * items + 1024).toBeGreaterThan(maxShardBytes)
    const popularity = Float32Array.from({ length: items }, (_, i) => items - i)
    const { manifest } = await exportModel(
      { ...input, popularity, trending: popularity },
      { storage, version: 'pop-cut', maxShardBytes },
    )
    for (const ref of [manifest.shards.popularity, manifest.shards.trending!]) {
      expect(ref.bytes).toBeLessThanOrEqual(maxShardBytes)
      expect(ref.rows).toBe(Math.floor((maxShardBytes - 1024) / 8))
      const shard = (await decodeShard(storage.objects.get(ref.key)!)) as PopularityShard
      expect(Array.from(shard.itemIndexes.subarray(0, 3))).toEqual([0, 1, 2])
    }
  })
})

describe('exportModel with a catalog', () => {
  it('should write a checksummed catalog shard that decodes to the items and lists it in the manifest', async () => {
    const storage = new MemoryStorage()
    const items = data.itemIds.slice(0, 20).map((itemId, i) => ({
      itemId,
      categories: [`c${i % 3}`],
      tags: i % 2 === 0 ? ['even'] : [],
      price: i,
      available: i !== 5,
      createdAt: null,
      attributes: {},
    }))
    const extra = { ...items[0]!, itemId: 'not-in-model', categories: ['new'] }
    const result = await exportModel(
      { ...input, catalog: { items: [...items, extra], updatedUntil: 42 } },
      { storage, version: 'cat-v1' },
    )
    const refs = catalogShardRefs(result.manifest)
    expect(refs).toHaveLength(1)
    const ref = refs[0]!
    expect(ref).toMatchObject({ key: 'models/cat-v1/catalog-000.shard', kind: 'catalog', rows: 21 })
    expect(result.manifest.catalog).toEqual({
      rows: 21,
      categoryCodes: 20,
      tagCodes: 10,
      memoryBytes: expect.any(Number),
      layout: catalogLayoutOf(items.slice(0, 20)),
    })
    const bytes = storage.objects.get(ref.key)!
    expect(await sha256Hex(bytes.subarray(0, bytes.length - 32))).toBe(ref.sha256)
    const shard = await decodeShard(bytes, { expectedKind: 'catalog', expectedSha256: ref.sha256 })
    const table = decodeCatalogColumns((shard as CatalogShard).json)
    expect(table.updatedUntil).toBe(42)
    expect(table.item(table.rowOf(items[4]!.itemId))).toEqual(items[4])
    expect(table.item(table.rowOf('not-in-model')).categories).toEqual(['new'])
    // The model's items first, in model order; the worker's aligned table holds what was planned.
    expect(table.ids.slice(0, 20)).toEqual(data.itemIds.slice(0, 20))
    const { categoryCodes, tagCodes, layout } = result.manifest.catalog!
    const aligned = CatalogTable.alignedBuilder(data.itemIds.length, (id) => data.itemIds.indexOf(id), {
      categories: categoryCodes,
      tags: tagCodes,
      layout,
    })
    aligned.add((shard as CatalogShard).json)
    expect(aligned.build().byteLength).toBe(result.manifest.catalog!.memoryBytes)
    expect(result.keys).toContain(ref.key)
  })

  it('should split a catalog larger than one shard can hold into checksummed shards all within the 24 MiB limit', async () => {
    const storage = new MemoryStorage()
    const n = 250_000
    const colors = ['red', 'blue', 'green', 'black', 'white', 'navy', 'olive', 'beige']
    const items = Array.from({ length: n }, (_, i) => ({
      itemId: `sku-${String(i).padStart(8, '0')}-${colors[i % 8]}-${(i % 13) + 36}`,
      categories: [`apparel/${['shoes', 'shirts', 'jackets', 'bags'][i % 4]}`, `brand/maker-${i % 311}`],
      tags: [colors[i % 8]!, i % 10 === 0 ? 'sale' : 'regular', `season-${i % 4}`],
      price: Math.round(((i * 7919) % 50_000) + 99) / 100,
      available: i % 17 !== 0,
      createdAt: 1_700_000_000_000 + i * 60_000,
      attributes: { brand: `maker-${i % 311}`, size: (i % 13) + 36, vegan: i % 3 === 0 },
    }))
    const result = await exportModel(
      { ...input, catalog: { items, updatedUntil: 7 } },
      { storage, version: 'cat-big' },
    )
    const refs = catalogShardRefs(result.manifest)
    expect(refs.length).toBeGreaterThan(6)
    let total = 0
    let next = 0
    const builder = CatalogTable.builder(n)
    for (const ref of refs) {
      const bytes = storage.objects.get(ref.key)!
      expect(bytes.byteLength).toBeLessThanOrEqual(DEFAULT_MAX_SHARD_BYTES)
      expect(ref.rowOffset).toBe(next)
      next += ref.rows
      total += bytes.byteLength
      const check = await checkShard(ref, bytes, result.manifest.dims)
      if (!check.ok) throw new Error(check.problem.message)
      if (check.shard.kind !== 'catalog') throw new Error('not a catalog shard')
      builder.add(check.shard.json)
    }
    // One shard would have exceeded the limit: the catalog's shards hold more than 24 MiB in all.
    expect(total).toBeGreaterThan(DEFAULT_MAX_SHARD_BYTES)
    expect(next).toBe(n)
    expect(validateManifest(JSON.parse(JSON.stringify(result.manifest))).ok).toBe(true)
    const table = builder.build()
    expect(table.size).toBe(n)
    for (const i of [0, 1, 123_456, n - 1])
      expect(table.item(table.rowOf(items[i]!.itemId))).toEqual(items[i])
    // No model item is in this catalog: the worker's table is the empty columns of the model's items.
    expect(result.manifest.catalog).toMatchObject({ rows: n, categoryCodes: 0, tagCodes: 0 })
  }, 120_000)
})

describe('exportModel partitions', () => {
  it('should write a partitions shard covered by the manifest when items ≥ minItems, and none below', async () => {
    const storage = new MemoryStorage()
    const { manifest } = await exportModel(input, { storage, version: 'v-part', partitions: { minItems: 1 } })
    expect(validateManifest(JSON.parse(JSON.stringify(manifest))).ok).toBe(true)
    const ref = manifest.shards.partitions!
    expect(ref.key).toBe('models/v-part/partitions.shard')
    expect(manifest.partitions!.lists).toBe(ref.rows)
    expect(manifest.partitions!.recall.value).toBeGreaterThanOrEqual(0)
    const bytes = (await storage.get(ref.key))!
    expect(await sha256Hex(bytes.subarray(0, bytes.byteLength - 32))).toBe(ref.sha256)
    const shard = await decodeShard(bytes, { expectedKind: 'partitions' })
    if (shard.kind !== 'partitions') throw new Error('not a partitions shard')
    // Every item listed, border items twice (spilling, `export.partitions.spill` 0.2 by default).
    expect([...new Set(shard.itemIndexes)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: manifest.counts.items }, (_, i) => i),
    )
    expect(shard.itemIndexes.length).toBeGreaterThanOrEqual(manifest.counts.items)
    expect(shard.itemIndexes.length).toBeLessThanOrEqual(2 * manifest.counts.items)
    // The lists object: the whole-object check, and each list as one ranged read of the table.
    const listsRef = manifest.shards.partitionLists!
    expect(listsRef.key).toBe('models/v-part/partition-lists.shards')
    const lists = (await storage.get(listsRef.key))!
    expect((await checkShard(listsRef, lists, manifest.dims)).ok).toBe(true)
    expect(shard.listBytes[shard.rowCount]).toBe(lists.byteLength)
    let items = 0
    for (let p = 0; p < shard.rowCount; p++) {
      const check = await checkPartitionList(
        listsRef.key,
        lists.subarray(shard.listBytes[p]!, shard.listBytes[p + 1]!),
        shard,
        p,
      )
      if (!check.ok) throw new Error(check.problem.message)
      expect(check.list.rowCount).toBe(shard.listOffsets[p + 1]! - shard.listOffsets[p]!)
      items += check.list.rowCount
    }
    expect(items).toBe(shard.itemIndexes.length)
    const plain = await exportModel(input, { storage, version: 'v-plain' })
    expect(plain.manifest.partitions).toBeUndefined()
    expect(plain.manifest.shards.partitions).toBeUndefined()
  })
})

/** Every trained user of a version as its bucket stores it: vector, training items, candidates. */
async function storedUsers(
  storage: MemoryStorage,
  refs: readonly { key: string; sha256: string }[],
): Promise<{ user: Int8Vector; trained: Set<number>; items: Uint32Array; scores: Float32Array }[]> {
  const out = []
  for (const ref of refs) {
    const shard = (await decodeShard(storage.objects.get(ref.key)!, {
      expectedKind: 'users',
      expectedSha256: ref.sha256,
    })) as UserShard
    const c = shard.candidates as CandidateLists
    expect(c).toBeDefined()
    for (let r = 0; r < shard.rowCount; r++) {
      const { offsets, items } = shard.interactions
      out.push({
        user: {
          values: shard.factors.slice(r * shard.dims, (r + 1) * shard.dims),
          scale: shard.scales[r]!,
        },
        trained: new Set(items.subarray(offsets[r]!, offsets[r + 1]!)),
        items: c.items.slice(c.offsets[r]!, c.offsets[r + 1]!),
        scores: c.scores.slice(c.offsets[r]!, c.offsets[r + 1]!),
      })
    }
  }
  return out
}

describe('exportModel candidates', () => {
  it('should store each user the exact top N without its training items when an exact-scan version asks for N', async () => {
    const storage = new MemoryStorage()
    const perUser = 20
    const progress: [number, number][] = []
    const result = await exportModel(input, {
      storage,
      version: 'v-cand-exact',
      candidates: perUser,
      onCandidates: (done, total) => progress.push([done, total]),
    })
    // Progress: 0 first, then after each bucket, up to every user.
    const users = data.userIds.length
    expect(progress[0]).toEqual([0, users])
    expect(progress.at(-1)).toEqual([users, users])
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0])
    expect(result.manifest.partitions).toBeUndefined()
    expect(result.manifest.candidates).toEqual({ perUser, nprobe: null, recall: null })
    expect(validateManifest(JSON.parse(JSON.stringify(result.manifest))).ok).toBe(true)
    expect(result.candidateSeconds).toBeGreaterThan(0)
    const blocks = [blockFromQuantized(quantizeRows(model.itemFactors, model.items, model.factors))]
    const stored = await storedUsers(storage, result.manifest.shards.users)
    expect(stored).toHaveLength(users)
    for (const { user, trained, items, scores } of stored) {
      const exact = recommendTopK(user, blocks, perUser, trained)
      expect(items).toEqual(exact.indices)
      expect(scores).toEqual(exact.scores)
      expect(items.length).toBe(Math.min(perUser, model.items - trained.size))
      for (const item of items) expect(trained.has(item)).toBe(false)
    }
  })

  it('should store a partitioned version the probed top 50 at 4 × nprobe and record the recall chooseNprobe measures', async () => {
    const storage = new MemoryStorage()
    const partitions = { minItems: 1, nprobe: 2 }
    const result = await exportModel(input, { storage, version: 'v-cand-probed', partitions })
    const { manifest } = result
    const lists = manifest.partitions!.lists
    const nprobe = Math.min(lists, CANDIDATE_NPROBE_FACTOR * 2)
    expect(nprobe).toBeLessThan(lists)
    expect(manifest.candidates).toMatchObject({ perUser: DEFAULT_CANDIDATES_PER_USER, nprobe })
    expect(validateManifest(JSON.parse(JSON.stringify(manifest))).ok).toBe(true)
    // The probed scan over what the worker reads: the partitions shard and the lists object.
    const table = (await decodeShard(
      storage.objects.get(manifest.shards.partitions!.key)!,
    )) as PartitionsShard
    const index = { lists: table.rowCount, dims: table.dims, centroids: table.centroids }
    const listsBytes = storage.objects.get(manifest.shards.partitionLists!.key)!
    const rows: PartitionRows[] = []
    for (let p = 0; p < table.rowCount; p++) {
      const check = await checkPartitionList(
        'lists',
        listsBytes.subarray(table.listBytes[p]!, table.listBytes[p + 1]!),
        table,
        p,
      )
      if (!check.ok) throw new Error(check.problem.message)
      rows.push(check.list)
    }
    const users = await storedUsers(storage, manifest.shards.users)
    let differsFromExact = 0
    const itemQ = quantizeRows(model.itemFactors, model.items, model.factors)
    const blocks = [blockFromQuantized(itemQ)]
    for (const { user, trained, items, scores } of users) {
      const probed = recommendTopKProbed(user, index, rows, nprobe, DEFAULT_CANDIDATES_PER_USER, trained)
      expect(items).toEqual(probed.indices)
      expect(scores).toEqual(probed.scores)
      for (const item of items) expect(trained.has(item)).toBe(false)
      const exact = recommendTopK(user, blocks, DEFAULT_CANDIDATES_PER_USER, trained)
      if (exact.indices.some((item, i) => item !== items[i])) differsFromExact++
    }
    expect(differsFromExact).toBeGreaterThan(0)
    // The recall: chooseNprobe at that nprobe on the users that chose the default nprobe.
    const userQ = quantizeRows(model.userFactors, model.users, model.factors)
    const { queries } = planPartitions(model.itemFactors, itemQ, userQ, partitions)!
    const { recall } = chooseNprobe(index, rows, blocks, queries, { nprobe, k: 10 })
    expect(manifest.candidates!.recall).toEqual({ k: 10, value: recall, users: queries.length })
  })

  it('should write the same buckets when worker threads compute the candidates', async () => {
    const storage = new MemoryStorage()
    for (const partitions of [undefined, { minItems: 1, nprobe: 2 }]) {
      const options = { storage, candidates: 10, ...(partitions ? { partitions } : {}) }
      const inline = await exportModel(input, { ...options, version: `v-inline-${partitions ? 'p' : 'e'}` })
      const threaded = await exportModel(input, {
        ...options,
        version: `v-threads-${partitions ? 'p' : 'e'}`,
        threads: 2,
      })
      expect(threaded.manifest.candidates).toEqual(inline.manifest.candidates)
      expect(threaded.candidateSeconds).toBeGreaterThan(0)
      expect(threaded.manifest.shards.users.map((r) => r.sha256)).toEqual(
        inline.manifest.shards.users.map((r) => r.sha256),
      )
      const shard = (await decodeShard(
        storage.objects.get(threaded.manifest.shards.users[0]!.key)!,
      )) as UserShard
      expect(shard.candidates?.items.length).toBeGreaterThan(0)
    }
  })

  it('should write none with export.candidates 0, and none by default below minItems', async () => {
    const storage = new MemoryStorage()
    for (const [version, options] of [
      ['v-cand-off', { partitions: { minItems: 1 }, candidates: 0 }],
      ['v-cand-default', {}],
    ] as const) {
      const result = await exportModel(input, { storage, version, ...options })
      expect(result.manifest.candidates).toBeUndefined()
      expect(result.candidateSeconds).toBeUndefined()
      for (const ref of result.manifest.shards.users) {
        const shard = (await decodeShard(storage.objects.get(ref.key)!)) as UserShard
        expect(shard.candidates).toBeUndefined()
      }
    }
    await expect(exportModel(input, { storage, version: 'v-cand-bad', candidates: -1 })).rejects.toThrow(
      /export.candidates must be an integer in 0..1000/,
    )
  })

  it('should count the candidate bytes when it buckets users, so every bucket stays under the shard limit', async () => {
    const storage = new MemoryStorage()
    const limits = { maxShardBytes: 8 * 1024, targetUserShardBytes: 4 * 1024 }
    const plain = await exportModel(input, { storage, version: 'v-size-plain', ...limits })
    const withCandidates = await exportModel(input, {
      storage,
      version: 'v-size-cand',
      ...limits,
      candidates: 100,
    })
    expect(withCandidates.manifest.userBuckets).toBeGreaterThan(plain.manifest.userBuckets)
    for (const ref of withCandidates.manifest.shards.users) expect(ref.bytes).toBeLessThanOrEqual(8 * 1024)
  })
})

import {
  dequantized,
  type PartitionsShard,
  partitionIndexByteLength,
  partitionListsKey,
  quantizeVector,
  recallAtK,
} from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { checkPartitions, type LoadedModel, loadModel } from '../src/model/loaded-model.js'
import { ModelStore } from '../src/model/model-store.js'
import type { ModelBindings } from '../src/model/storage.js'
import { type ModelFixture, publishVersion, rng, scatteredFixture } from './fixtures/model.js'
import { call, env, json } from './helpers.js'

/** 12k items × 32 dims around 60 centres; users near an item (their taste). */
function fixture(version: string): ModelFixture {
  return scatteredFixture(version, {
    items: 12_000,
    dims: 32,
    centres: 60,
    users: 30,
    seed: 31,
    itemPrefix: 'p-',
    userPrefix: 'part-user-',
    userBuckets: 2,
  })
}

/** The bindings with every R2 read recorded (key and range), to see what a load and a query read. */
function recording(): { bindings: ModelBindings; reads: { key: string; range: R2Range | undefined }[] } {
  const reads: { key: string; range: R2Range | undefined }[] = []
  const r2 = env.MODELS_R2
  const MODELS_R2 = {
    get: (key: string, options?: R2GetOptions) => {
      reads.push({ key, range: options?.range as R2Range | undefined })
      return r2.get(key, options)
    },
  } as unknown as R2Bucket
  return { bindings: { MODELS_KV: env.MODELS_KV, MODELS_R2 }, reads }
}

/** A publish `tamper` that flips one byte in the first list's factors of the lists object `listsKey`. */
function flipFirstListByte(listsKey: string): (key: string, bytes: Uint8Array) => Uint8Array {
  return (key, bytes) => {
    if (key !== listsKey) return bytes
    const out = bytes.slice()
    out[200] = out[200]! ^ 0x55
    return out
  }
}

const userNear = (model: LoadedModel, random: () => number, item: number) => {
  const y = new Float64Array(32)
  if (!model.readItem(item, y)) throw new Error(`item ${item} not readable`)
  return quantizeVector(Array.from(y, (v) => v + (random() - 0.5) * 0.3))
}

describe('partitioned retrieval in workerd', () => {
  it('should load only centroids and tables, fetch probed lists with ranged reads, and match the exact scan', async () => {
    const manifest = await publishVersion(env, fixture('part-v1'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 12 },
    })
    const plain = await publishVersion(env, fixture('part-exact'), { storage: 'r2', activate: false })
    const exactModel = await loadModel(env, plain, { userCacheBytes: 1 << 20, now: Date.now })
    const { bindings, reads } = recording()
    const model = await loadModel(bindings, manifest, { userCacheBytes: 1 << 20, now: Date.now })
    const listsKey = partitionListsKey('part-v1')
    // Loading reads no list: no item rows are resident.
    expect(reads.filter((r) => r.key === listsKey)).toHaveLength(0)
    expect(model.blocks).toHaveLength(0)
    expect(model.partitions?.lists).toBe(110)
    expect(model.nprobe).toBe(12)
    const memory = model.memory()
    expect(memory.kernel).toBeLessThan(12_000 * 32)
    expect(memory.itemRows).toBe(0)
    // Centroids, tables, item → partition map, and the float32 probe kernel's memory (as planned).
    expect(memory.partitionIndex).toBe(partitionIndexByteLength(110, 32, 12_000))
    expect(memory.partitionIndex).toBe(4 * 110 * 32 + 8 * 111 + 32 * 110 + 2 * 12_000 + 65_536)
    expect(memory.partitionCache).toBe(0)

    const random = rng(8)
    const now = Date.now()
    let recall = 0
    const queries = 40
    for (let q = 0; q < queries; q++) {
      const near = Math.floor(random() * 12_000)
      const user = userNear(exactModel, random, near)
      const exclude = new Set([near])
      const before = reads.length
      const topK = (await model.prepareTopK(bindings, user, now))!
      const fetched = reads.slice(before)
      // One ranged read per probed list not cached yet, never the whole object.
      expect(fetched.length).toBeLessThanOrEqual(12)
      for (const read of fetched) {
        expect(read.key).toBe(listsKey)
        expect(read.range).toMatchObject({ offset: expect.any(Number), length: expect.any(Number) })
      }
      const probed = topK(10, exclude)
      expect(Array.from(probed.indices)).not.toContain(near)
      recall += recallAtK(exactModel.topK(user, 10, exclude).indices, probed.indices)
      const similar = (await model.prepareSimilar(bindings, near, now))!(10)
      recall += recallAtK(exactModel.similar(near, 10)!.indices, similar.indices)
    }
    expect(recall / (2 * queries)).toBeGreaterThanOrEqual(0.95)
    const cached = model.partitions!.fetches
    const user = userNear(exactModel, random, 5)
    await model.prepareTopK(bindings, user, now)
    const again = model.partitions!.fetches
    await model.prepareTopK(bindings, user, now)
    expect(model.partitions!.fetches).toBe(again)
    expect(again).toBeGreaterThanOrEqual(cached)
    expect(model.memory().partitionCache).toBe(model.partitions!.cacheBytes)

    // PARTITION_NPROBE = every partition: exactly the exact scan (indices and scores).
    const all = await loadModel(env, manifest, {
      userCacheBytes: 1 << 20,
      now: Date.now,
      partitionNprobe: 999,
      partitionCacheBytes: 64 << 20,
    })
    expect(all.nprobe).toBe(110)
    for (const u of [1, 2, 3]) {
      const query = quantizeVector(Array.from({ length: 32 }, (_, d) => Math.sin(d * u)))
      const exclude = new Set([0, 1, 2, 777])
      expect((await all.prepareTopK(env, query, now))!(20, exclude)).toEqual(
        exactModel.topK(query, 20, exclude),
      )
      expect((await all.prepareSimilar(env, 100 * u, now))!(15)).toEqual(exactModel.similar(100 * u, 15))
    }
  })

  it('should keep the list cache within its byte bound, evicting the least recently used lists', async () => {
    const manifest = await publishVersion(env, fixture('part-lru'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 4 },
    })
    // About 110 items × (32 + 12) bytes per list (k-means lists are uneven): 64 KiB holds a few.
    const bound = 64 * 1024
    const model = await loadModel(env, manifest, {
      userCacheBytes: 1 << 20,
      now: Date.now,
      partitionCacheBytes: bound,
    })
    const p = model.partitions!
    const now = Date.now()
    await model.ensureItems(env, [0], now)
    const first = p.partitionOf(0)
    expect(p.cached(first)).toBeDefined()
    const base = p.fetches
    for (let list = 0; list < 110; list++) {
      await p.get(env, [list], now)
      expect(p.cacheBytes).toBeLessThanOrEqual(bound)
    }
    expect(p.cachedLists).toBeGreaterThan(1)
    expect(p.cachedLists).toBeLessThan(110)
    expect(p.fetches - base).toBeGreaterThanOrEqual(109)
    // List 0 was used first, then ~109 others: evicted, so reading it again is a new ranged read.
    expect(p.cached(0)).toBeUndefined()
    const before = p.fetches
    await p.get(env, [0], now)
    expect(p.fetches).toBe(before + 1)
    expect(p.cached(0)).toBeDefined()
    expect(model.memory().partitionCache).toBeLessThanOrEqual(bound)
  })

  it('should serve a version whose border items are spilled into two lists, each item once', async () => {
    const manifest = await publishVersion(env, fixture('part-spill'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 110, spill: 0.2 },
    })
    const plain = await publishVersion(env, fixture('part-spill-exact'), { storage: 'r2', activate: false })
    const exactModel = await loadModel(env, plain, { userCacheBytes: 1 << 20, now: Date.now })
    const model = await loadModel(env, manifest, { userCacheBytes: 1 << 20, now: Date.now })
    const random = rng(12)
    const now = Date.now()
    for (let q = 0; q < 5; q++) {
      const user = userNear(exactModel, random, Math.floor(random() * 12_000))
      // Every list probed: the exact top 20, no item twice although ≈ 1 in 8 is in two lists.
      const probed = (await model.prepareTopK(env, user, now))!(20)
      expect(Array.from(probed.indices)).toEqual(Array.from(exactModel.topK(user, 20).indices))
    }
    // Every item is readable from a list that holds it.
    const y = new Float64Array(32)
    await model.ensureItems(env, [7], now)
    expect(model.readItem(7, y)).toBe(true)
  })

  it('should accept items listed once or twice and refuse three times, a missing item or a repeat in one list', () => {
    // 4 items, 2 lists: offsets [0, a, total].
    const shard = (lists: number[][]) => {
      const listOffsets = new Uint32Array(lists.length + 1)
      lists.forEach((l, p) => {
        listOffsets[p + 1] = listOffsets[p]! + l.length
      })
      return {
        rowCount: lists.length,
        listOffsets,
        itemIndexes: Uint32Array.from(lists.flat()),
      } as PartitionsShard
    }
    expect(() =>
      checkPartitions(
        shard([
          [0, 2],
          [1, 3],
        ]),
        4,
        'k',
      ),
    ).not.toThrow()
    expect(() =>
      checkPartitions(
        shard([
          [0, 1, 2],
          [1, 3],
        ]),
        4,
        'k',
      ),
    ).not.toThrow()
    for (const bad of [
      [[0, 1, 2], [1, 3], [1]],
      [[0, 2], [2]],
      [
        [0, 1, 1],
        [2, 3],
      ],
      [
        [0, 5],
        [1, 2, 3],
      ],
    ])
      expect(() => checkPartitions(shard(bad), 4, 'k')).toThrow(/once \(or twice, in two lists\)/)
  })

  it('should prefetch the lists a trained user probes and score from them without reading again', async () => {
    const manifest = await publishVersion(env, fixture('part-prefetch'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 8 },
    })
    // A cache too small for one list: only what the request holds avoids a second read.
    const model = await loadModel(env, manifest, {
      userCacheBytes: 1 << 20,
      now: Date.now,
      partitionCacheBytes: 1,
    })
    const p = model.partitions!
    const now = Date.now()
    const user = (await model.findUser(env, 'part-user-5', now))!
    const vector = model.userVector(user)
    const before = p.fetches
    const prefetched = await model.prefetchUser(env, 'part-user-5', now)
    // The user's row, for the request's scoring (no second lookup).
    expect(prefetched.user?.row).toBe(user.row)
    const held = prefetched.lists
    // The lists the trained vector probes, each verified and held by partition.
    expect([...held.keys()].sort((a, b) => a - b)).toEqual(
      [...p.probe(dequantized(vector))].sort((a, b) => a - b),
    )
    expect(p.fetches).toBeGreaterThan(before)
    expect(p.cachedLists).toBe(0)
    const afterPrefetch = p.fetches
    const withHeld = (await model.prepareTopK(env, vector, now, undefined, held))!(10)
    expect(p.fetches).toBe(afterPrefetch)
    // The same answer as reading the lists again.
    const reread = (await model.prepareTopK(env, vector, now))!(10)
    expect(p.fetches).toBeGreaterThan(afterPrefetch)
    expect(Array.from(withHeld.indices)).toEqual(Array.from(reread.indices))
    // Unknown users and unpartitioned versions prefetch nothing.
    expect((await model.prefetchUser(env, 'nobody-here', now)).lists.size).toBe(0)
  })

  it('should read adjacent lists with one ranged read and still verify each on its own', async () => {
    const listsKey = partitionListsKey('part-run')
    const manifest = await publishVersion(env, fixture('part-run'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 4 },
      tamper: flipFirstListByte(listsKey),
    })
    const { bindings, reads } = recording()
    const model = await loadModel(bindings, manifest, {
      userCacheBytes: 1 << 20,
      now: Date.now,
      partitionReadGapBytes: 0,
    })
    const p = model.partitions!
    const lists = await p.get(bindings, [5, 0, 1, 2], Date.now())
    // Gap 0: runs 0..2 and 5, two ranged reads, each list checked alone (list 0 is corrupt, left out).
    const listReads = reads.filter((r) => r.key === listsKey)
    expect(listReads).toHaveLength(2)
    expect(p.fetches).toBe(2)
    expect(lists.map((l) => l.rowOffset).sort((a, b) => a - b)).toEqual([1, 2, 5])
    expect(p.lastFailure).toMatchObject({ partition: 0, code: 'SHARD_CHECKSUM_MISMATCH' })
    expect(p.cached(0)).toBeUndefined()
    // A list read in a run keeps only its own bytes, so the cache's byte count is what it holds.
    let held = 0
    for (const list of lists) {
      expect(list.factors.buffer.byteLength).toBe(list.byteLength)
      held += list.byteLength
    }
    expect(p.cacheBytes).toBe(held)
  })

  it('should read lists close in the object with one ranged read, dropping the gap, and verify each', async () => {
    const listsKey = partitionListsKey('part-gap')
    const manifest = await publishVersion(env, fixture('part-gap'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 4 },
      tamper: flipFirstListByte(listsKey),
    })
    const { bindings, reads } = recording()
    const load = (gap: number) =>
      loadModel(bindings, manifest, { userCacheBytes: 1 << 20, now: Date.now, partitionReadGapBytes: gap })
    // A gap bound above lists 3..4 (a few KiB) but below lists 6..99: [0..2, 5] is one span.
    const model = await load(64 * 1024)
    const p = model.partitions!
    const before = reads.filter((r) => r.key === listsKey).length
    const lists = await p.get(bindings, [5, 0, 1, 2, 100], Date.now())
    const listReads = reads.filter((r) => r.key === listsKey).slice(before)
    expect(listReads).toHaveLength(2)
    expect(p.fetches).toBe(2)
    // The span read covers lists 0..5 (gap lists 3 and 4 read and dropped), the other one list 100.
    const ranges = listReads.map((r) => r.range as { offset: number; length: number })
    expect(ranges.map((r) => r.offset).sort((a, b) => a - b)[0]).toBe(0)
    expect(p.fetchedBytes).toBe(ranges.reduce((sum, r) => sum + r.length, 0))
    expect(lists.map((l) => l.rowOffset).sort((a, b) => a - b)).toEqual([1, 2, 5, 100])
    // The corrupt list inside the span is still caught alone; the gap lists are not cached.
    expect(p.lastFailure).toMatchObject({ partition: 0, code: 'SHARD_CHECKSUM_MISMATCH' })
    expect(p.cached(0)).toBeUndefined()
    expect(p.cached(3)).toBeUndefined()
    expect(p.cached(4)).toBeUndefined()
    let held = 0
    for (const list of lists) {
      expect(list.factors.buffer.byteLength).toBe(list.byteLength)
      held += list.byteLength
    }
    expect(p.cacheBytes).toBe(held)
    // A bound of 0 reads only adjacent lists together: [0..2], [5], [100].
    const strict = (await load(0)).partitions!
    await strict.get(bindings, [5, 0, 1, 2, 100], Date.now())
    expect(strict.fetches).toBe(3)
  })

  it('should skip a corrupt list, report it as degraded, and never answer 5xx', async () => {
    const listsKey = partitionListsKey('part-bad')
    await publishVersion(env, fixture('part-bad'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 110 },
      tamper: flipFirstListByte(listsKey),
    })
    const app = createApp({ store: new ModelStore() })
    const rec = await json<{ source: string; items: { itemId: string }[] }>(
      app,
      '/v1/users/part-user-3/recommendations?k=10',
    )
    expect(rec.status).toBe(200)
    expect(rec.body.source).toBe('model')
    expect(rec.body.items).toHaveLength(10)
    const status = await json<{
      degraded: boolean
      partitions: { lastError: { partition: number; code: string } | null }
      lastError: { code: string; message: string } | null
    }>(app, '/v1/model')
    expect(status.body.partitions.lastError).toMatchObject({ partition: 0 })
    expect(status.body.degraded).toBe(true)
    expect(status.body.lastError?.message).toMatch(/Partition list 0/)
    const health = await json<{ status: string }>(app, '/v1/health')
    expect(health.body.status).toBe('degraded')
  })

  it('should serve popular items when the lists object is missing, for users and similar items', async () => {
    const listsKey = partitionListsKey('part-gone')
    await publishVersion(env, fixture('part-gone'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 12 },
      tamper: (key, bytes) => (key === listsKey ? null : bytes),
    })
    const app = createApp({ store: new ModelStore() })
    const rec = await json<{ source: string; items: { itemId: string }[] }>(
      app,
      '/v1/users/part-user-4/recommendations?k=10',
    )
    expect(rec.status).toBe(200)
    expect(rec.body.source).toBe('popular')
    expect(rec.body.items.length).toBeGreaterThan(0)
    const similar = await json<{ source: string; items: { itemId: string }[] }>(
      app,
      '/v1/items/p-42/similar?k=5',
    )
    expect(similar.status).toBe(200)
    expect(similar.body.source).toBe('popular')
    expect(similar.body.items.map((i) => i.itemId)).not.toContain('p-42')
    const status = await json<{ partitions: { lastError: { code: string } | null } }>(app, '/v1/model')
    expect(status.body.partitions.lastError?.code).toBe('SHARD_MISSING')
  })

  it('should serve routes from a partitioned version (default nprobe vs every partition)', async () => {
    await publishVersion(env, fixture('part-v2'), { storage: 'r2', partitions: { lists: 110, nprobe: 12 } })
    const answers: string[][] = []
    for (const nprobe of ['', '110']) {
      const app = createApp({ store: new ModelStore() })
      const bindings = { ...env, PARTITION_NPROBE: nprobe }
      for (let u = 0; u < 10; u++) {
        const { status, body } = await json<{ source: string; items: { itemId: string }[] }>(
          app,
          `/v1/users/part-user-${u}/recommendations?k=10`,
          { bindings },
        )
        expect(status).toBe(200)
        expect(body.source).toBe('model')
        expect(body.items).toHaveLength(10)
        answers.push(body.items.map((i) => i.itemId))
      }
      const similar = await json<{ items: { itemId: string }[] }>(app, '/v1/items/p-42/similar?k=10', {
        bindings,
      })
      expect(similar.status).toBe(200)
      expect(similar.body.items.map((i) => i.itemId)).not.toContain('p-42')
    }
    let recall = 0
    for (let u = 0; u < 10; u++) {
      const exactIds = new Set(answers[10 + u])
      recall += answers[u]!.filter((id) => exactIds.has(id)).length / 10
    }
    expect(recall / 10).toBeGreaterThanOrEqual(0.9)
  })

  it('should answer the phases of a recommendation in Server-Timing only with SERVER_TIMING=on', async () => {
    await publishVersion(env, fixture('part-timing'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 12 },
    })
    const app = createApp({ store: new ModelStore() })
    const path = '/v1/users/part-user-3/recommendations?k=10'
    const off = await call(app, path)
    expect(off.status).toBe(200)
    expect(off.headers.get('server-timing')).toBeNull()
    const on = await call(app, path, { bindings: { ...env, SERVER_TIMING: 'on' } })
    expect(on.status).toBe(200)
    const phases = new Map(
      on.headers
        .get('server-timing')!
        .split(', ')
        .map((part) => {
          const [name, dur] = part.split(';dur=')
          return [name!, Number(dur)] as const
        }),
    )
    // The model route's phases, each a finite duration: the events' read, the user's vector,
    // probing, the list reads (within `lists`), ranking and the whole handler.
    for (const name of [
      'model',
      'events',
      'catalog',
      'rules',
      'user',
      'probe',
      'read',
      'lists',
      'rank',
      'route',
    ])
      expect(Number.isFinite(phases.get(name)), name).toBe(true)
    expect(phases.get('read')!).toBeLessThanOrEqual(phases.get('lists')!)
    expect(phases.get('lists')!).toBeLessThanOrEqual(phases.get('route')!)
  })

  it('should refuse to activate a version with a corrupt list (checked list by list with ranged reads)', async () => {
    const listsKey = partitionListsKey('part-activate-bad')
    await publishVersion(env, fixture('part-activate-ok'), {
      storage: 'r2',
      partitions: { lists: 110, nprobe: 12 },
    })
    await publishVersion(env, fixture('part-activate-bad'), {
      storage: 'r2',
      activate: false,
      partitions: { lists: 110, nprobe: 12 },
      tamper: (key, bytes) => {
        if (key !== listsKey) return bytes
        const out = bytes.slice()
        out[out.length - 100] = out[out.length - 100]! ^ 1
        return out
      },
    })
    const app = createApp()
    const bad = await json<{
      error: { code: string; details: { problems: { key: string; code: string }[] } }
    }>(app, '/v1/admin/models/part-activate-bad/activate', { method: 'POST', as: 'secret' })
    expect(bad.status).toBe(409)
    expect(bad.body.error.details.problems).toEqual([
      expect.objectContaining({ key: listsKey, code: 'SHARD_CHECKSUM_MISMATCH' }),
    ])
    expect((await env.MODELS_KV.get('models/live', 'json')) as { version: string }).toMatchObject({
      version: 'part-activate-ok',
    })
    const ok = await json(app, '/v1/admin/models/part-activate-ok/activate', { method: 'POST', as: 'secret' })
    expect(ok.status).toBe(200)
  })
})

/**
 * The publisher against the embedded default target: the local KV/R2 state of `wrangler dev`,
 * written through wrangler's own Miniflare (getPlatformProxy). The served result is checked by a
 * real `wrangler dev --persist-to` process running a Worker that reads models like the edge worker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { LIVE_POINTER_KEY, manifestKey, versionPrefix } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalPublishTarget, openLocalPublishTarget } from '../../src/publish/local.js'
import {
  isPublished,
  listPublishedVersions,
  publishVersion,
  readLivePointer,
  rollback,
} from '../../src/publish/publisher.js'
import { listAll } from '../../src/storage/storage.js'
import { failingPuts, MemoryStorage, throttledPuts } from './memory-storage.js'
import { writeSyntheticVersion } from './synthetic-model.js'
import { startWranglerDev } from './wrangler-dev.js'

const dims = 8
const dir = mkdtempSync(join(tmpdir(), 'edgerec-publish-'))
const persistTo = join(dir, 'state')
const workerConfig = join(dir, 'wrangler.jsonc')
writeFileSync(
  workerConfig,
  JSON.stringify({
    name: 'edgerec-publish-test',
    main: resolve(import.meta.dirname, 'fixtures/reader-worker.ts'),
    compatibility_date: '2026-11-01',
    kv_namespaces: [{ binding: 'MODELS_KV', id: 'edgerec-models' }],
    r2_buckets: [{ binding: 'MODELS_R2', bucket_name: 'edgerec-models' }],
  }),
)
const source = new MemoryStorage()
const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 12, minute))
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 }

let target: LocalPublishTarget

beforeAll(async () => {
  await writeSyntheticVersion(source, {
    version: 'v1',
    items: 300,
    users: 40,
    dims,
    itemPrefix: 'old',
    createdAt: at(1),
    maxShardBytes: 4096,
  })
  await writeSyntheticVersion(source, {
    version: 'v2',
    items: 500,
    users: 60,
    dims,
    itemPrefix: 'new',
    createdAt: at(2),
    maxShardBytes: 4096,
  })
  target = await openLocalPublishTarget({ workerConfig, persistTo })
}, 60_000)

afterAll(async () => {
  await target?.close()
  rmSync(dir, { recursive: true, force: true })
})

const served = async (): Promise<Record<string, unknown>> => {
  // wrangler dev and getPlatformProxy are separate workerd processes over the same files: close ours first.
  await target.close()
  const dev = await startWranglerDev(workerConfig, persistTo)
  try {
    const response = await fetch(dev.url)
    expect(response.status, dev.output()).toBe(200)
    return (await response.json()) as Record<string, unknown>
  } finally {
    await dev.stop()
    target = await openLocalPublishTarget({ workerConfig, persistTo })
  }
}

describe('publishVersion to the local wrangler dev state', () => {
  it('should publish two versions, have wrangler dev serve the newest, and roll back to the older', async () => {
    const first = await publishVersion({ source, version: 'v1', target, now: () => at(10) })
    expect(first.pointer).toEqual({ version: 'v1', activatedAt: at(10).toISOString() })
    expect(first.shards).toBeGreaterThan(3)
    const second = await publishVersion({ source, version: 'v2', target, now: () => at(11) })
    expect(second.pointer).toEqual({ version: 'v2', activatedAt: at(11).toISOString(), previous: 'v1' })
    expect(await isPublished(target, 'v1')).toBe(true)
    expect(await isPublished(target, 'v2')).toBe(true)

    expect(await served()).toMatchObject({
      version: 'v2',
      previous: 'v1',
      items: 500,
      firstItem: 'new-0',
      lastItem: 'new-499',
    })

    const pointer = await rollback({ target, now: () => at(12) })
    expect(pointer).toEqual({ version: 'v1', activatedAt: at(12).toISOString(), previous: 'v2' })
    expect(await served()).toMatchObject({
      version: 'v1',
      previous: 'v2',
      items: 300,
      firstItem: 'old-0',
      lastItem: 'old-299',
    })
  }, 120_000)

  it('should leave no trace of a version whose upload fails midway, and keep the pointer', async () => {
    await writeSyntheticVersion(source, {
      version: 'v3',
      items: 400,
      users: 20,
      dims,
      createdAt: at(3),
      maxShardBytes: 4096,
    })
    const before = await readLivePointer(target)
    const faulty = { ...target, objects: failingPuts(target.objects, 4) }
    const error = await publishVersion({ source, version: 'v3', target: faulty, concurrency: 1 }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({
      code: 'PUBLISH_FAILED',
      message: expect.stringContaining('live pointer is unchanged'),
    })
    expect(await readLivePointer(target)).toEqual(before)
    expect(await listAll(target.objects, versionPrefix('v3'))).toEqual([])
    expect(await target.pointers.get(manifestKey('v3'))).toBeUndefined()
  })

  it('should retry throttled writes with backoff and then publish', async () => {
    const throttled = {
      ...target,
      objects: throttledPuts(target.objects, 2),
      pointers: throttledPuts(target.pointers, 1),
    }
    const retries: number[] = []
    const report = await publishVersion({
      source,
      version: 'v3',
      target: throttled,
      retry: { ...fastRetry, onRetry: (_e, attempt) => retries.push(attempt) },
    })
    expect(report.pointer.version).toBe('v3')
    expect(throttled.objects.throttled).toBe(2 * (report.shards + 1))
    expect(retries.length).toBe(throttled.objects.throttled + throttled.pointers.throttled)
    expect(await isPublished(target, 'v3')).toBe(true)
  })

  it('should refuse a source shard whose checksum does not match, before touching the target', async () => {
    await writeSyntheticVersion(source, { version: 'v4', items: 50, users: 10, dims, createdAt: at(4) })
    const key = `${versionPrefix('v4')}items-000.shard`
    const corrupted = source.objects.get(key)!
    corrupted[100] = corrupted[100]! ^ 0xff
    const before = await readLivePointer(target)
    const error = await publishVersion({ source, version: 'v4', target }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'PUBLISH_FAILED', message: expect.stringContaining('SHA-256') })
    expect(await readLivePointer(target)).toEqual(before)
    expect(await target.objects.head(key)).toBeUndefined()
  })

  it('should keep only the newest N versions plus the live and previous ones', async () => {
    for (const [i, version] of ['v5', 'v6', 'v7'].entries()) {
      await writeSyntheticVersion(source, { version, items: 30, users: 5, dims, createdAt: at(5 + i) })
    }
    await publishVersion({ source, version: 'v5', target, keep: 10 })
    await publishVersion({ source, version: 'v6', target, keep: 10 })
    // Roll back so that the live version is older than the newest two.
    await rollback({ target })
    const live = await readLivePointer(target)
    expect(live).toMatchObject({ version: 'v5', previous: 'v6' })
    const report = await publishVersion({ source, version: 'v7', target, keep: 2 })
    expect(report.pointer).toMatchObject({ version: 'v7', previous: 'v5' })
    const remaining = (await listPublishedVersions(target)).map((v) => v.version)
    expect(remaining).toEqual(['v5', 'v6', 'v7'])
    expect(report.pruned.sort()).toEqual(['v1', 'v2', 'v3'])
    expect(await listAll(target.objects, versionPrefix('v1'))).toEqual([])
    expect(await target.pointers.get(LIVE_POINTER_KEY)).toBeDefined()
  })

  it('should refuse a version whose quality gate failed unless forced, leaving the target untouched', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'edgerec-publish-gate-'))
    const other = await openLocalPublishTarget({ workerConfig, persistTo: fresh })
    try {
      await writeSyntheticVersion(source, {
        version: 'rejected',
        items: 40,
        users: 6,
        dims,
        createdAt: at(9),
      })
      const key = manifestKey('rejected')
      const manifest = JSON.parse(new TextDecoder().decode(source.objects.get(key)!)) as Record<
        string,
        unknown
      >
      manifest.gate = {
        passed: false,
        metric: 'ndcg',
        k: 10,
        candidate: 0.01,
        popularity: 0.3,
        minLiftOverPopularity: 0.05,
        reasons: ['ALS ndcg@10 0.0100 does not beat popularity 0.3000'],
      }
      source.objects.set(key, new TextEncoder().encode(JSON.stringify(manifest)))
      const error = await publishVersion({ source, version: 'rejected', target: other }).catch(
        (e: unknown) => e,
      )
      expect(error).toMatchObject({
        code: 'GATE_FAILED',
        message: expect.stringContaining('does not beat popularity'),
      })
      expect(await readLivePointer(other)).toBeUndefined()
      expect(await listAll(other.objects, versionPrefix('rejected'))).toEqual([])
      const report = await publishVersion({ source, version: 'rejected', target: other, force: true })
      expect(report.pointer.version).toBe('rejected')
      expect(await isPublished(other, 'rejected')).toBe(true)
    } finally {
      await other.close()
      rmSync(fresh, { recursive: true, force: true })
    }
  }, 60_000)

  it('should refuse to roll back when no previous version is recorded', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'edgerec-publish-fresh-'))
    const other = await openLocalPublishTarget({ workerConfig, persistTo: fresh })
    try {
      await expect(rollback({ target: other })).rejects.toMatchObject({ code: 'NOT_FOUND' })
      await publishVersion({ source, version: 'v7', target: other })
      await expect(rollback({ target: other })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' })
    } finally {
      await other.close()
      rmSync(fresh, { recursive: true, force: true })
    }
  }, 60_000)
})

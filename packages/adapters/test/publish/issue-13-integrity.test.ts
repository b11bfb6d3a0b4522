/**
 * Issue 13, finding 4: every path of the publisher that makes a version live (publish, activate,
 * rollback, and so the demo's `--rollback`) verifies every shard's SHA-256 on the target with core's
 * `verifyVersionShards`, not only sizes. A corrupt user shard of the same size used to go live.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { userShardKey } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LocalPublishTarget, openLocalPublishTarget } from '../../src/publish/local.js'
import {
  activateVersion,
  isPublished,
  publishVersion,
  readLivePointer,
  rollback,
  verifyPublished,
} from '../../src/publish/publisher.js'
import { corruptingPuts, MemoryStorage } from './memory-storage.js'
import { writeSyntheticVersion } from './synthetic-model.js'

const dims = 8
const dir = mkdtempSync(join(tmpdir(), 'edgerec-integrity-'))
const source = new MemoryStorage()
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute))
let target: LocalPublishTarget

beforeAll(async () => {
  for (const [i, version] of ['good-a', 'good-b', 'bad-c'].entries())
    await writeSyntheticVersion(source, { version, items: 60, users: 30, dims, createdAt: at(i) })
  const workerConfig = join(dir, 'wrangler.jsonc')
  writeFileSync(
    workerConfig,
    JSON.stringify({
      name: 'edgerec-integrity-test',
      compatibility_date: '2026-11-01',
      kv_namespaces: [{ binding: 'MODELS_KV', id: 'edgerec-models' }],
      r2_buckets: [{ binding: 'MODELS_R2', bucket_name: 'edgerec-models' }],
    }),
  )
  target = await openLocalPublishTarget({ workerConfig, persistTo: join(dir, 'state') })
}, 60_000)

afterAll(async () => {
  await target?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('one integrity check on every path that makes a version live (issue 13, finding 4)', () => {
  it('should refuse to make a version live when a user shard arrived corrupted on the target', async () => {
    await publishVersion({ source, version: 'good-a', target, now: () => at(10) })
    const faulty = { ...target, objects: corruptingPuts(target.objects, (key) => key.includes('/users-')) }
    const error = await publishVersion({ source, version: 'bad-c', target: faulty }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'PUBLISH_FAILED',
      message: expect.stringContaining('SHARD_CHECKSUM_MISMATCH'),
    })
    expect((await readLivePointer(target))?.version).toBe('good-a')
  })

  it('should refuse rollback and activation of a version whose user shard was corrupted after publishing', async () => {
    await publishVersion({ source, version: 'good-b', target, now: () => at(11) })
    expect(await readLivePointer(target)).toMatchObject({ version: 'good-b', previous: 'good-a' })
    // Same size, one byte flipped: the old size-only check (isPublished) still says complete.
    const key = userShardKey('good-a', 0)
    const bytes = (await target.objects.get(key))!
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff
    await target.objects.put(key, bytes)
    expect(await isPublished(target, 'good-a')).toBe(true)

    const check = await verifyPublished(target, 'good-a')
    expect(check.problems).toEqual([expect.objectContaining({ key, code: 'SHARD_CHECKSUM_MISMATCH' })])
    await expect(rollback({ target })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' })
    await expect(activateVersion({ target, version: 'good-a' })).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: expect.stringContaining(key),
    })
    expect((await readLivePointer(target))?.version).toBe('good-b')
  })
})

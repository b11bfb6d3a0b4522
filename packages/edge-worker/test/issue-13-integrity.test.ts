/**
 * Issue 13, finding 4: a corrupt user shard that went live (through any path that skipped the
 * check) marks the version degraded in `/v1/health` and `/v1/model` on first use, and the isolate
 * goes back to the previous good version; admin rollback verifies user shards like every shard.
 */
import { userBucket, userShardKey } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ModelStore } from '../src/model/model-store.js'
import { flipByte, publishVersion, setLive, trainClusteredModel } from './fixtures/model.js'
import { env, json } from './helpers.js'

type RecBody = { source: string; modelVersion: string | null }
type ModelBody = { version: string; degraded: boolean; lastError: { version: string; code: string } | null }

describe('a corrupt user shard found on first use (issue 13, finding 4)', () => {
  it('should mark the version degraded and serve the previous good version', async () => {
    const good = trainClusteredModel({ version: 'integrity-good', seed: 31 })
    await publishVersion(env, good)
    const store = new ModelStore()
    const app = createApp({ store })
    const user = good.users[0]!
    expect((await json<RecBody>(app, `/v1/users/${user.id}/recommendations`)).body).toMatchObject({
      source: 'model',
      modelVersion: 'integrity-good',
    })

    // A version whose user bucket was corrupted after its manifest was written, made live without a check.
    const bad = trainClusteredModel({ version: 'integrity-bad', seed: 31 })
    const bucket = userBucket(user.id, bad.userBuckets)
    await publishVersion(env, bad, {
      tamper: (key, bytes) => (key === userShardKey('integrity-bad', bucket) ? flipByte(bytes) : bytes),
    })
    await json(app, '/v1/health')
    await store.settled()
    expect(store.live?.version).toBe('integrity-bad')

    // First use of the bucket: the request is served without the user's trained row...
    const first = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`)
    expect(first.status).toBe(200)
    expect(first.body.source).not.toBe('model')
    // ...and the version is marked degraded at once.
    const health = await json<{ status: string }>(app, '/v1/health')
    expect(health.body.status).toBe('degraded')
    const model = await json<ModelBody>(app, '/v1/model')
    expect(model.body.degraded).toBe(true)
    expect(model.body.lastError).toMatchObject({ version: 'integrity-bad', code: 'SHARD_INVALID' })

    // The isolate goes back to the previous good version.
    await store.settled()
    const after = await json<RecBody>(app, `/v1/users/${user.id}/recommendations`)
    expect(after.body).toMatchObject({ source: 'model', modelVersion: 'integrity-good' })
    expect((await json<{ status: string; modelVersion: string }>(app, '/v1/health')).body).toEqual({
      status: 'degraded',
      modelVersion: 'integrity-good',
      reasons: ['model'],
    })
    await setLive(env, 'integrity-good')
  })
})

describe('admin rollback verifies user shards (issue 13, finding 4)', () => {
  it('should refuse to roll back to a version whose user shard is corrupt (409) and keep the pointer', async () => {
    const older = trainClusteredModel({ version: 'rollback-corrupt-old', seed: 32 })
    await publishVersion(env, older, {
      tamper: (key, bytes) => (key === userShardKey('rollback-corrupt-old', 1) ? flipByte(bytes) : bytes),
    })
    await publishVersion(env, trainClusteredModel({ version: 'rollback-corrupt-new', seed: 33 }))
    const app = createApp()
    const { status, body } = await json<{
      error: { code: string; details: { problems: { key: string; code: string }[] } }
    }>(app, '/v1/admin/models/rollback', { method: 'POST', as: 'secret' })
    expect(status).toBe(409)
    expect(body.error.code).toBe('MODEL_INVALID')
    expect(body.error.details.problems).toEqual([
      expect.objectContaining({
        key: userShardKey('rollback-corrupt-old', 1),
        code: 'SHARD_CHECKSUM_MISMATCH',
      }),
    ])
    expect((await env.MODELS_KV.get('models/live', 'json')) as { version: string }).toMatchObject({
      version: 'rollback-corrupt-new',
    })
  })
})

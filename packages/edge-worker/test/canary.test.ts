import { LIVE_POINTER_KEY } from '@edgerec/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import type { CanaryEvaluation } from '../src/experiments/canary-run.js'
import type { Experiment } from '../src/experiments/definition.js'
import { publishVersion, setLive, trainClusteredModel } from './fixtures/model.js'
import { env, json } from './helpers.js'

type ErrorBody = { error: { code: string; message: string } }
const app = createApp()
const secret = { as: 'secret' as const, method: 'POST' }

async function startCanary(body: Record<string, unknown>): Promise<Experiment> {
  const { status, body: created } = await json<Experiment>(app, '/v1/admin/models/canary-v2/canary', {
    ...secret,
    body: JSON.stringify(body),
  })
  expect(status).toBe(201)
  return created
}

/**
 * A synthetic impression stream: `n` shown lists per variant, of which `clicked[variant]` got a
 * click carrying their recId, written straight into D1 as the worker and the SDK would.
 */
async function stream(
  experiment: Experiment,
  n: number,
  clicked: { live: number; canary: number },
): Promise<void> {
  const at = (experiment.startedAt ?? Date.now()) + 1000
  const statements: D1PreparedStatement[] = []
  for (const variant of ['live', 'canary'] as const) {
    for (let i = 0; i < n; i++) {
      const recId = crypto.randomUUID()
      statements.push(
        env.DB.prepare(
          `INSERT INTO rec_lists (rec_id, surface, user_key, experiment_id, variant, model_version, source, items, served_at, shown_at) VALUES (?1, 'recommendations', ?2, ?3, ?4, 'v', 'model', 'i1\ni2', ?5, ?5)`,
        ).bind(recId, `${variant}-${i}-${experiment.id}`, experiment.id, variant, at),
      )
      if (i < clicked[variant])
        statements.push(
          env.DB.prepare(
            `INSERT INTO events (id, user_id, anonymous_id, item_id, type, value, timestamp, received_at, context) VALUES (?1, NULL, ?2, 'i1', 'click', NULL, ?3, ?3, ?4)`,
          ).bind(crypto.randomUUID(), `${variant}-${i}-${experiment.id}`, at + 10, JSON.stringify({ recId })),
        )
    }
  }
  for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200))
}

const evaluate = (id: string) => json<CanaryEvaluation>(app, `/v1/admin/experiments/${id}/evaluate`, secret)

describe('canary activation', () => {
  beforeAll(async () => {
    await publishVersion(env, trainClusteredModel({ version: 'canary-v1' }))
    await publishVersion(env, trainClusteredModel({ version: 'canary-v2', seed: 5 }), { activate: false })
  })

  it('should validate thresholds and the version', async () => {
    const bad = await json<ErrorBody>(app, '/v1/admin/models/canary-v2/canary', {
      ...secret,
      body: JSON.stringify({ share: 0.9, magic: 1 }),
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toContain('share')
    expect(bad.body.error.message).toContain('magic')
    const missing = await json<ErrorBody>(app, '/v1/admin/models/never-published/canary', secret)
    expect(missing.status).toBe(404)
  })

  it('should wait, then promote a canary whose CTR is not worse, moving the live pointer', async () => {
    const canary = await startCanary({ share: 0.5, minImpressions: 100, margin: 0.05 })
    expect([canary.kind, canary.status, canary.variants.map((v) => [v.name, v.weight])]).toEqual([
      'canary',
      'running',
      [
        ['live', 0.5],
        ['canary', 0.5],
      ],
    ])
    // One experiment per surface: an A/B cannot start next to it.
    const clash = await json<ErrorBody>(app, '/v1/admin/models/canary-v2/canary', secret)
    expect(clash.body.error.code).toBe('EXPERIMENT_CONFLICT')

    await stream(canary, 40, { live: 12, canary: 12 })
    const early = await evaluate(canary.id)
    expect(early.body.decision.action).toBe('wait')

    await stream(canary, 360, { live: 108, canary: 110 })
    const { status, body } = await evaluate(canary.id)
    expect(status).toBe(200)
    // 400 lists each, 120 vs 122 clicked: z = (0.305 − 0.3 + 0.05) / √(0.305·0.695/400 + 0.3·0.7/400).
    expect(body.decision.canary).toEqual({ impressions: 400, clicked: 122 })
    expect(body.decision.z).toBeCloseTo(0.055 / Math.sqrt((0.305 * 0.695) / 400 + (0.3 * 0.7) / 400), 6)
    expect(body.decision.action).toBe('promote')
    expect(body.pointer).toMatchObject({ version: 'canary-v2', previous: 'canary-v1' })
    expect(JSON.parse((await env.MODELS_KV.get(LIVE_POINTER_KEY))!)).toMatchObject({ version: 'canary-v2' })
    const after = await json<Experiment>(app, `/v1/admin/experiments/${canary.id}`, { as: 'secret' })
    expect(after.body.status).toBe('stopped')
    expect(after.body.outcome).toMatchObject({ action: 'promote' })
    expect(
      (await json<{ modelVersion: string }>(app, '/v1/users/anyone/recommendations')).body.modelVersion,
    ).toBe('canary-v2')
  })

  it('should roll back a worse canary without touching the live pointer', async () => {
    await setLive(env, 'canary-v1')
    const canary = await startCanary({ share: 0.2, minImpressions: 100, margin: 0.02 })
    await stream(canary, 300, { live: 90, canary: 30 })
    const { body } = await evaluate(canary.id)
    expect(body.decision.action).toBe('rollback')
    expect(body.pointer).toBeUndefined()
    expect(JSON.parse((await env.MODELS_KV.get(LIVE_POINTER_KEY))!)).toMatchObject({ version: 'canary-v1' })
    expect((await evaluate(canary.id)).status).toBe(409)
  })

  it('should roll back on the error-rate guardrail even with a good CTR', async () => {
    const canary = await startCanary({ share: 0.5, minImpressions: 100, margin: 0.05 })
    await stream(canary, 200, { live: 60, canary: 70 })
    const at = (canary.startedAt ?? Date.now()) + 5
    const rows: D1PreparedStatement[] = []
    for (let i = 0; i < 100; i++)
      for (const [variant, status] of [
        ['live', 200],
        ['canary', i < 10 ? 500 : 200],
      ] as const)
        rows.push(
          env.DB.prepare(
            `INSERT INTO request_metrics (at, route, status, latency_ms, source, variant) VALUES (?1, 'recommendations', ?2, 5, 'model', ?3)`,
          ).bind(at, status, variant),
        )
    await env.DB.batch(rows)
    const { body } = await evaluate(canary.id)
    expect([body.decision.action, body.decision.reason.startsWith('guardrail: canary error rate')]).toEqual([
      'rollback',
      true,
    ])
  })
})

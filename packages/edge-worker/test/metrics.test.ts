import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import type { Env } from '../src/env.js'
import { type MetricsReport, percentile } from '../src/metrics/report.js'
import { MetricsBuffer } from '../src/metrics/runtime.js'
import { publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, json } from './helpers.js'

describe('percentile', () => {
  it('should take the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 99)).toBe(99)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBe(0)
  })
})

describe('runtime metrics', () => {
  let fixture: ReturnType<typeof trainClusteredModel>
  beforeAll(async () => {
    fixture = trainClusteredModel({ version: 'metrics-v1' })
    await publishVersion(env, fixture)
  })

  it('should write a data point per request and answer the D1 report per route with the source mix', async () => {
    const points: AnalyticsEngineDataPoint[] = []
    const bindings: Env = {
      ...env,
      METRICS: {
        writeDataPoint: (point) => {
          points.push(point ?? {})
          env.METRICS?.writeDataPoint(point)
        },
      },
    }
    const buffer = new MetricsBuffer()
    const t0 = Date.now()
    const app = createApp({ metrics: buffer })
    const user = fixture.users[2]!.id
    for (let i = 0; i < 3; i++) await json(app, `/v1/users/${user}/recommendations?k=3`, { bindings })
    await json(app, '/v1/users/brand-new-metrics-user/recommendations?k=3', { bindings })
    await json(app, '/v1/popular?k=3', { bindings })
    await json(app, '/v1/popular?k=0', { bindings }) // 400
    await json(app, '/v1/health', { bindings }) // not measured
    await buffer.flush(env.DB)

    expect(points).toHaveLength(6)
    expect(points[0]).toMatchObject({
      blobs: ['recommendations', 'model', 'live'],
      indexes: ['recommendations'],
    })
    expect(points[0]!.doubles![1]).toBe(200)
    expect(points[0]!.doubles![0]).toBeGreaterThanOrEqual(0)

    const { status, body } = await json<MetricsReport>(app, `/v1/admin/metrics?since=${t0}`, {
      as: 'secret',
      bindings,
    })
    expect(status).toBe(200)
    expect(body.store).toBe('d1')
    const byRoute = Object.fromEntries(body.routes.map((r) => [r.route, r]))
    expect(byRoute.recommendations).toMatchObject({
      requests: 4,
      errors: 0,
      clientErrors: 0,
      sources: { model: 3, popular: 1 },
    })
    expect(byRoute.popular).toMatchObject({ requests: 2, clientErrors: 1, sources: { popular: 1 } })
    expect(byRoute.recommendations!.p99).toBeGreaterThanOrEqual(byRoute.recommendations!.p50)
    expect((await json(app, '/v1/admin/metrics', { bindings })).status).toBe(403)
    expect((await json(app, '/v1/admin/metrics?since=x', { as: 'secret', bindings })).status).toBe(400)
  })

  it('should read Analytics Engine through the SQL API when an account and token are set', async () => {
    const requests: { url: string; init: RequestInit }[] = []
    const fakeFetch = (async (url: string, init: RequestInit) => {
      requests.push({ url, init })
      return Response.json({
        data: [
          {
            route: 'recommendations',
            source: 'model',
            requests: 90,
            errors: 1,
            clientErrors: 2,
            p50: 4,
            p99: 20,
          },
          {
            route: 'recommendations',
            source: 'fold-in',
            requests: 10,
            errors: 0,
            clientErrors: 0,
            p50: 14,
            p99: 30,
          },
        ],
      })
    }) as unknown as typeof fetch
    const bindings: Env = { ...env, METRICS_ACCOUNT_ID: 'acc123', METRICS_API_TOKEN: 'tok' }
    const app = createApp({ fetch: fakeFetch })
    const { body } = await json<MetricsReport>(app, '/v1/admin/metrics?since=1000000&until=4600000', {
      as: 'secret',
      bindings,
    })
    expect(requests).toHaveLength(1)
    expect(requests[0]!.url).toBe('https://api.cloudflare.com/client/v4/accounts/acc123/analytics_engine/sql')
    expect(requests[0]!.init.method).toBe('POST')
    expect((requests[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok')
    expect(String(requests[0]!.init.body)).toContain('FROM edgerec_metrics')
    expect(String(requests[0]!.init.body)).toContain(
      'timestamp >= toDateTime(1000) AND timestamp < toDateTime(4600)',
    )
    expect(body.store).toBe('analytics-engine')
    expect(body.routes).toEqual([
      {
        route: 'recommendations',
        requests: 100,
        errors: 1,
        clientErrors: 2,
        p50: 5, // (4 · 90 + 14 · 10) / 100
        p99: 30,
        sources: { model: 90, 'fold-in': 10 },
      },
    ])
  })
})

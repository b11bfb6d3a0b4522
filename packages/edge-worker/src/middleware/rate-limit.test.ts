import { env as runtimeEnv } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { env, event, json } from '../../test/helpers.js'
import { createApp } from '../app.js'
import { clientKey } from './rate-limit.js'

/** Real rate limiters of the test runtime with tiny limits (vitest.config.ts), one per test. */
const tight = runtimeEnv as unknown as Record<
  'TEST_LIMIT_3_A' | 'TEST_LIMIT_3_B' | 'TEST_LIMIT_3_C' | 'TEST_LIMIT_3_D',
  RateLimit
>

function post(ip: string | undefined, as: 'publishable' | 'secret' = 'publishable') {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (ip) headers['cf-connecting-ip'] = ip
  return {
    method: 'POST',
    as,
    headers,
    body: JSON.stringify({ events: [event({ userId: 'rl-user', itemId: 'rl-item' })] }),
  } as const
}

describe('clientKey', () => {
  it('should key IPv4 by address and IPv6 by its /64 prefix, however the address is written (IPv4-mapped too)', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7')
    expect(clientKey('2001:db8:0:1:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:0:1::/64')
    expect(clientKey('2001:0DB8:0000:0001::1')).toBe('2001:db8:0:1::/64')
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(clientKey('2001:db8::')).toBe('2001:db8:0:0::/64')
    expect(clientKey('::1')).toBe('0:0:0:0::/64')
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(clientKey('::FFFF:198.51.100.1')).toBe('198.51.100.1')
    expect(clientKey(undefined)).toBeUndefined()
    expect(clientKey('')).toBeUndefined()
  })
})

describe('rate limits (Workers Rate Limiting binding)', () => {
  it('should bind the limiters of wrangler.jsonc', () => {
    expect(typeof env.EVENTS_RATE_LIMITER?.limit).toBe('function')
    expect(typeof env.READS_RATE_LIMITER?.limit).toBe('function')
  })

  it('should answer 429 RATE_LIMITED with Retry-After past the limit, counting per client', async () => {
    const app = createApp()
    const bindings = { ...env, EVENTS_RATE_LIMITER: tight.TEST_LIMIT_3_A }
    for (let i = 0; i < 3; i++) {
      const { status } = await json(app, '/v1/events', { ...post('198.51.100.1'), bindings })
      expect(status).toBe(200)
    }
    const limited = await json<{ error: { code: string; message: string } }>(app, '/v1/events', {
      ...post('198.51.100.1'),
      bindings,
    })
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('RATE_LIMITED')
    expect(limited.body.error.message).toContain('EVENTS_RATE_LIMITER')
    expect(limited.headers.get('retry-after')).toBe('60')
    // Another client has its own budget; the secret key (a server) and requests without an edge
    // address are not limited.
    expect((await json(app, '/v1/events', { ...post('198.51.100.2'), bindings })).status).toBe(200)
    expect((await json(app, '/v1/events', { ...post('198.51.100.1', 'secret'), bindings })).status).toBe(200)
    expect((await json(app, '/v1/events', { ...post(undefined), bindings })).status).toBe(200)
  })

  it('should limit reads with their own limiter and say so to a browser (CORS headers on the 429)', async () => {
    const app = createApp()
    const bindings = { ...env, READS_RATE_LIMITER: tight.TEST_LIMIT_3_B, RATE_LIMIT_PERIOD_SECONDS: '10' }
    const headers = { 'cf-connecting-ip': '2001:db8:7:7::1', origin: 'https://shop.example' }
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      // One /64: a host rotating its interface id stays one client.
      const ip = { ...headers, 'cf-connecting-ip': `2001:db8:7:7::${i + 1}` }
      statuses.push((await json(app, '/v1/popular?k=3', { headers: ip, bindings })).status)
    }
    expect(statuses.slice(0, 3).every((status) => status !== 429)).toBe(true)
    const limited = await json(app, '/v1/users/u1/recommendations', { headers, bindings })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('10')
    expect(limited.headers.get('access-control-allow-origin')).toBe('https://shop.example')
    // Events have their own budget.
    expect((await json(app, '/v1/events', { ...post('2001:db8:7:7::1'), bindings })).status).toBe(200)
  })

  it('should let requests through when the limiter fails, and log it', async () => {
    const app = createApp()
    const failing: RateLimit = {
      limit: () => Promise.reject(new Error('limiter unavailable')),
    }
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { status } = await json(app, '/v1/events', {
      ...post('198.51.100.9'),
      bindings: { ...env, EVENTS_RATE_LIMITER: failing },
    })
    expect(status).toBe(200)
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining('EVENTS_RATE_LIMITER failed'),
      expect.any(Error),
    )
    logged.mockRestore()
  })
})

describe('event quotas (issue 13: count events, not requests)', () => {
  const batch = (n: number, person: (i: number) => Record<string, string>) =>
    JSON.stringify({ events: Array.from({ length: n }, (_, i) => event({ ...person(i), itemId: `q-${i}` })) })
  const send = (app: ReturnType<typeof createApp>, body: string, ip: string, bindings: typeof env) =>
    json<{ accepted?: number; error?: { code: string; message: string } }>(app, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
      body,
      bindings,
    })

  it('should charge a client one quota unit per 25 events and refuse the batch past the quota, storing nothing', async () => {
    const app = createApp()
    // 3 units = 75 events per client per minute; the per-request limiter alone would allow it all.
    const bindings = { ...env, EVENTS_PER_CLIENT_LIMITER: tight.TEST_LIMIT_3_C }
    const anon = (i: number) => ({ anonymousId: `quota-anon-${crypto.randomUUID()}-${i}` })
    const first = await send(app, batch(50, anon), '192.0.2.10', bindings)
    expect(first.status).toBe(200)
    expect(first.body.accepted).toBe(50)
    const body = batch(50, anon)
    const refused = await send(app, body, '192.0.2.10', bindings)
    expect(refused.status).toBe(429)
    expect(refused.body.error?.code).toBe('RATE_LIMITED')
    expect(refused.body.error?.message).toContain('EVENTS_PER_CLIENT_LIMITER')
    expect(refused.headers.get('retry-after')).toBe('60')
    const ids = (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id)
    const { results } = await env.DB.prepare(
      `SELECT COUNT(*) AS n FROM events WHERE id IN (${ids.map(() => '?').join(',')})`,
    )
      .bind(...ids)
      .all<{ n: number }>()
    expect(results[0]!.n).toBe(0)
    // The secret key (a server) is not charged.
    const server = await json(app, '/v1/events', {
      method: 'POST',
      as: 'secret',
      headers: { 'content-type': 'application/json', 'cf-connecting-ip': '192.0.2.10' },
      body: batch(100, anon),
      bindings,
    })
    expect(server.status).toBe(200)
  })

  it('should charge each person in a batch, so many addresses cannot pile events onto one person', async () => {
    const app = createApp()
    const bindings = { ...env, EVENTS_PER_PERSON_LIMITER: tight.TEST_LIMIT_3_D }
    const victim = `quota-person-${crypto.randomUUID()}`
    const onVictim = () => ({ userId: victim })
    expect((await send(app, batch(60, onVictim), '192.0.2.21', bindings)).status).toBe(200)
    // Another address, same person: 25 more events are a 4th unit.
    const refused = await send(app, batch(25, onVictim), '192.0.2.22', bindings)
    expect(refused.status).toBe(429)
    expect(refused.body.error?.message).toContain('EVENTS_PER_PERSON_LIMITER')
    // Someone else from that address is fine.
    const other = await send(
      app,
      batch(25, () => ({ userId: `quota-other-${crypto.randomUUID()}` })),
      '192.0.2.22',
      bindings,
    )
    expect(other.status).toBe(200)
  })
})

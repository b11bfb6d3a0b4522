/**
 * Issue 13, finding 6 (smaller items): admin routes answer no CORS preflight, a client aborting
 * mid-body is a 400 and not an unhandled error, date-only ISO timestamps are accepted, `k` is
 * plain decimal only, the admin 413 does not talk about events.
 */
import { describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app.js'
import { env, event, json, KEYS } from './helpers.js'

type ErrorBody = { error: { code: string; message: string; details?: { field: string }[] } }
const app = createApp()

describe('smaller items of issue 13', () => {
  it('should answer no CORS preflight on admin routes, even for an allowed origin', async () => {
    for (const path of ['/v1/admin/models/rollback', '/v1/admin/users/u1']) {
      const response = await app.request(
        `https://edge.test${path}`,
        {
          method: 'OPTIONS',
          headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
        },
        env,
      )
      expect(response.headers.get('access-control-allow-origin')).toBeNull()
      expect(response.headers.get('access-control-allow-methods')).toBeNull()
    }
    // Other routes still answer preflights of allowed origins.
    const events = await app.request(
      'https://edge.test/v1/events',
      {
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
      },
      env,
    )
    expect(events.headers.get('access-control-allow-origin')).toBe('https://shop.example')
  })

  it('should answer 400 to a body that ends early, without logging an unhandled error', async () => {
    const errors = vi.spyOn(console, 'error')
    try {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"events":[{"id":"x'))
          controller.error(new Error('client went away'))
        },
      })
      const response = await app.request(
        'https://edge.test/v1/events',
        {
          method: 'POST',
          headers: { authorization: `Bearer ${KEYS.publishable}`, 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit,
        env,
      )
      expect(response.status).toBe(400)
      expect(((await response.json()) as ErrorBody).error.code).toBe('INVALID_REQUEST')
      expect(errors.mock.calls.some((args) => String(args[0]).includes('unhandled'))).toBe(false)
    } finally {
      errors.mockRestore()
    }
  })

  it('should accept a date-only ISO timestamp as midnight UTC', async () => {
    const today = new Date().toISOString().slice(0, 10)
    const id = crypto.randomUUID()
    const e = { ...event({ userId: 'date-only-user', itemId: 'date-only-item' }), id, timestamp: today }
    const { status, body } = await json<{ accepted: number }>(app, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [e] }),
    })
    expect(status).toBe(200)
    expect(body.accepted).toBe(1)
    const row = await env.DB.prepare('SELECT timestamp FROM events WHERE id = ?')
      .bind(id)
      .first<{ timestamp: number }>()
    expect(row?.timestamp).toBe(Date.parse(`${today}T00:00:00Z`))
  })

  it('should reject k written in hex, with an exponent or with spaces', async () => {
    for (const k of ['0x10', '1e2', '1.0', '+5', ' 5']) {
      const { status, body } = await json<ErrorBody>(app, `/v1/popular?k=${encodeURIComponent(k)}`)
      expect(status, k).toBe(400)
      expect(body.error.details?.[0]?.field).toBe('k')
    }
    expect((await json(app, '/v1/popular?k=16')).status).not.toBe(400)
  })

  it('should not talk about events in the 413 of an admin route', async () => {
    const { status, body } = await json<ErrorBody>(app, '/v1/admin/models/rollback', {
      method: 'POST',
      as: 'secret',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(20_000),
    })
    expect(status).toBe(413)
    expect(body.error.message).not.toMatch(/event/i)
  })
})

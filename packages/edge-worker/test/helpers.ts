/**
 * Shared test helpers: the bindings of the test runtime, and authenticated calls into an app.
 *
 * @module
 */
import { env as runtimeEnv } from 'cloudflare:workers'
import type { Hono } from 'hono'
import type { AppEnv, Env } from '../src/env.js'

/** The worker bindings of the test runtime (D1, KV, R2 and vars from wrangler.jsonc + vitest.config.ts). */
export const env = runtimeEnv as unknown as Env

/** The keys configured in vitest.config.ts. */
export const KEYS = { publishable: 'pk_test_publishable', secret: 'sk_test_secret' } as const
/** The `USER_TOKEN_SECRET` configured in vitest.config.ts (what a site's backend signs user tokens with). */
export const USER_TOKEN_SECRET = 'test-user-token-secret-0123456789abcdef'

/** Options of {@link call}. */
export interface CallInit extends RequestInit {
  /** Which key to send (default publishable); null sends none. */
  as?: keyof typeof KEYS | null
  /** Bindings to use instead of {@link env}. */
  bindings?: Env
}

/** Calls `app` like a client would, with `Authorization: Bearer <key>`. */
export async function call(app: Hono<AppEnv>, path: string, init: CallInit = {}): Promise<Response> {
  const { as = 'publishable', bindings = env, ...rest } = init
  const headers = new Headers(rest.headers)
  if (as !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${KEYS[as]}`)
  return app.request(`https://edge.test${path}`, { ...rest, headers }, bindings)
}

/** Calls and parses JSON. */
export async function json<T = Record<string, unknown>>(
  app: Hono<AppEnv>,
  path: string,
  init: CallInit = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await call(app, path, init)
  return { status: response.status, body: (await response.json()) as T, headers: response.headers }
}

/** Sends events through `POST /v1/events`, as the SDK does. */
export async function sendEvents(
  app: Hono<AppEnv>,
  events: Record<string, unknown>[],
): Promise<Record<string, unknown>> {
  const { status, body } = await json(app, '/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  })
  if (status !== 200) throw new Error(`POST /v1/events answered ${status}: ${JSON.stringify(body)}`)
  return body
}

/** A valid event with a fresh id, happening now unless `timestamp` is given. */
export function event(fields: {
  userId?: string
  anonymousId?: string
  itemId: string
  type?: string
  value?: number
  timestamp?: number
}): Record<string, unknown> {
  return { id: crypto.randomUUID(), type: 'view', timestamp: Date.now(), ...fields }
}

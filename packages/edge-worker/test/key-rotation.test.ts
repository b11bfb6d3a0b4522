/**
 * Rotating the API keys and the user-token secret without a window of refused requests
 * (docs/online.md, "Rotating keys and secrets"): while `PREVIOUS_SECRET_KEY`,
 * `PREVIOUS_PUBLISHABLE_KEY` or `PREVIOUS_USER_TOKEN_SECRET` hold the old value, requests with it
 * pass with exactly the rights of the current key; once deleted they are refused. A previous key
 * that is blank, short, equal to the current one or to a key of the other kind grants nothing, and a
 * refused request names the problem.
 */
import { signUserToken } from '@edgerec/core'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { createApp } from '../src/app.js'
import type { Env } from '../src/env.js'
import { publishVersion, trainClusteredModel } from './fixtures/model.js'
import { env, event, json, KEYS, USER_TOKEN_SECRET } from './helpers.js'

type ErrorBody = { error: { code: string; message: string; details?: { reason?: string } } }

const app = createApp()

beforeAll(async () => {
  // A live version, so reads answer 200 (what is read does not matter here, only who may read).
  await publishVersion(env, trainClusteredModel({ version: 'key-rotation-v1' }))
})
const OLD = { publishable: 'pk_live_before_rotation_0123', secret: 'sk_live_before_rotation_0123' }
/** During the window: the new keys (the test runtime's) and the old ones as previous keys. */
const during: Env = { ...env, PREVIOUS_PUBLISHABLE_KEY: OLD.publishable, PREVIOUS_SECRET_KEY: OLD.secret }
/** After the window: the previous keys deleted. */
const after: Env = { ...env, PREVIOUS_PUBLISHABLE_KEY: undefined, PREVIOUS_SECRET_KEY: undefined }

/** Calls `path` with `key` as the bearer key (or in `?key=` when `inQuery`). */
function withKey<T = ErrorBody>(path: string, key: string, bindings: Env, init: RequestInit = {}) {
  return json<T>(app, path, {
    ...init,
    as: null,
    bindings,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` },
  })
}

const beacon = (key: string, bindings: Env) =>
  json<ErrorBody>(app, `/v1/events?key=${encodeURIComponent(key)}`, {
    as: null,
    bindings,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: [event({ anonymousId: 'rotation-beacon', itemId: 'sku-1' })] }),
  })

describe('API keys during a rotation window', () => {
  it('should accept the previous secret key for admin routes while it is set, and refuse it after', async () => {
    expect((await withKey('/v1/admin/rules', OLD.secret, during)).status).toBe(200)
    expect((await withKey('/v1/admin/rules', KEYS.secret, during)).status).toBe(200)
    const refused = await withKey('/v1/admin/rules', OLD.secret, after)
    expect(refused.status).toBe(401)
    expect(refused.body.error.code).toBe('UNAUTHORIZED')
    expect((await withKey('/v1/admin/rules', KEYS.secret, after)).status).toBe(200)
  })

  it('should give the previous publishable key exactly the publishable rights, and refuse it after', async () => {
    expect((await withKey('/v1/popular?k=3', OLD.publishable, during)).status).toBe(200)
    expect((await beacon(OLD.publishable, during)).status).toBe(200)
    const admin = await withKey('/v1/admin/rules', OLD.publishable, during)
    expect(admin.status).toBe(403)
    expect(admin.body.error.code).toBe('FORBIDDEN')
    expect((await withKey('/v1/popular?k=3', OLD.publishable, after)).status).toBe(401)
    expect((await beacon(OLD.publishable, after)).status).toBe(401)
  })

  it('should refuse the previous secret key in ?key= like the current one', async () => {
    const { status, body } = await beacon(OLD.secret, during)
    expect(status).toBe(401)
    expect(body.error.message).toContain('sent in the URL')
  })

  it('should accept no empty key when the previous keys are blank', async () => {
    const blank: Env = { ...env, PREVIOUS_PUBLISHABLE_KEY: '', PREVIOUS_SECRET_KEY: '' }
    const empty = await json<ErrorBody>(app, '/v1/popular?k=3', {
      as: null,
      bindings: blank,
      headers: { 'x-edgerec-key': '' },
    })
    expect(empty.status).toBe(401)
    expect((await beacon('', blank)).status).toBe(401)
    expect((await withKey('/v1/popular?k=3', KEYS.publishable, blank)).status).toBe(200)
  })

  it('should ignore a previous key that is short, equal to the current one or of the other kind, and say so', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    // The old secret key reused as the new publishable key: the public key must not become admin.
    const crossed: Env = { ...env, PREVIOUS_SECRET_KEY: KEYS.publishable }
    const escalated = await withKey('/v1/admin/rules', KEYS.publishable, crossed)
    expect(escalated.status).toBe(403)
    const stranger = await withKey('/v1/admin/rules', OLD.secret, crossed)
    expect(stranger.status).toBe(401)
    // The 401 names the ignored secret; why (which key it equals) is only in the logs.
    expect(stranger.body.error.message).toContain('This worker ignores PREVIOUS_SECRET_KEY')
    expect(stranger.body.error.message).not.toContain('equals PUBLISHABLE_KEY')

    const short: Env = { ...env, PREVIOUS_SECRET_KEY: 'sk_short' }
    const shortKey = await withKey('/v1/admin/rules', 'sk_short', short)
    expect(shortKey.status).toBe(401)
    expect(shortKey.body.error.message).toContain('This worker ignores PREVIOUS_SECRET_KEY')
    expect(shortKey.body.error.message).not.toContain('shorter')

    const same: Env = { ...env, PREVIOUS_PUBLISHABLE_KEY: KEYS.publishable }
    expect((await withKey('/v1/popular?k=3', KEYS.publishable, same)).status).toBe(200)
    const other = await withKey('/v1/popular?k=3', OLD.publishable, same)
    expect(other.status).toBe(401)
    expect(other.body.error.message).toContain('This worker ignores PREVIOUS_PUBLISHABLE_KEY')
    // The logs say why (once per isolate and problem).
    expect(errors.mock.calls.map(([line]) => String(line))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('edgerec: PREVIOUS_SECRET_KEY equals PUBLISHABLE_KEY'),
        expect.stringContaining('edgerec: PREVIOUS_SECRET_KEY is shorter than 16 characters'),
        expect.stringContaining('edgerec: PREVIOUS_PUBLISHABLE_KEY equals PUBLISHABLE_KEY'),
      ]),
    )
    errors.mockRestore()
  })
})

describe('USER_TOKEN_SECRET during a rotation window', () => {
  const NEW_TOKEN_SECRET = 'new-user-token-secret-0123456789abcdef'
  const window: Env = {
    ...env,
    USER_TOKEN_SECRET: NEW_TOKEN_SECRET,
    PREVIOUS_USER_TOKEN_SECRET: USER_TOKEN_SECRET,
  }
  const closed: Env = { ...env, USER_TOKEN_SECRET: NEW_TOKEN_SECRET }
  const read = async (token: string, bindings: Env) =>
    json<ErrorBody>(app, '/v1/users/rotation-user/recommendations?k=3', {
      bindings,
      headers: { 'x-edgerec-user-token': token },
    })

  it('should accept tokens of the previous secret while it is set, and refuse them after', async () => {
    const old = await signUserToken('rotation-user', USER_TOKEN_SECRET)
    const fresh = await signUserToken('rotation-user', NEW_TOKEN_SECRET)
    expect((await read(old, window)).status).toBe(200)
    expect((await read(fresh, window)).status).toBe(200)
    const refused = await read(old, closed)
    expect(refused.status).toBe(401)
    expect(refused.body.error).toMatchObject({ code: 'USER_TOKEN_INVALID', details: { reason: 'signature' } })
    expect((await read(fresh, closed)).status).toBe(200)
  })

  it('should still refuse forged and expired tokens during the window', async () => {
    const forged = await signUserToken('rotation-user', 'someone-elses-secret-0123456789abcdef')
    const forgedAnswer = await read(forged, window)
    expect(forgedAnswer.status).toBe(401)
    expect(forgedAnswer.body.error.details?.reason).toBe('signature')
    const expired = await signUserToken('rotation-user', USER_TOKEN_SECRET, {
      ttlSeconds: 1,
      now: Date.now() - 3_600_000,
    })
    const expiredAnswer = await read(expired, window)
    expect(expiredAnswer.status).toBe(401)
    expect(expiredAnswer.body.error.details?.reason).toBe('expired')
  })

  it('should ignore a short previous secret and name the problem when a token fails', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    const short: Env = { ...closed, PREVIOUS_USER_TOKEN_SECRET: 'too-short-secret' }
    const { status, body } = await read(await signUserToken('rotation-user', USER_TOKEN_SECRET), short)
    expect(status).toBe(401)
    expect(body.error.message).toContain('This worker ignores PREVIOUS_USER_TOKEN_SECRET')
    expect(body.error.message).not.toContain('shorter')
    expect(errors.mock.calls.map(([line]) => String(line))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('edgerec: PREVIOUS_USER_TOKEN_SECRET is shorter than 32 bytes'),
      ]),
    )
    errors.mockRestore()
  })
})

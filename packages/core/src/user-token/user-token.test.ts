import { describe, expect, it } from 'vitest'
import { signUserToken, verifyUserToken } from './user-token.js'

const SECRET = '0123456789abcdef0123456789abcdef'
/** Computed outside this code with `openssl dgst -sha256 -hmac` over `header.payload` (base64url). */
const OPENSSL_TOKEN =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDkwMH0.k7dUttYqkqbDokjGtCtCizpbHClgSRn6FouTWnMMJqM'
const IAT_MS = 1_700_000_000_000

describe('signUserToken', () => {
  it('should produce the same compact JWT as an independent HS256 implementation (openssl)', async () => {
    expect(await signUserToken('user-1', SECRET, { ttlSeconds: 900, now: IAT_MS })).toBe(OPENSSL_TOKEN)
  })

  it('should refuse a secret shorter than 32 bytes, an empty user id and a ttl out of range', async () => {
    await expect(signUserToken('u', 'short')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(signUserToken('', SECRET)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(signUserToken('u', SECRET, { ttlSeconds: 0 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
    await expect(signUserToken('u', SECRET, { ttlSeconds: 8 * 86_400 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
})

describe('verifyUserToken', () => {
  it('should accept the openssl-signed token inside its lifetime and return its claims', async () => {
    const result = await verifyUserToken(OPENSSL_TOKEN, SECRET, { now: IAT_MS + 10_000 })
    expect(result).toEqual({ ok: true, claims: { sub: 'user-1', iat: 1_700_000_000, exp: 1_700_000_900 } })
  })

  it('should refuse an expired token once the leeway has passed', async () => {
    const within = await verifyUserToken(OPENSSL_TOKEN, SECRET, { now: IAT_MS + 950_000 })
    expect(within.ok).toBe(true)
    const after = await verifyUserToken(OPENSSL_TOKEN, SECRET, { now: IAT_MS + 961_000 })
    expect(after).toMatchObject({ ok: false, reason: 'expired' })
  })

  it('should refuse a token signed with another secret', async () => {
    const other = await signUserToken('user-1', 'another-secret-of-at-least-32-bytes!', { now: IAT_MS })
    expect(await verifyUserToken(other, SECRET, { now: IAT_MS })).toMatchObject({
      ok: false,
      reason: 'signature',
    })
  })

  it('should refuse a token whose claims were changed after signing', async () => {
    const [h, , s] = OPENSSL_TOKEN.split('.')
    const forged = btoa(JSON.stringify({ sub: 'victim', iat: 1_700_000_000, exp: 1_700_000_900 }))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '')
    expect(await verifyUserToken(`${h}.${forged}.${s}`, SECRET, { now: IAT_MS })).toMatchObject({
      ok: false,
      reason: 'signature',
    })
  })

  it('should refuse alg "none" and other algorithms', async () => {
    const none = `${btoa('{"alg":"none","typ":"JWT"}').replace(/=+$/, '')}.${OPENSSL_TOKEN.split('.')[1]}.`
    expect(await verifyUserToken(none, SECRET, { now: IAT_MS })).toMatchObject({
      ok: false,
      reason: 'algorithm',
    })
  })

  it('should refuse malformed tokens without throwing', async () => {
    for (const bad of ['', 'a.b', 'a.b.c.d', '!!.??.**', 'x'.repeat(5000), 'e30.e30.']) {
      const result = await verifyUserToken(bad, SECRET, { now: IAT_MS })
      expect(result.ok, bad.slice(0, 20)).toBe(false)
    }
  })

  it('should refuse a token issued in the future beyond the leeway', async () => {
    const future = await signUserToken('u', SECRET, { now: IAT_MS + 3_600_000 })
    expect(await verifyUserToken(future, SECRET, { now: IAT_MS })).toMatchObject({
      ok: false,
      reason: 'not_yet_valid',
    })
  })
})

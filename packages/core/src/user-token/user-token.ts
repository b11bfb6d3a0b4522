/**
 * User tokens: proof, for the edge worker, that a request comes from the signed-in person it is about.
 * A compact JWS (RFC 7515) of a JWT (RFC 7519) signed with HMAC-SHA-256 (`alg: "HS256"`), claims
 * `sub` (the user id), `iat` and `exp` (epoch seconds). The site's backend mints one per signed-in
 * user with {@link signUserToken} and the SDK sends it as `x-edgerec-user-token`; the worker checks
 * it with {@link verifyUserToken}. Web Crypto only (Workers, browsers, Node ≥ 20).
 *
 * @module
 */
import { CoreError } from '../errors.js'

/** Claims of a user token. */
export interface UserTokenClaims {
  /** The user id the token speaks for. */
  sub: string
  /** Issued at, epoch seconds. */
  iat: number
  /** Expires at, epoch seconds. */
  exp: number
}

/** Options of {@link signUserToken}. */
export interface SignUserTokenOptions {
  /** Lifetime in seconds (1 s to 7 days). Default 900 (15 min). */
  ttlSeconds?: number
  /** Clock in epoch ms. Default `Date.now()`. */
  now?: number
}

/** Options of {@link verifyUserToken}. */
export interface VerifyUserTokenOptions {
  /** Clock in epoch ms. Default `Date.now()`. */
  now?: number
  /** Clock skew tolerated on `exp` and `iat`, in seconds. Default 60. */
  leewaySeconds?: number
}

/** Why a token was refused. */
export type UserTokenFailure = 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not_yet_valid'

/** Result of {@link verifyUserToken}. */
export type UserTokenResult =
  | { ok: true; claims: UserTokenClaims }
  | { ok: false; reason: UserTokenFailure; message: string }

/** Default lifetime of a minted token. */
export const USER_TOKEN_DEFAULT_TTL_SECONDS = 900
/** Longest lifetime {@link signUserToken} mints. */
export const USER_TOKEN_MAX_TTL_SECONDS = 7 * 24 * 3600
/** Shortest secret accepted: 32 bytes, the HMAC-SHA-256 block-size guidance of RFC 7518 §3.2. */
export const USER_TOKEN_MIN_SECRET_BYTES = 32
/** Longest token the worker reads (a header, bounded before any crypto). */
export const USER_TOKEN_MAX_LENGTH = 2048

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const HEADER = base64url(encoder.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })))

function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const out = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
    return out
  } catch {
    return null
  }
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  const raw = encoder.encode(secret)
  if (raw.length < USER_TOKEN_MIN_SECRET_BYTES) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `The user-token secret is ${raw.length} bytes; use at least ${USER_TOKEN_MIN_SECRET_BYTES} random bytes (e.g. "openssl rand -base64 48").`,
    )
  }
  return crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
}

/**
 * Mints a user token for `userId`, signed with `secret` (the worker's `USER_TOKEN_SECRET`).
 *
 * @example
 * ```ts
 * // On your backend, after the person signed in:
 * const token = await signUserToken(session.userId, process.env.EDGEREC_USER_TOKEN_SECRET!, { ttlSeconds: 900 })
 * ```
 * @throws {@link CoreError} `INVALID_ARGUMENT` for an empty user id, a short secret or a ttl out of range
 * @see docs/privacy.md
 */
export async function signUserToken(
  userId: string,
  secret: string,
  options: SignUserTokenOptions = {},
): Promise<string> {
  const ttl = options.ttlSeconds ?? USER_TOKEN_DEFAULT_TTL_SECONDS
  if (typeof userId !== 'string' || userId.length === 0)
    throw new CoreError('INVALID_ARGUMENT', 'userId must be a non-empty string.')
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > USER_TOKEN_MAX_TTL_SECONDS) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `ttlSeconds must be an integer from 1 to ${USER_TOKEN_MAX_TTL_SECONDS}; got ${ttl}.`,
    )
  }
  const iat = Math.floor((options.now ?? Date.now()) / 1000)
  const claims: UserTokenClaims = { sub: userId, iat, exp: iat + ttl }
  const signingInput = `${HEADER}.${base64url(encoder.encode(JSON.stringify(claims)))}`
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(signingInput))
  return `${signingInput}.${base64url(new Uint8Array(signature))}`
}

function fail(reason: UserTokenFailure, message: string): UserTokenResult {
  return { ok: false, reason, message }
}

/**
 * Checks a user token: three base64url parts, header `alg: "HS256"`, a valid HMAC-SHA-256 signature
 * under `secret` (compared in constant time by `crypto.subtle.verify`), string `sub`, and `iat ≤ now
 * < exp` within the leeway. Never throws for a bad token; throws only for a bad secret.
 *
 * @example
 * ```ts
 * const result = await verifyUserToken(header, env.USER_TOKEN_SECRET)
 * if (result.ok) console.log(result.claims.sub)
 * ```
 * @throws {@link CoreError} `INVALID_ARGUMENT` when `secret` is shorter than 32 bytes
 */
export async function verifyUserToken(
  token: string,
  secret: string,
  options: VerifyUserTokenOptions = {},
): Promise<UserTokenResult> {
  const key = await hmacKey(secret)
  if (token.length > USER_TOKEN_MAX_LENGTH) return fail('malformed', 'The user token is too long.')
  const parts = token.split('.')
  if (parts.length !== 3)
    return fail('malformed', 'The user token is not a compact JWT (three dot-separated parts).')
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const headerBytes = fromBase64url(headerPart)
  const payloadBytes = fromBase64url(payloadPart)
  const signature = fromBase64url(signaturePart)
  if (!headerBytes || !payloadBytes || !signature)
    return fail('malformed', 'The user token is not base64url.')
  let header: unknown
  let payload: unknown
  try {
    header = JSON.parse(decoder.decode(headerBytes))
    payload = JSON.parse(decoder.decode(payloadBytes))
  } catch {
    return fail('malformed', 'The user token header or claims are not JSON.')
  }
  if (!header || typeof header !== 'object' || (header as { alg?: unknown }).alg !== 'HS256')
    return fail('algorithm', 'The user token is not signed with HS256.')
  const valid = await crypto.subtle.verify(
    'HMAC',
    key,
    signature as Uint8Array<ArrayBuffer>,
    encoder.encode(`${headerPart}.${payloadPart}`),
  )
  if (!valid) return fail('signature', 'The user token signature does not match this worker’s secret.')
  const claims = payload as Partial<UserTokenClaims> | null
  if (
    !claims ||
    typeof claims.sub !== 'string' ||
    claims.sub.length === 0 ||
    typeof claims.exp !== 'number' ||
    !Number.isFinite(claims.exp) ||
    (claims.iat !== undefined && (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat)))
  ) {
    return fail('malformed', 'The user token lacks a string "sub" or a numeric "exp".')
  }
  const now = (options.now ?? Date.now()) / 1000
  const leeway = options.leewaySeconds ?? 60
  if (now >= claims.exp + leeway) return fail('expired', 'The user token has expired.')
  if (claims.iat !== undefined && claims.iat > now + leeway)
    return fail('not_yet_valid', 'The user token is issued in the future.')
  return { ok: true, claims: { sub: claims.sub, iat: claims.iat ?? 0, exp: claims.exp } }
}

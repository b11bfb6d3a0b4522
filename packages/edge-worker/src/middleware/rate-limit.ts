/**
 * Per-client rate limits on what the publishable key may do, with the Workers Rate Limiting
 * binding (`ratelimits` in wrangler.jsonc). The publishable key is public (it ships in pages), so
 * the limits are what stands between one abusive client and the D1 write budget or the CPU of
 * scoring.
 *
 * - A client is its `CF-Connecting-IP` (set by Cloudflare's edge; clients cannot forge it); an IPv6
 *   client counts as its /64, since one host may hold the whole prefix.
 * - Only publishable-key requests are limited: the secret key is a server's, and a server that
 *   sends events for many users would hit a per-client limit at once.
 * - Counts are per Cloudflare location and approximate (the binding's semantics); a limiter that
 *   fails lets the request through, since refusing every request would be worse than over-serving.
 *
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { readConfig } from '../config.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'

/** The limiter bindings, one per kind of work. */
export type RateLimiterBinding = 'EVENTS_RATE_LIMITER' | 'READS_RATE_LIMITER'

/**
 * The key of a client address: an IPv4 address as it is (also when written IPv4-mapped), an IPv6
 * address as its /64 prefix (`2001:db8:0:1::/64`), `undefined` without an address.
 */
export function clientKey(address: string | undefined): string | undefined {
  if (!address) return undefined
  // NOTE: an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is its IPv4 client, not the /64 `0:0:0:0`
  // that every such address would otherwise share.
  if (address.includes('.')) return address.slice(address.lastIndexOf(':') + 1)
  if (!address.includes(':')) return address
  const [head = '', tail] = address.toLowerCase().split('::')
  const headGroups = head ? head.split(':') : []
  // NOTE: "a:b::c" hides zero groups in the "::"; the first four groups are the /64.
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(8 - headGroups.length - (tail ? tail.split(':').length : 0)).fill('0')]
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

/**
 * Answers `429 RATE_LIMITED` with `Retry-After` when the client is over the limit of `binding`.
 * Runs after {@link apiKeyAuth} (it reads the role). Without the binding (a worker deployed
 * without `ratelimits`) or without a client address (a request that did not come through
 * Cloudflare's edge: `wrangler dev`, tests, service bindings), requests are not limited.
 */
export function rateLimit(binding: RateLimiterBinding): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const limiter = c.env[binding]
    const key = clientKey(c.req.header('cf-connecting-ip'))
    if (limiter && key && c.get('role') === 'publishable') {
      let allowed = true
      try {
        allowed = (await limiter.limit({ key })).success
      } catch (error) {
        console.error(`edgerec: the rate limiter ${binding} failed; the request was let through`, error)
      }
      if (!allowed) {
        const seconds = readConfig(c.env).rateLimitPeriodSeconds
        c.header('Retry-After', String(seconds))
        throw new ApiError(
          'RATE_LIMITED',
          `Too many requests from this client (${binding}). Retry after ${seconds} s; if real traffic hits this, raise the limit of ${binding} in wrangler.jsonc.`,
        )
      }
    }
    await next()
  }
}

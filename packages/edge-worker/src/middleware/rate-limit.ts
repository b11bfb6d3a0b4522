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
import type { Context, MiddlewareHandler } from 'hono'
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

/** Events one call of an event-quota limiter stands for (the binding counts calls, not events). */
export const EVENTS_PER_QUOTA_UNIT = 25

/** The event-quota limiters: events per client address and events per person. */
export type EventQuotaBinding = 'EVENTS_PER_CLIENT_LIMITER' | 'EVENTS_PER_PERSON_LIMITER'

/** Calls `limiter` `units` times for `key`; false when any call is over the limit. */
async function charge(limiter: RateLimit, key: string, units: number): Promise<boolean> {
  const results = await Promise.all(Array.from({ length: units }, () => limiter.limit({ key })))
  return results.every((r) => r.success)
}

/**
 * Event quotas of the publishable key (issue 13): the request limiter counts requests, so one
 * address could send 500 events per request; these count **events**. The Rate Limiting binding
 * counts calls, so a batch is charged one call per {@link EVENTS_PER_QUOTA_UNIT} events (rounded
 * up): against `EVENTS_PER_CLIENT_LIMITER` keyed by the client address, and against
 * `EVENTS_PER_PERSON_LIMITER` keyed by each person in the batch (`userId`, else `anonymousId`), so
 * many addresses cannot pile events onto one person either. Over either quota the whole batch is
 * refused with 429 before anything is stored (the SDK keeps and retries it). Secret key, missing
 * bindings or a missing client address: not charged; a failing limiter lets the batch through.
 *
 * @throws {@link ApiError} `RATE_LIMITED`
 */
export async function chargeEventQuotas(
  c: Context<AppEnv>,
  events: readonly { userId?: string; anonymousId?: string }[],
): Promise<void> {
  if (c.get('role') !== 'publishable' || events.length === 0) return
  const client = clientKey(c.req.header('cf-connecting-ip'))
  if (!client) return
  const perPerson = new Map<string, number>()
  for (const e of events) {
    const person = e.userId ?? e.anonymousId
    if (person !== undefined) perPerson.set(person, (perPerson.get(person) ?? 0) + 1)
  }
  const units = (n: number) => Math.ceil(n / EVENTS_PER_QUOTA_UNIT)
  const checks: [EventQuotaBinding, Promise<boolean>][] = []
  const byClient = c.env.EVENTS_PER_CLIENT_LIMITER
  if (byClient) checks.push(['EVENTS_PER_CLIENT_LIMITER', charge(byClient, client, units(events.length))])
  const byPerson = c.env.EVENTS_PER_PERSON_LIMITER
  if (byPerson) {
    for (const [person, n] of perPerson)
      checks.push(['EVENTS_PER_PERSON_LIMITER', charge(byPerson, `person:${person}`, units(n))])
  }
  for (const [binding, check] of checks) {
    let allowed = true
    try {
      allowed = await check
    } catch (error) {
      console.error(`edgerec: the event quota ${binding} failed; the batch was let through`, error)
    }
    if (!allowed) {
      const seconds = readConfig(c.env).rateLimitPeriodSeconds
      c.header('Retry-After', String(seconds))
      throw new ApiError(
        'RATE_LIMITED',
        `Too many events (${binding}, counted per ${EVENTS_PER_QUOTA_UNIT} events); nothing of this batch was stored. Retry after ${seconds} s; if real traffic hits this, raise the limit of ${binding} in wrangler.jsonc.`,
      )
    }
  }
}

/**
 * Retry timing: exponential backoff with full jitter, and `Retry-After` parsing.
 *
 * @module
 */

/**
 * Delay before retry number `attempt` (0-based), "full jitter" from Brooker, *Exponential Backoff
 * And Jitter* (AWS Architecture Blog, 2015): `sleep = random(0, min(cap, base · 2^attempt))`.
 * Spreading retries uniformly over the whole window keeps many clients that failed together from
 * retrying together.
 *
 * @param attempt - consecutive failures before this retry, from 0
 * @param baseMs - `base`, the first window
 * @param capMs - `cap`, the largest window
 * @param random - uniform in [0, 1)
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt))
}

/**
 * Milliseconds from `now` that a `Retry-After` header asks to wait: delta-seconds (`"120"`) or an
 * HTTP-date (`"Wed, 21 Oct 2026 07:28:00 GMT"`), RFC 9110 §10.2.3. Past dates give 0; a missing or
 * unreadable header gives `undefined`.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  // NOTE: `< Infinity` sends NaN and Infinity to the date form (undefined); -Infinity waits 0 like a past date.
  const ms = seconds < Infinity ? seconds * 1000 : Date.parse(value) - now
  return ms > 0 ? ms : ms <= 0 ? 0 : undefined
}

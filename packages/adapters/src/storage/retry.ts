import { isEdgerecError } from '@edgerec/core'

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 5. */
  retries?: number
  /** First delay cap, in ms. Default 200. */
  baseDelayMs?: number
  /** Largest delay cap, in ms. Default 10 000. */
  maxDelayMs?: number
  /** Which errors to retry. Default {@link isThrottleOrUnavailable}. */
  isRetryable?: (error: unknown) => boolean
  /** Called before each retry (logging, counting). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
  /** How to wait; tests pass a fake. Default `setTimeout`. */
  sleep?: (ms: number) => Promise<void>
  /** Source of randomness in [0, 1) for the jitter; tests pass a fixed one. Default `Math.random`. */
  random?: () => number
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504])
const THROTTLE_NAMES = new Set([
  'SlowDown',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServerBusy',
])

/**
 * True for throttling and transient unavailability: an edgerec `THROTTLED` / `UNAVAILABLE` error,
 * an HTTP 429/500/502/503/504, or a provider error named `SlowDown`, `ThrottlingException`,
 * `TooManyRequestsException`, `RequestLimitExceeded` or `ServerBusy`.
 */
export function isThrottleOrUnavailable(error: unknown): boolean {
  if (isEdgerecError(error)) return error.code === 'THROTTLED' || error.code === 'UNAVAILABLE'
  if (typeof error !== 'object' || error === null) return false
  const e = error as {
    name?: unknown
    code?: unknown
    status?: unknown
    statusCode?: unknown
    $metadata?: { httpStatusCode?: unknown }
  }
  const status = e.status ?? e.statusCode ?? e.$metadata?.httpStatusCode
  if (typeof status === 'number' && RETRYABLE_STATUS.has(status)) return true
  return (
    (typeof e.name === 'string' && THROTTLE_NAMES.has(e.name)) ||
    (typeof e.code === 'string' && THROTTLE_NAMES.has(e.code))
  )
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `operation`, retrying the failures `isRetryable` accepts with exponential backoff and full
 * jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): before retry n (0-based),
 * wait `random(0, min(maxDelay, base · 2ⁿ))`. The last error is rethrown unchanged.
 *
 * @example
 * ```ts
 * const bytes = await withRetry(() => storage.get(key), { retries: 3 })
 * ```
 */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 5
  const base = options.baseDelayMs ?? 200
  const cap = options.maxDelayMs ?? 10_000
  const isRetryable = options.isRetryable ?? isThrottleOrUnavailable
  const sleep = options.sleep ?? defaultSleep
  const random = options.random ?? Math.random
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation()
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error
      const delay = random() * Math.min(cap, base * 2 ** attempt)
      options.onRetry?.(error, attempt + 1, delay)
      await sleep(delay)
    }
  }
}

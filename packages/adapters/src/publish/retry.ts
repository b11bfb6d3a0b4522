import { isEdgerecError } from '@edgerec/core'

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 5. */
  retries?: number
  /** First delay. Default 200 ms. */
  baseDelayMs?: number
  /** Delay cap. Default 10 s. */
  maxDelayMs?: number
  /** Which errors to retry. Default {@link isThrottleOrUnavailable}. */
  isRetryable?: (error: unknown) => boolean
  /** Called before each retry (logging). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

/**
 * True for throttling and transient unavailability: an edgerec `THROTTLED` / `UNAVAILABLE` error,
 * HTTP 429/500/502/503/504, or an AWS `SlowDown`/`ThrottlingException`.
 */
export function isThrottleOrUnavailable(error: unknown): boolean {
  if (isEdgerecError(error)) return error.code === 'THROTTLED' || error.code === 'UNAVAILABLE'
  const e = error as {
    name?: unknown
    status?: unknown
    statusCode?: unknown
    $metadata?: { httpStatusCode?: unknown }
  }
  const status = e?.status ?? e?.statusCode ?? e?.$metadata?.httpStatusCode
  if (status === 429 || status === 500 || status === 502 || status === 503 || status === 504) return true
  return e?.name === 'SlowDown' || e?.name === 'ThrottlingException' || e?.name === 'TooManyRequestsException'
}

/**
 * Runs `operation`, retrying retryable failures with exponential backoff and full jitter:
 * delay_n = random(0, min(maxDelay, base · 2ⁿ)).
 */
export async function withRetry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 5
  const base = options.baseDelayMs ?? 200
  const cap = options.maxDelayMs ?? 10_000
  const isRetryable = options.isRetryable ?? isThrottleOrUnavailable
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation()
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error
      const delay = Math.random() * Math.min(cap, base * 2 ** attempt)
      options.onRetry?.(error, attempt + 1, delay)
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}

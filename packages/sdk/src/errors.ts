/**
 * Errors of `@edgerec/sdk`.
 *
 * The SDK ships no runtime code from `@edgerec/core`, so {@link SdkError} mirrors core's
 * `EdgerecError` (same `code`, `message`, `cause`): core's `isEdgerecError()` recognises it by shape.
 * HTTP answers ({@link EdgerecClientError}) and failures to get any answer ({@link EdgerecNetworkError})
 * are separate classes, so retry logic can tell them apart.
 *
 * @module
 */

/** Codes the SDK raises itself. Server codes (e.g. `INVALID_EVENTS`, `UNAUTHORIZED`) pass through unchanged. */
export const SDK_ERROR_CODES = {
  /** No answer: DNS, connection refused or reset, CORS, offline. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** No answer within `timeoutMs`. */
  TIMEOUT: 'TIMEOUT',
  /** The server answered an error status without an edgerec error body. */
  HTTP_ERROR: 'HTTP_ERROR',
  /** The app called the SDK with bad arguments. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The server rejected an event (field errors in `details`); the event was dropped. */
  EVENT_REJECTED: 'EVENT_REJECTED',
  /** The queue was full; the oldest events were dropped. */
  QUEUE_OVERFLOW: 'QUEUE_OVERFLOW',
  /** The persistent storage failed; the queue lives in memory only until it recovers. */
  STORAGE_ERROR: 'STORAGE_ERROR',
  /** A bug in the SDK: an unexpected throw, wrapped. */
  INTERNAL: 'INTERNAL',
} as const

/** A code from {@link SDK_ERROR_CODES}. */
export type SdkErrorCode = keyof typeof SDK_ERROR_CODES

/** Base class of every error the SDK reports or throws. */
export class SdkError extends Error {
  /** Stable, machine-readable code (SCREAMING_SNAKE): an {@link SdkErrorCode} or the server's code. */
  declare readonly code: SdkErrorCode | (string & {})
  /** Extra data: the rejected event and its field errors, the server's `details`… */
  declare readonly details: unknown

  constructor(
    code: SdkErrorCode | (string & {}),
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options)
    // NOTE: `declare` fields emit no class-field initializers; the name is spelled out because
    // minifiers rename classes.
    Object.assign(this, { name: 'SdkError', code, details: options?.details })
  }
}

/**
 * The server answered with an error status. `code` is the server's error code
 * (`{ error: { code, message } }`), or `HTTP_ERROR` when the body was not an edgerec error.
 *
 * @example
 * ```ts
 * try { await recs.similar('sku-1') } catch (e) {
 *   if (e instanceof EdgerecClientError && e.code === 'ITEM_NOT_FOUND') showPopular()
 * }
 * ```
 */
export class EdgerecClientError extends SdkError {
  /** HTTP status of the answer. */
  declare readonly status: number
  /** Milliseconds the server asked to wait (`Retry-After`), if it said. */
  declare readonly retryAfterMs: number | undefined

  constructor(
    code: string,
    message: string,
    status: number,
    options?: { details?: unknown; retryAfterMs?: number },
  ) {
    super(code, message, options)
    Object.assign(this, { name: 'EdgerecClientError', status, retryAfterMs: options?.retryAfterMs })
  }
}

/** No answer arrived: the network failed or the request timed out (`code` `NETWORK_ERROR` or `TIMEOUT`). */
export class EdgerecNetworkError extends SdkError {
  constructor(code: 'NETWORK_ERROR' | 'TIMEOUT', message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'EdgerecNetworkError'
  }
}

/**
 * The default retry predicate: network errors, timeouts, `408`, `429`, `5xx` and a `2xx` whose body
 * could not be read (cut by a proxy: the answer was lost) are worth retrying; other `4xx` answers
 * will not change by sending the same request again.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof EdgerecNetworkError) return true
  const status = (error as EdgerecClientError | undefined)?.status
  return status === 408 || status === 429 || status! >= 500 || (status ?? 300) < 300
}

/**
 * Error codes and the API error class of the edge worker. Every failure leaves the worker as
 * `{ "error": { "code", "message", "details"? } }` with the status below.
 *
 * @module
 */
import { EdgerecError } from '@edgerec/core'

/** Stable API error codes and their HTTP status. */
export const API_ERRORS = {
  INVALID_REQUEST: 400,
  INVALID_EVENTS: 400,
  INVALID_ITEMS: 400,
  INVALID_PARAMETER: 400,
  UNAUTHORIZED: 401,
  USER_TOKEN_INVALID: 401,
  FORBIDDEN: 403,
  USER_TOKEN_REQUIRED: 403,
  NOT_FOUND: 404,
  ITEM_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  EXPERIMENT_NOT_FOUND: 404,
  SHADOW_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  MODEL_INVALID: 409,
  EXPERIMENT_CONFLICT: 409,
  SHADOW_CONFLICT: 409,
  /** A version for an experiment, canary or shadow that cannot fit `MODEL_MEMORY_MIB` next to the live one. */
  MODEL_TOO_LARGE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  NO_MODEL: 503,
  STORAGE_UNAVAILABLE: 503,
} as const

/** A code from {@link API_ERRORS}. */
export type ApiErrorCode = keyof typeof API_ERRORS

/** An error the API answers with; thrown from handlers and rendered by the app's error handler. */
export class ApiError extends EdgerecError<ApiErrorCode> {
  readonly status: (typeof API_ERRORS)[ApiErrorCode]
  readonly details: unknown

  constructor(code: ApiErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(code, message, options)
    this.name = 'ApiError'
    this.status = API_ERRORS[code]
    this.details = options?.details
  }

  /** The JSON body of the error response. */
  toJSON(): { error: { code: ApiErrorCode; message: string; details?: unknown } } {
    const error: { code: ApiErrorCode; message: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    }
    if (this.details !== undefined) error.details = this.details
    return { error }
  }
}

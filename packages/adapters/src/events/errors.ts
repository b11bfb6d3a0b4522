/**
 * Errors of the event sources.
 *
 * NOTE: these codes belong in the package's one code map (`src/errors.ts`); they live here until the
 * owner of that file merges them (the codes are stable either way).
 *
 * @module
 */
import { EdgerecError } from '@edgerec/core'

/** Stable error codes raised while reading events. */
export const EVENT_SOURCE_ERROR_CODES = {
  /** The input file, storage key or table does not exist. */
  INPUT_NOT_FOUND: 'INPUT_NOT_FOUND',
  /** The input cannot be read at all (no header, unknown column, wrong format). */
  INPUT_INVALID: 'INPUT_INVALID',
  /** More bad rows than `maxBadRows` / `maxBadFraction` allow. */
  TOO_MANY_BAD_ROWS: 'TOO_MANY_BAD_ROWS',
  /** A remote source (Cloudflare D1 HTTP API) answered with an error. */
  SOURCE_UNAVAILABLE: 'SOURCE_UNAVAILABLE',
  /** An optional dependency (hyparquet, drizzle-orm) is missing. */
  DEPENDENCY_MISSING: 'DEPENDENCY_MISSING',
} as const

/** A code from {@link EVENT_SOURCE_ERROR_CODES}. */
export type EventSourceErrorCode = keyof typeof EVENT_SOURCE_ERROR_CODES

/** Any error an event source throws on purpose. */
export class EventSourceError extends EdgerecError<EventSourceErrorCode> {
  constructor(code: EventSourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'EventSourceError'
  }
}

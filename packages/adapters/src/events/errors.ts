/**
 * Errors of the event sources. Their codes live in the package's one code map
 * ({@link ADAPTER_ERROR_CODES} in `src/errors.ts`); this module names the subset a source raises.
 *
 * @module
 */
import { ADAPTER_ERROR_CODES, AdapterError } from '../errors.js'

/** The codes of {@link ADAPTER_ERROR_CODES} an event source raises. */
export const EVENT_SOURCE_ERROR_CODES = {
  /** The input file, storage key or table does not exist. */
  INPUT_NOT_FOUND: ADAPTER_ERROR_CODES.INPUT_NOT_FOUND,
  /** The input cannot be read at all (no header, unknown column, wrong format). */
  INPUT_INVALID: ADAPTER_ERROR_CODES.INPUT_INVALID,
  /** More bad rows than `maxBadRows` / `maxBadFraction` allow. */
  TOO_MANY_BAD_ROWS: ADAPTER_ERROR_CODES.TOO_MANY_BAD_ROWS,
  /** A remote source (Cloudflare D1 HTTP API) answered with an error. */
  SOURCE_UNAVAILABLE: ADAPTER_ERROR_CODES.SOURCE_UNAVAILABLE,
  /** An optional dependency (hyparquet, drizzle-orm) is missing. */
  DEPENDENCY_MISSING: ADAPTER_ERROR_CODES.DEPENDENCY_MISSING,
} as const

/** A code from {@link EVENT_SOURCE_ERROR_CODES}. */
export type EventSourceErrorCode = keyof typeof EVENT_SOURCE_ERROR_CODES

/** Any error an event source throws on purpose (an {@link AdapterError}, so one `instanceof` catches all). */
export class EventSourceError extends AdapterError {
  declare readonly code: EventSourceErrorCode

  constructor(code: EventSourceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'EventSourceError'
  }
}

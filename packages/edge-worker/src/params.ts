/**
 * Parsing of path and query parameters, with field-level errors in the shape of core's
 * `FieldError` (`{ field, code, message }`).
 *
 * @module
 */
import { EVENT_LIMITS, type FieldError, ID_PATTERN } from '@edgerec/core'
import type { Context } from 'hono'
import { ApiError } from './errors.js'

/** Largest `k` a request may ask for. */
export const MAX_K = 100
/** Most ids in `exclude=`. */
export const MAX_EXCLUDE = 200

/** Collects field errors and throws one 400 for all of them. */
export class ParamErrors {
  readonly errors: FieldError[] = []

  add(field: string, code: FieldError['code'], message: string): void {
    this.errors.push({ field, code, message })
  }

  /** @throws {@link ApiError} `INVALID_PARAMETER` listing every error in `details` */
  throwIfAny(): void {
    if (this.errors.length === 0) return
    const summary = this.errors.map((e) => `${e.field}: ${e.message}`).join(' ')
    throw new ApiError('INVALID_PARAMETER', `Invalid request parameters. ${summary}`, {
      details: this.errors,
    })
  }
}

/** Checks an id (user or item) from the path. */
export function checkId(errors: ParamErrors, field: string, value: string): string {
  if (value.length === 0) errors.add(field, 'required', `${field} is empty.`)
  else if (value.length > EVENT_LIMITS.maxEntityIdLength) {
    errors.add(field, 'too_long', `${field} is longer than ${EVENT_LIMITS.maxEntityIdLength} characters.`)
  } else if (!ID_PATTERN.test(value)) {
    errors.add(
      field,
      'pattern',
      `${field} may only hold printable ASCII without spaces, quotes, <, >, \\ or \`.`,
    )
  }
  return value
}

/** `k`: an integer in 1..{@link MAX_K}; default 10. */
export function parseK(errors: ParamErrors, raw: string | undefined): number {
  if (raw === undefined || raw === '') return 10
  // NOTE: plain decimal digits only: Number() would also read "0x10", "1e2" or " 5 ".
  const k = /^[0-9]{1,3}$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    errors.add('k', 'range', `k must be an integer from 1 to ${MAX_K}; got "${raw.slice(0, 32)}".`)
    return 10
  }
  return k
}

/** `exclude`: comma-separated item ids, at most {@link MAX_EXCLUDE}. */
export function parseExclude(errors: ParamErrors, raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return []
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (ids.length > MAX_EXCLUDE) {
    errors.add('exclude', 'too_many', `exclude lists ${ids.length} ids; at most ${MAX_EXCLUDE} are allowed.`)
    return []
  }
  for (const id of ids) {
    if (id.length > EVENT_LIMITS.maxEntityIdLength || !ID_PATTERN.test(id)) {
      errors.add('exclude', 'pattern', `exclude holds an invalid item id "${id.slice(0, 32)}".`)
      return []
    }
  }
  return ids
}

/** A boolean flag: `1`/`true` or `0`/`false`; default false. */
export function parseFlag(errors: ParamErrors, field: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false
  if (raw === '1' || raw === 'true') return true
  errors.add(field, 'type', `${field} must be 1, 0, true or false.`)
  return false
}

/**
 * The request body as text. A body that cannot be read (the client closed the connection mid-body)
 * is the client's problem, answered 400 `INVALID_REQUEST` and not logged as a worker failure; the
 * body limit's 413 passes through.
 *
 * @throws {@link ApiError}
 */
export async function readBodyText(c: Context): Promise<string> {
  try {
    return await c.req.text()
  } catch (error) {
    if (error instanceof ApiError) throw error
    throw new ApiError(
      'INVALID_REQUEST',
      'The request body could not be read (the connection closed before it ended). Send the request again.',
      { cause: error },
    )
  }
}

import type { EventContext, EventValidationResult, FieldError, ValidEvent } from './event.js'
import { EVENT_LIMITS, EVENT_TYPE_PATTERN, ID_PATTERN } from './limits.js'

/** Options of {@link validateEvent}. */
export interface ValidateEventOptions {
  /** "Now" in epoch ms, for the future-skew check. Default `Date.now()`. */
  now?: number
  /** Allowed clock skew into the future, ms. Default {@link EVENT_LIMITS.maxFutureSkewMs}. */
  maxFutureSkewMs?: number
}

const KNOWN_FIELDS = new Set([
  'id',
  'userId',
  'anonymousId',
  'itemId',
  'type',
  'value',
  'timestamp',
  'context',
])

function checkId(
  value: unknown,
  field: string,
  maxLength: number,
  required: boolean,
  errors: FieldError[],
): value is string {
  if (value === undefined || value === null) {
    if (required) errors.push({ field, code: 'required', message: `${field} is required.` })
    return false
  }
  if (typeof value !== 'string') {
    errors.push({ field, code: 'type', message: `${field} must be a string, got ${typeof value}.` })
    return false
  }
  if (value.length === 0) {
    errors.push({ field, code: 'required', message: `${field} must not be empty.` })
    return false
  }
  if (value.length > maxLength) {
    errors.push({
      field,
      code: 'too_long',
      message: `${field} is ${value.length} characters; the limit is ${maxLength}.`,
    })
    return false
  }
  if (!ID_PATTERN.test(value)) {
    errors.push({
      field,
      code: 'pattern',
      message: `${field} may only hold printable ASCII without spaces, quotes, < > \\ or \`.`,
    })
    return false
  }
  return true
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/
const ISO_ZONE = /(?:Z|[+-]\d{2}:?\d{2})$/i
/** An ISO-8601 calendar date alone (`2026-12-01`): midnight UTC, as `Date.parse` reads it everywhere. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * Parses a timestamp given as epoch ms, an ISO-8601 date-time or an ISO-8601 date (midnight UTC);
 * NaN when it is none of them.
 * NOTE: an ISO string without a zone is read as UTC. `Date.parse` would read it as the host's local
 * time, so the same event would get different timestamps in a Worker (UTC) and on a laptop.
 */
function toEpochMs(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : Number.NaN
  if (typeof value === 'string' && value.length <= 40 && ISO_DATE_TIME.test(value)) {
    return Date.parse(ISO_ZONE.test(value) ? value : `${value}Z`)
  }
  if (typeof value === 'string' && ISO_DATE.test(value)) {
    const ms = Date.parse(value)
    // NOTE: Date.parse rolls nothing over for dates, but reject what it would not round-trip.
    return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(value) ? ms : Number.NaN
  }
  return Number.NaN
}

function checkContext(value: unknown, errors: FieldError[]): value is EventContext {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ field: 'context', code: 'type', message: 'context must be a flat object.' })
    return false
  }
  const keys = Object.keys(value)
  if (keys.length > EVENT_LIMITS.maxContextKeys) {
    errors.push({
      field: 'context',
      code: 'too_many',
      message: `context has ${keys.length} keys; the limit is ${EVENT_LIMITS.maxContextKeys}.`,
    })
    return false
  }
  let ok = true
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key]
    const field = `context.${key.slice(0, EVENT_LIMITS.maxContextKeyLength)}`
    if (key.length > EVENT_LIMITS.maxContextKeyLength) {
      errors.push({
        field,
        code: 'too_long',
        message: `context key longer than ${EVENT_LIMITS.maxContextKeyLength}.`,
      })
      ok = false
    } else if (typeof v === 'string') {
      if (v.length > EVENT_LIMITS.maxContextValueLength) {
        errors.push({
          field,
          code: 'too_long',
          message: `${field} is ${v.length} characters; the limit is ${EVENT_LIMITS.maxContextValueLength}.`,
        })
        ok = false
      }
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        errors.push({ field, code: 'range', message: `${field} must be a finite number.` })
        ok = false
      }
    } else if (typeof v !== 'boolean') {
      errors.push({ field, code: 'type', message: `${field} must be a string, number or boolean.` })
      ok = false
    }
  }
  return ok
}

/**
 * Validates one event and normalizes its timestamp to epoch ms.
 * Bad input is expected, so it returns every field error instead of throwing.
 *
 * @param input - anything (parsed JSON, a CSV row mapped to an object…)
 * @example
 * ```ts
 * const r = validateEvent(body)
 * if (!r.ok) return c.json({ errors: r.errors }, 400)
 * ```
 */
export function validateEvent(input: unknown, options: ValidateEventOptions = {}): EventValidationResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', code: 'type', message: 'An event must be a JSON object.' }] }
  }
  const raw = input as Record<string, unknown>
  const errors: FieldError[] = []

  for (const key in raw) {
    if (!KNOWN_FIELDS.has(key)) {
      errors.push({
        field: key.slice(0, 64),
        code: 'unknown_field',
        message: `Unknown field "${key.slice(0, 64)}"; put extra attributes in context.`,
      })
    }
  }

  checkId(raw.id, 'id', EVENT_LIMITS.maxIdLength, true, errors)
  checkId(raw.itemId, 'itemId', EVENT_LIMITS.maxEntityIdLength, true, errors)
  const hasUser = checkId(raw.userId, 'userId', EVENT_LIMITS.maxEntityIdLength, false, errors)
  const hasAnon = checkId(raw.anonymousId, 'anonymousId', EVENT_LIMITS.maxEntityIdLength, false, errors)
  if (!hasUser && !hasAnon && raw.userId == null && raw.anonymousId == null) {
    errors.push({ field: 'userId', code: 'required', message: 'userId or anonymousId is required.' })
  }

  const type = raw.type
  if (typeof type !== 'string' || type.length === 0) {
    errors.push({
      field: 'type',
      code: type == null ? 'required' : 'type',
      message: 'type must be a non-empty string.',
    })
  } else if (type.length > EVENT_LIMITS.maxTypeLength) {
    errors.push({
      field: 'type',
      code: 'too_long',
      message: `type is longer than ${EVENT_LIMITS.maxTypeLength}.`,
    })
  } else if (!EVENT_TYPE_PATTERN.test(type)) {
    errors.push({
      field: 'type',
      code: 'pattern',
      message: 'type must match [a-z][a-z0-9_]* (e.g. add_to_cart).',
    })
  }

  if (raw.value !== undefined && raw.value !== null) {
    if (typeof raw.value !== 'number' || !Number.isFinite(raw.value)) {
      errors.push({ field: 'value', code: 'type', message: 'value must be a finite number.' })
    } else if (Math.abs(raw.value) > EVENT_LIMITS.maxAbsValue) {
      errors.push({
        field: 'value',
        code: 'range',
        message: `|value| must be at most ${EVENT_LIMITS.maxAbsValue}.`,
      })
    }
  }

  let timestamp = Number.NaN
  if (raw.timestamp === undefined || raw.timestamp === null) {
    errors.push({
      field: 'timestamp',
      code: 'required',
      message: 'timestamp is required (epoch ms or ISO-8601).',
    })
  } else {
    timestamp = toEpochMs(raw.timestamp)
    if (Number.isNaN(timestamp)) {
      errors.push({
        field: 'timestamp',
        code: 'type',
        message: 'timestamp must be epoch milliseconds or ISO-8601.',
      })
    } else {
      const now = options.now ?? Date.now()
      const skew = options.maxFutureSkewMs ?? EVENT_LIMITS.maxFutureSkewMs
      if (timestamp < EVENT_LIMITS.minTimestamp) {
        errors.push({
          field: 'timestamp',
          code: 'range',
          message: 'timestamp is before 2000-01-01 (seconds instead of ms?).',
        })
      } else if (timestamp > now + skew) {
        errors.push({
          field: 'timestamp',
          code: 'range',
          message: 'timestamp is too far in the future; check the clock.',
        })
      }
    }
  }

  if (raw.context !== undefined && raw.context !== null) checkContext(raw.context, errors)

  if (errors.length > 0) return { ok: false, errors }
  const event: ValidEvent = {
    id: raw.id as string,
    itemId: raw.itemId as string,
    type: type as string,
    timestamp: Math.trunc(timestamp),
  }
  if (hasUser) event.userId = raw.userId as string
  if (hasAnon) event.anonymousId = raw.anonymousId as string
  if (typeof raw.value === 'number') event.value = raw.value
  if (raw.context != null) event.context = raw.context as EventContext
  return { ok: true, event }
}

/** Per-event outcome of {@link validateBatch}. */
export type BatchItemResult = { index: number } & EventValidationResult

/** Result of {@link validateBatch}: either the batch shape is wrong, or one result per event. */
export type BatchValidationResult =
  | { ok: true; valid: ValidEvent[]; results: BatchItemResult[] }
  | { ok: false; error: FieldError }

/**
 * Validates a batch `{ events: [...] }` or a bare array; each event is judged on its own, so one bad
 * event never drops the good ones.
 */
export function validateBatch(
  input: unknown,
  options: ValidateEventOptions & { maxBatchSize?: number } = {},
): BatchValidationResult {
  const list = Array.isArray(input) ? input : (input as { events?: unknown } | null)?.events
  if (!Array.isArray(list)) {
    return { ok: false, error: { field: 'events', code: 'required', message: 'Send { "events": [ ... ] }.' } }
  }
  const max = options.maxBatchSize ?? EVENT_LIMITS.maxBatchSize
  if (list.length > max) {
    return {
      ok: false,
      error: {
        field: 'events',
        code: 'too_many',
        message: `A batch holds at most ${max} events; got ${list.length}. Split it.`,
      },
    }
  }
  if (list.length === 0) {
    return { ok: false, error: { field: 'events', code: 'required', message: 'The batch is empty.' } }
  }
  const now = options.now ?? Date.now()
  const results: BatchItemResult[] = []
  const valid: ValidEvent[] = []
  for (let i = 0; i < list.length; i++) {
    const r = validateEvent(list[i], { ...options, now })
    results.push({ index: i, ...r })
    if (r.ok) valid.push(r.event)
  }
  return { ok: true, valid, results }
}

/** True when `type` is usable as an event type. */
export function isValidEventType(type: string): boolean {
  return type.length > 0 && type.length <= EVENT_LIMITS.maxTypeLength && EVENT_TYPE_PATTERN.test(type)
}

/** An anonymous id → user id link, as `POST /v1/identify` takes it. */
export interface IdentityLinkInput {
  userId: string
  anonymousId: string
}

/** Result of {@link validateIdentity}. */
export type IdentityValidationResult =
  | { ok: true; link: IdentityLinkInput }
  | { ok: false; errors: FieldError[] }

/**
 * Validates an identity link `{ userId, anonymousId }` with the same id rules as events (both
 * required, printable ASCII, at most {@link EVENT_LIMITS.maxEntityIdLength} characters, no other fields).
 *
 * @example
 * ```ts
 * const r = validateIdentity(await c.req.json())
 * if (!r.ok) throw new ApiError('INVALID_REQUEST', r.errors[0].message)
 * ```
 */
export function validateIdentity(input: unknown): IdentityValidationResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return {
      ok: false,
      errors: [{ field: '', code: 'type', message: 'Send a JSON object { "userId", "anonymousId" }.' }],
    }
  }
  const raw = input as Record<string, unknown>
  const errors: FieldError[] = []
  for (const key in raw) {
    if (key !== 'userId' && key !== 'anonymousId') {
      errors.push({
        field: key.slice(0, 64),
        code: 'unknown_field',
        message: `Unknown field "${key.slice(0, 64)}"; send only userId and anonymousId.`,
      })
    }
  }
  checkId(raw.userId, 'userId', EVENT_LIMITS.maxEntityIdLength, true, errors)
  checkId(raw.anonymousId, 'anonymousId', EVENT_LIMITS.maxEntityIdLength, true, errors)
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, link: { userId: raw.userId as string, anonymousId: raw.anonymousId as string } }
}

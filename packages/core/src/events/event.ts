/** The standard e-commerce event types. Custom types (`[a-z][a-z0-9_]*`) are allowed too. */
export const STANDARD_EVENT_TYPES = [
  'view',
  'click',
  'add_to_cart',
  'remove_from_cart',
  'purchase',
  'rating',
  'like',
  'dislike',
] as const

/**
 * Negative feedback types and their default weights (issue 17): the item leaves that person's
 * recommendations on the next request, and fold-in counts it against the item (p = 0 with
 * confidence 1 + α·|w|). Used by the trainer's defaults and by the worker when a model's
 * `eventWeights` predate a type.
 */
export const NEGATIVE_FEEDBACK_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({
  dislike: -4,
  hide: -8,
})

/** One of {@link STANDARD_EVENT_TYPES}. */
export type StandardEventType = (typeof STANDARD_EVENT_TYPES)[number]

/** A flat map of extra attributes (page, device, price…). */
export type EventContext = Record<string, string | number | boolean>

/**
 * An interaction as clients send it.
 *
 * @see ../../../../docs/architecture.md
 */
export interface EdgerecEvent {
  /** Client-generated unique id (UUID); ingestion is idempotent by it. */
  id: string
  /** The known user, once identified. At least one of `userId` and `anonymousId` is required. */
  userId?: string
  /** The device's anonymous id. Events carrying both ids link them. */
  anonymousId?: string
  /** The item the event is about. */
  itemId: string
  /** A standard type or a custom one. */
  type: StandardEventType | (string & {})
  /** Optional magnitude: a rating, a quantity. */
  value?: number
  /** When it happened: epoch milliseconds or an ISO-8601 string. */
  timestamp: number | string
  /** Optional flat attributes. */
  context?: EventContext
}

/** An event that passed validation; `timestamp` is normalized to epoch milliseconds. */
export interface ValidEvent extends EdgerecEvent {
  timestamp: number
}

/**
 * Why a field was rejected. `unauthorized`: the caller may not write this field's value (e.g. a
 * user id without that user's token). `unrecognized`: the value has the right shape but the server
 * did not issue it (a recId whose signature does not match the worker's).
 */
export const FIELD_ERROR_CODES = [
  'required',
  'type',
  'too_long',
  'pattern',
  'range',
  'unknown_field',
  'too_many',
  'unauthorized',
  'unrecognized',
] as const

/** One of {@link FIELD_ERROR_CODES}. */
export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number]

/** One problem with one field of one event. */
export interface FieldError {
  /** Dotted path of the field, e.g. `itemId` or `context.page`. */
  field: string
  code: FieldErrorCode
  message: string
}

/** Result of validating one event: never throws for bad input. */
export type EventValidationResult = { ok: true; event: ValidEvent } | { ok: false; errors: FieldError[] }

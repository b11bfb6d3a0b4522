export type {
  EdgerecEvent,
  EventContext,
  EventValidationResult,
  FieldError,
  FieldErrorCode,
  StandardEventType,
  ValidEvent,
} from './event.js'
export { FIELD_ERROR_CODES, NEGATIVE_FEEDBACK_WEIGHTS, STANDARD_EVENT_TYPES } from './event.js'
export { EVENT_LIMITS, EVENT_TYPE_PATTERN, ID_PATTERN } from './limits.js'
export type {
  BatchItemResult,
  BatchValidationResult,
  IdentityLinkInput,
  IdentityValidationResult,
  ValidateEventOptions,
} from './validate.js'
export { isValidEventType, validateBatch, validateEvent, validateIdentity } from './validate.js'

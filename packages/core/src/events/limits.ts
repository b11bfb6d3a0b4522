/** Limits every edgerec component enforces on events. */
export const EVENT_LIMITS = {
  /** Longest event id (UUIDs are 36). */
  maxIdLength: 128,
  /** Longest user, anonymous or item id. */
  maxEntityIdLength: 256,
  /** Longest custom event type. */
  maxTypeLength: 64,
  /** Most events in one batch. */
  maxBatchSize: 500,
  /** Most keys in `context`. */
  maxContextKeys: 32,
  /** Longest context key. */
  maxContextKeyLength: 64,
  /** Longest string context value. */
  maxContextValueLength: 512,
  /** Largest |value|. */
  maxAbsValue: 1_000_000,
  /** Earliest accepted timestamp: 2000-01-01T00:00:00Z. */
  minTimestamp: Date.UTC(2000, 0, 1),
  /**
   * How far in the future a timestamp may be (clock skew), in ms: 10 minutes. Client clocks only
   * date events for analysis; training cut-offs and fold-in use the worker's receive time, so a
   * wider bound would only let a client pre-date popularity windows (issue 13).
   */
  maxFutureSkewMs: 10 * 60 * 1000,
} as const

/** Characters allowed in ids: printable ASCII without spaces, quotes, angle brackets, backslash or backtick. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@+=~|/#$%&!*(),;?[\]{}^-]+$/

/** Pattern of a custom event type. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*$/

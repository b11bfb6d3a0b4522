/**
 * The one base error class of edgerec and the error codes of `@edgerec/core`.
 *
 * Every package subclasses {@link EdgerecError} and keeps its own `as const` code map; codes are
 * stable strings that callers may switch on.
 *
 * @module
 */

/** Error codes raised by `@edgerec/core`. */
export const CORE_ERROR_CODES = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  SHARD_TRUNCATED: 'SHARD_TRUNCATED',
  SHARD_BAD_MAGIC: 'SHARD_BAD_MAGIC',
  SHARD_UNSUPPORTED_VERSION: 'SHARD_UNSUPPORTED_VERSION',
  SHARD_TOO_LARGE: 'SHARD_TOO_LARGE',
  SHARD_MALFORMED: 'SHARD_MALFORMED',
  SHARD_CHECKSUM_MISMATCH: 'SHARD_CHECKSUM_MISMATCH',
  SHARD_WRONG_KIND: 'SHARD_WRONG_KIND',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  NOT_POSITIVE_DEFINITE: 'NOT_POSITIVE_DEFINITE',
} as const

/** A code from {@link CORE_ERROR_CODES}. */
export type CoreErrorCode = keyof typeof CORE_ERROR_CODES

/**
 * Base class of every error edgerec throws on purpose.
 *
 * @example
 * ```ts
 * try { await decodeShard(bytes) } catch (e) { if (isEdgerecError(e)) console.log(e.code) }
 * ```
 */
export class EdgerecError<Code extends string = string> extends Error {
  /** Stable, machine-readable code (SCREAMING_SNAKE). */
  readonly code: Code

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EdgerecError'
    this.code = code
  }
}

/** Errors in core's own domain (shards, manifests, math). */
export class CoreError extends EdgerecError<CoreErrorCode> {
  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'CoreError'
  }
}

/** A shard's bytes could not be decoded: truncated, corrupted, of another version or too large. */
export class ShardFormatError extends CoreError {
  constructor(code: CoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'ShardFormatError'
  }
}

/** A linear system had no positive-definite matrix (ALS or fold-in numeric failure). */
export class ModelFitError extends CoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_POSITIVE_DEFINITE', message, options)
    this.name = 'ModelFitError'
  }
}

/**
 * True for any {@link EdgerecError}, also across duplicated copies of this package
 * (checks the shape, not only `instanceof`).
 *
 * NOTE: a system error of the runtime (`ECONNRESET`, `ENOENT`: it carries `errno` or `syscall`)
 * or of an HTTP client (`UND_ERR_SOCKET`; node-fetch's `FetchError` with `type: 'system'`) also
 * has an upper-case string `code`, but is not an edgerec error: callers that pass edgerec errors
 * through unchanged must still map it (a storage adapter retries a reset connection as
 * `UNAVAILABLE`).
 */
export function isEdgerecError(value: unknown): value is EdgerecError {
  if (value instanceof EdgerecError) return true
  if (!(value instanceof Error)) return false
  const e = value as Error & { code?: unknown; errno?: unknown; syscall?: unknown; type?: unknown }
  return (
    typeof e.code === 'string' &&
    /^[A-Z][A-Z0-9_]*$/.test(e.code) &&
    !e.code.startsWith('UND_ERR_') &&
    e.errno === undefined &&
    e.syscall === undefined &&
    e.type !== 'system'
  )
}

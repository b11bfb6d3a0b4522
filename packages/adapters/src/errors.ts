/**
 * Errors of `@edgerec/adapters`: one `as const` code map, {@link AdapterError} and its subclasses.
 *
 * @module
 */
import { EdgerecError } from '@edgerec/core'

/** Stable error codes of the adapters package. Codes are never renamed. */
export const ADAPTER_ERROR_CODES = {
  /** A key, bucket, container or namespace does not exist. */
  NOT_FOUND: 'NOT_FOUND',
  /** A conditional write lost: the object exists, or changed since its etag was read. */
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  /** The provider cannot do what was asked (e.g. conditional writes on KV). */
  UNSUPPORTED: 'UNSUPPORTED',
  /** The provider throttled the request (HTTP 429, 503 SlowDown) and retries ran out. */
  THROTTLED: 'THROTTLED',
  /** The provider rejected the credentials (HTTP 401/403). */
  AUTH: 'AUTH',
  /** The provider could not be reached or failed (network error, HTTP 5xx). */
  UNAVAILABLE: 'UNAVAILABLE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  JOB_FAILED: 'JOB_FAILED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  CREDENTIALS_MISSING: 'CREDENTIALS_MISSING',
  PUBLISH_FAILED: 'PUBLISH_FAILED',
  /** The version's quality gate failed (manifest `gate.passed` false): publish refused unless forced. */
  GATE_FAILED: 'GATE_FAILED',
  /** A model version cannot fit in the edge worker's memory budget next to the live one. */
  MODEL_TOO_LARGE: 'MODEL_TOO_LARGE',
  /** A storage key is empty, absolute, has `.`/`..`/empty segments or control characters. */
  INVALID_KEY: 'INVALID_KEY',
  /** A byte range is negative, fractional or ends before it starts. */
  INVALID_RANGE: 'INVALID_RANGE',
  /** An object is larger than the provider accepts (Cloudflare KV: 25 MiB per value). */
  TOO_LARGE: 'TOO_LARGE',
  /** An upload failed part-way (the body stream errored or a part was rejected); nothing was published. */
  UPLOAD_FAILED: 'UPLOAD_FAILED',
  /** The provider answered with an error no other code describes. */
  PROVIDER_ERROR: 'PROVIDER_ERROR',
  // Event sources (raised as EventSourceError, src/events/errors.ts).
  INPUT_NOT_FOUND: 'INPUT_NOT_FOUND',
  INPUT_INVALID: 'INPUT_INVALID',
  TOO_MANY_BAD_ROWS: 'TOO_MANY_BAD_ROWS',
  SOURCE_UNAVAILABLE: 'SOURCE_UNAVAILABLE',
  DEPENDENCY_MISSING: 'DEPENDENCY_MISSING',
} as const

/** A code from {@link ADAPTER_ERROR_CODES}. */
export type AdapterErrorCode = keyof typeof ADAPTER_ERROR_CODES

/** Any error an adapter throws on purpose. */
export class AdapterError extends EdgerecError<AdapterErrorCode> {
  constructor(code: AdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'AdapterError'
  }
}

/** Where a {@link StorageError} happened. */
export interface StorageErrorContext {
  /** Provider name (`local`, `s3`, `r2`, `gcs`, `azure-blob`, `kv`). */
  provider: string
  /** Storage operation (`put`, `get`, `getRange`, `getStream`, `head`, `list`, `delete`). */
  operation: string
  /** The key (or list prefix) concerned, relative to the storage's prefix. */
  key?: string
  /** HTTP status the provider answered with, when there was one. */
  status?: number
}

/**
 * An error of a {@link Storage} call. `code` says what kind of failure it is (`THROTTLED` and
 * `UNAVAILABLE` are worth retrying); `provider`, `operation`, `key` and `status` say where.
 *
 * @example
 * ```ts
 * try { await storage.put(key, bytes, { ifMatch: 'absent' }) }
 * catch (e) { if (e instanceof StorageError && e.code === 'PRECONDITION_FAILED') { … } }
 * ```
 */
export class StorageError extends AdapterError {
  readonly provider: string
  readonly operation: string
  readonly key: string | undefined
  readonly status: number | undefined

  constructor(
    code: AdapterErrorCode,
    message: string,
    context: StorageErrorContext,
    options?: { cause?: unknown },
  ) {
    super(code, message, options)
    this.name = 'StorageError'
    this.provider = context.provider
    this.operation = context.operation
    this.key = context.key
    this.status = context.status
  }
}

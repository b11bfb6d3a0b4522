import { isEdgerecError } from '@edgerec/core'
import { type AdapterErrorCode, StorageError, type StorageErrorContext } from '../errors.js'

/** What a provider said about a failed request, as far as it is known. */
export interface ProviderFailure {
  /** HTTP status, when the provider answered. */
  status?: number
  /** The provider's own error code (`SlowDown`, `AccessDenied`, `BlobAlreadyExists`, …). */
  providerCode?: string
  /** The provider's message. */
  detail?: string
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** True when `error` (or its cause) is a network-level failure (refused, reset, DNS, timeout). */
export function isNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    const name = (e as { name?: unknown }).name
    if (name === 'TimeoutError') return true
    if (e instanceof TypeError && e.message === 'fetch failed') return true
    e = (e as { cause?: unknown }).cause
  }
  return false
}

function describe(context: StorageErrorContext): string {
  const target = context.key === undefined ? '' : ` of '${context.key}'`
  return `${context.provider} ${context.operation}${target}`
}

function said(failure: ProviderFailure): string {
  const parts = [
    failure.status === undefined ? undefined : `HTTP ${failure.status}`,
    failure.providerCode,
    failure.detail,
  ].filter((part): part is string => part !== undefined && part !== '')
  return parts.length === 0 ? '' : ` (${parts.join(' ')})`
}

/**
 * Maps a provider's answer to a {@link StorageError} with a stable code and a message that says
 * what happened, then how to fix it. Status first, provider codes refine it.
 */
export function storageErrorFrom(
  failure: ProviderFailure,
  context: StorageErrorContext,
  cause: unknown,
): StorageError {
  const where = describe(context)
  const info = said(failure)
  const ctx: StorageErrorContext =
    failure.status === undefined ? context : { ...context, status: failure.status }
  const make = (code: AdapterErrorCode, message: string) => new StorageError(code, message, ctx, { cause })
  const { status, providerCode } = failure
  if (
    status === 429 ||
    providerCode === 'SlowDown' ||
    providerCode === 'ThrottlingException' ||
    providerCode === 'ServerBusy' ||
    providerCode === 'TooManyRequests'
  ) {
    return make(
      'THROTTLED',
      `The provider throttled ${where}${info}. Lower the request rate or concurrency, or retry later.`,
    )
  }
  if (status === 412 || providerCode === 'PreconditionFailed' || providerCode === 'ConditionNotMet') {
    return make(
      'PRECONDITION_FAILED',
      `The conditional write ${where} failed${info}: the object already exists or changed since its etag was read. Re-read it and retry with its current etag.`,
    )
  }
  if (
    status === 409 &&
    (providerCode === 'BlobAlreadyExists' || providerCode === 'ConditionalRequestConflict')
  ) {
    return make(
      'PRECONDITION_FAILED',
      `The conditional write ${where} failed${info}: another write to the same key won. Re-read it and retry.`,
    )
  }
  if (status === 401 || status === 403) {
    return make(
      'AUTH',
      `The provider refused ${where}${info}. Check the credentials found by the provider's credential chain and that they may read and write this bucket/container/namespace.`,
    )
  }
  if (
    status === 404 ||
    providerCode === 'NoSuchBucket' ||
    providerCode === 'ContainerNotFound' ||
    providerCode === 'NoSuchKey'
  ) {
    return make(
      'NOT_FOUND',
      `${where} failed${info}: the bucket, container or namespace does not exist. Create it, or fix its name in the storage config.`,
    )
  }
  if (status === 413 || providerCode === 'EntityTooLarge' || providerCode === 'RequestBodyTooLarge') {
    return make(
      'TOO_LARGE',
      `${where} failed${info}: the object is larger than the provider accepts. Split it into smaller objects.`,
    )
  }
  if (status === 501 || providerCode === 'NotImplemented') {
    return make(
      'UNSUPPORTED',
      `${where} failed${info}: the server does not implement this operation. Use a provider (or emulator) that supports it.`,
    )
  }
  if (status !== undefined && status >= 500) {
    return make('UNAVAILABLE', `The provider failed ${where}${info}. It is probably transient: retry later.`)
  }
  return make(
    'PROVIDER_ERROR',
    `The provider rejected ${where}${info}. Check the request and the storage config.`,
  )
}

/**
 * Wraps any thrown value in a {@link StorageError}: edgerec errors pass through, network failures
 * become `UNAVAILABLE`, and `failure` (extracted by the provider) decides the rest.
 */
export function normalizeStorageError(
  error: unknown,
  context: StorageErrorContext,
  failure: ProviderFailure | undefined,
): StorageError | Error {
  if (error instanceof StorageError) return error
  if (isEdgerecError(error)) return error
  if (failure?.status !== undefined || failure?.providerCode !== undefined) {
    return storageErrorFrom(failure, context, error)
  }
  // NOTE: before the pass-through above was narrowed (isEdgerecError), a reset connection's
  // FetchError (code `ECONNRESET`) passed as an edgerec error and was never retried.
  if (isNetworkError(error)) {
    const message = error instanceof Error ? error.message : String(error)
    return new StorageError(
      'UNAVAILABLE',
      `Could not reach the provider for ${describe(context)} (${message}). Check the endpoint and the network; retry later.`,
      context,
      { cause: error },
    )
  }
  const message = error instanceof Error ? error.message : String(error)
  return new StorageError(
    'PROVIDER_ERROR',
    `${describe(context)} failed: ${message}. Check the request and the storage config.`,
    context,
    { cause: error },
  )
}

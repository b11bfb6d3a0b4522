import { S3Storage, type S3StorageOptions } from '../aws/storage.js'
import type { KvStorageConfig, R2StorageConfig } from '../config/types.js'
import { StorageError, type StorageErrorContext } from '../errors.js'
import { bytesToStream, concatChunks } from '../storage/bytes.js'
import { assertValidKey, assertValidPrefix, assertValidRange, sliceRange } from '../storage/keys.js'
import { normalizeStorageError, storageErrorFrom } from '../storage/provider-error.js'
import { type RetryOptions, withRetry } from '../storage/retry.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

/** Options of {@link R2Storage}: the `r2` storage config without `provider`, plus the S3 tuning options. */
export interface R2StorageOptions
  extends Omit<R2StorageConfig, 'provider'>,
    Pick<S3StorageOptions, 'client' | 'partSize' | 'queueSize' | 'multipartThreshold' | 'retry'> {
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`). Default true; R2 also accepts virtual-hosted style. */
  forcePathStyle?: boolean
}

/** R2's S3 API endpoint of an account. */
export function r2Endpoint(accountId: string): string {
  return `https://${accountId}.r2.cloudflarestorage.com`
}

/**
 * Cloudflare R2 through its S3-compatible API: the {@link S3Storage} implementation with endpoint
 * `https://<accountId>.r2.cloudflarestorage.com` and region `auto`.
 *
 * Credentials: an R2 API token's S3 access key pair, found by the AWS default chain (e.g.
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, or an `AWS_PROFILE` holding them). R2 supports
 * multipart (parts 5 MiB–5 GiB), ranged GETs, ListObjectsV2 and conditional PUTs
 * (`If-None-Match: *`, `If-Match`).
 *
 * @example
 * ```ts
 * const shards = new R2Storage({ accountId: '0123abcd…', bucket: 'edgerec-models' })
 * ```
 */
export class R2Storage extends S3Storage {
  override readonly provider: string = 'r2'
  readonly accountId: string

  constructor(options: R2StorageOptions) {
    if (typeof options?.accountId !== 'string' || options.accountId === '') {
      throw new StorageError(
        'CONFIG_INVALID',
        "R2 storage needs the Cloudflare account id. Pass { accountId: '<32 hex>', bucket: 'edgerec-models' }.",
        { provider: 'r2', operation: 'configure' },
      )
    }
    const { accountId, endpoint, forcePathStyle, ...rest } = options
    super({
      ...rest,
      endpoint: endpoint ?? r2Endpoint(accountId),
      region: 'auto',
      forcePathStyle: forcePathStyle ?? true,
    })
    this.accountId = accountId
  }
}

/** Options of {@link KvStorage}: the `kv` storage config without `provider`, plus tuning. */
export interface KvStorageOptions extends Omit<KvStorageConfig, 'provider'> {
  /** Retries of throttled / unavailable calls. Default: 5 retries, 200 ms base, full jitter. */
  retry?: RetryOptions
}

/** Largest KV value: 25 MiB. */
export const KV_MAX_VALUE_BYTES = 25 * 1024 * 1024
/** Longest KV key: 512 bytes. */
export const KV_MAX_KEY_BYTES = 512
/** The KV REST API serves 10 to 1000 keys per list page. */
const KV_MIN_PAGE = 10
const KV_MAX_PAGE = 1000
const DEFAULT_API_BASE = 'https://api.cloudflare.com/client/v4'

/** The envelope of Cloudflare API answers. */
interface CloudflareEnvelope<T> {
  success: boolean
  errors?: Array<{ code: number; message: string }>
  result: T
  result_info?: { count?: number; cursor?: string }
}

/** Metadata edgerec stores with each KV value (same convention as the publisher's KV binding storage). */
interface KvValueMetadata {
  size?: number
}

const utf8 = new TextEncoder()

/**
 * Cloudflare Workers KV through its REST API (`/accounts/:id/storage/kv/namespaces/:ns/…`), for the
 * live pointer and small manifests the edge worker reads from its KV binding.
 *
 * - Token: env var `CLOUDFLARE_API_TOKEN` (or the one named by `apiTokenEnv`), with "Workers KV
 *   Storage: Edit" permission. It is read once, at construction, and never logged.
 * - Limits: values ≤ 25 MiB (`TOO_LARGE`), keys ≤ 512 bytes (`INVALID_KEY`), one write per second
 *   per key, eventually consistent reads (up to 60 s to propagate to other locations).
 * - Each value is written with metadata `{ size }`, so `list` and `head` report sizes without
 *   reading values.
 * - No ranged reads in KV: `getRange` reads the value and slices it. No conditional writes:
 *   `ifMatch` throws `UNSUPPORTED`. No etags.
 * - List pages hold 10 to 1000 keys (a smaller `limit` is raised to 10).
 *
 * @example
 * ```ts
 * const pointers = new KvStorage({ accountId, namespaceId })   // token from CLOUDFLARE_API_TOKEN
 * await pointers.put('models/live', new TextEncoder().encode(JSON.stringify(pointer)))
 * ```
 */
export class KvStorage implements Storage {
  readonly provider = 'kv'
  readonly accountId: string
  readonly namespaceId: string
  readonly #base: string
  readonly #token: string
  readonly #retry: RetryOptions

  constructor(options: KvStorageOptions) {
    const context = { provider: 'kv', operation: 'configure' }
    for (const field of ['accountId', 'namespaceId'] as const) {
      if (typeof options?.[field] !== 'string' || options[field] === '') {
        throw new StorageError(
          'CONFIG_INVALID',
          `KV storage needs ${field}. Pass { accountId: '<account id>', namespaceId: '<namespace id>' }.`,
          context,
        )
      }
    }
    const tokenEnv = options.apiTokenEnv ?? 'CLOUDFLARE_API_TOKEN'
    const token = process.env[tokenEnv]
    if (token === undefined || token === '') {
      throw new StorageError(
        'CREDENTIALS_MISSING',
        `KV storage needs a Cloudflare API token in the environment variable ${tokenEnv}, which is not set. Create a token with "Workers KV Storage: Edit" and export ${tokenEnv}.`,
        context,
      )
    }
    this.accountId = options.accountId
    this.namespaceId = options.namespaceId
    this.#token = token
    this.#base = `${(options.apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '')}/accounts/${encodeURIComponent(
      options.accountId,
    )}/storage/kv/namespaces/${encodeURIComponent(options.namespaceId)}`
    this.#retry = options.retry ?? {}
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    this.#checkKey(key, 'put')
    if (options.ifMatch !== undefined) {
      throw new StorageError(
        'UNSUPPORTED',
        `Cloudflare KV has no conditional writes, so the put of '${key}' with ifMatch was refused. Write without ifMatch, or use R2 for objects that need it.`,
        { provider: this.provider, operation: 'put', key },
      )
    }
    const bytes = await this.#buffer(key, body)
    const metadata: KvValueMetadata = { size: bytes.length }
    await this.#call('put', key, async () => {
      // The multipart form is the documented way to write a value together with its metadata.
      const form = new FormData()
      form.set('value', new Blob([bytes], { type: options.contentType ?? 'application/octet-stream' }))
      form.set('metadata', JSON.stringify(metadata))
      const response = await this.#fetch(`/values/${encodeURIComponent(key)}`, { method: 'PUT', body: form })
      await this.#expectOk(response, 'put', key)
    })
    return { key, size: bytes.length }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.#checkKey(key, 'get')
    return this.#readValue('get', key)
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    this.#checkKey(key, 'getRange')
    assertValidRange(range, this.provider, key)
    const whole = await this.#readValue('getRange', key)
    return whole === undefined ? undefined : sliceRange(whole, range).slice()
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    this.#checkKey(key, 'getStream')
    return this.#call('getStream', key, async () => {
      const response = await this.#fetch(`/values/${encodeURIComponent(key)}`)
      if (response.status === 404) {
        await response.body?.cancel()
        return undefined
      }
      await this.#expectOk(response, 'getStream', key, false)
      return (response.body as ReadableStream<Uint8Array> | null) ?? bytesToStream(new Uint8Array(0))
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    this.#checkKey(key, 'head')
    const metadata = await this.#call('head', key, async () => {
      const response = await this.#fetch(`/metadata/${encodeURIComponent(key)}`)
      if (response.status === 404) {
        await response.body?.cancel()
        return undefined
      }
      const envelope = await this.#expectOk<KvValueMetadata | null>(response, 'head', key)
      return envelope.result ?? {}
    })
    if (metadata === undefined) return undefined
    if (typeof metadata.size === 'number') return { key, size: metadata.size }
    // Written by another tool without edgerec's metadata: measure the value.
    const value = await this.#readValue('head', key)
    return value === undefined ? undefined : { key, size: value.length }
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    assertValidPrefix(prefix, this.provider)
    const limit = Math.min(KV_MAX_PAGE, Math.max(KV_MIN_PAGE, Math.floor(options.limit ?? KV_MAX_PAGE)))
    const query = new URLSearchParams({ limit: String(limit) })
    if (prefix !== '') query.set('prefix', prefix)
    if (options.cursor !== undefined) query.set('cursor', options.cursor)
    const envelope = await this.#call('list', prefix, async () => {
      const response = await this.#fetch(`/keys?${query}`)
      return this.#expectOk<Array<{ name: string; metadata?: KvValueMetadata }>>(response, 'list', prefix)
    })
    const objects: ObjectInfo[] = []
    for (const entry of envelope.result ?? []) {
      if (typeof entry.metadata?.size === 'number')
        objects.push({ key: entry.name, size: entry.metadata.size })
      else {
        const info = await this.head(entry.name)
        if (info !== undefined) objects.push(info)
      }
    }
    const cursor = envelope.result_info?.cursor
    return cursor ? { objects, cursor } : { objects }
  }

  async delete(key: string): Promise<void> {
    this.#checkKey(key, 'delete')
    await this.#call('delete', key, async () => {
      const response = await this.#fetch(`/values/${encodeURIComponent(key)}`, { method: 'DELETE' })
      if (response.status === 404) {
        await response.body?.cancel()
        return
      }
      await this.#expectOk(response, 'delete', key)
    })
  }

  #checkKey(key: string, operation: string): void {
    assertValidKey(key, this.provider, operation)
    if (utf8.encode(key).length > KV_MAX_KEY_BYTES) {
      throw new StorageError(
        'INVALID_KEY',
        `KV key '${key.slice(0, 40)}…' is longer than ${KV_MAX_KEY_BYTES} bytes. Use a shorter key.`,
        { provider: this.provider, operation, key },
      )
    }
  }

  /** Reads a body into memory, refusing more than 25 MiB before sending anything. */
  async #buffer(key: string, body: Uint8Array | ReadableStream<Uint8Array>): Promise<Uint8Array> {
    const tooLarge = (size: string) =>
      new StorageError(
        'TOO_LARGE',
        `The value of '${key}' is ${size}, more than KV's 25 MiB limit. Store it in R2 (or another object store) and keep only a pointer in KV.`,
        { provider: this.provider, operation: 'put', key },
      )
    if (body instanceof Uint8Array) {
      if (body.length > KV_MAX_VALUE_BYTES) throw tooLarge(`${body.length} bytes`)
      return body
    }
    const chunks: Uint8Array[] = []
    let total = 0
    const reader = body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        total += value.length
        if (total > KV_MAX_VALUE_BYTES) {
          await reader.cancel()
          throw tooLarge('over 25 MiB')
        }
        chunks.push(value)
      }
    } catch (error) {
      if (error instanceof StorageError) throw error
      const reason = error instanceof Error ? error.message : String(error)
      throw new StorageError(
        'UPLOAD_FAILED',
        `Reading the body of '${key}' failed (${reason}); nothing was sent to KV. Fix the body stream and put it again.`,
        { provider: this.provider, operation: 'put', key },
        { cause: error },
      )
    }
    return concatChunks(chunks, total)
  }

  async #readValue(operation: string, key: string): Promise<Uint8Array | undefined> {
    return this.#call(operation, key, async () => {
      const response = await this.#fetch(`/values/${encodeURIComponent(key)}`)
      if (response.status === 404) {
        await response.body?.cancel()
        return undefined
      }
      await this.#expectOk(response, operation, key, false)
      return new Uint8Array(await response.arrayBuffer())
    })
  }

  #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.#base + path, {
      ...init,
      headers: {
        authorization: `Bearer ${this.#token}`,
        ...(init.headers as Record<string, string> | undefined),
      },
    })
  }

  /** Throws a mapped StorageError for a non-2xx answer; parses the JSON envelope when asked. */
  async #expectOk<T = unknown>(
    response: Response,
    operation: string,
    key: string,
    json = true,
  ): Promise<CloudflareEnvelope<T>> {
    if (response.ok) {
      if (!json) return { success: true, result: undefined as T }
      const envelope = (await response.json()) as CloudflareEnvelope<T>
      if (envelope.success !== false) return envelope
      throw this.#apiError(response.status, envelope, operation, key)
    }
    let envelope: CloudflareEnvelope<T> | undefined
    try {
      envelope = (await response.json()) as CloudflareEnvelope<T>
    } catch {
      envelope = undefined
    }
    throw this.#apiError(response.status, envelope, operation, key)
  }

  #apiError(
    status: number,
    envelope: CloudflareEnvelope<unknown> | undefined,
    operation: string,
    key: string,
  ): Error {
    const first = envelope?.errors?.[0]
    const context: StorageErrorContext = { provider: this.provider, operation, key }
    return storageErrorFrom(
      {
        status,
        ...(first ? { providerCode: `cloudflare-${first.code}`, detail: first.message } : {}),
      },
      context,
      envelope,
    )
  }

  #call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await run()
      } catch (error) {
        throw normalizeStorageError(error, { provider: this.provider, operation, key }, undefined)
      }
    }, this.#retry)
  }
}

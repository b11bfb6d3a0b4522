import { pipeline } from 'node:stream/promises'
import {
  type File,
  type FileMetadata,
  Storage as GcsClient,
  type StorageOptions,
} from '@google-cloud/storage'
import type { GcsStorageConfig } from '../config/types.js'
import { StorageError, type StorageErrorContext } from '../errors.js'
import { nodeStreamToBytes, toNodeReadable, toWebStream } from '../storage/bytes.js'
import { assertValidKey, assertValidPrefix, assertValidRange, normalizeRootPrefix } from '../storage/keys.js'
import { normalizeStorageError, type ProviderFailure } from '../storage/provider-error.js'
import { type RetryOptions, withRetry } from '../storage/retry.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

const MiB = 1024 * 1024

/** Options of {@link GcsStorage}: the `gcs` storage config without `provider`, plus tuning and test hooks. */
export interface GcsStorageOptions extends Omit<GcsStorageConfig, 'provider'> {
  /** A ready client (tests, custom credentials). Default: built from the config and Application Default Credentials. */
  client?: GcsClient
  /** Byte bodies larger than this use a resumable upload; smaller ones one multipart request. Default 8 MiB. Streams are always resumable. */
  resumableThreshold?: number
  /** Retries of throttled / unavailable calls. Default: 5 retries, 200 ms base, full jitter. */
  retry?: RetryOptions
}

/** HTTP status and reason of a `@google-cloud/storage` / gaxios error. */
function failureOf(error: unknown): ProviderFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as {
    code?: unknown
    status?: unknown
    response?: { status?: unknown }
    errors?: Array<{ reason?: unknown; message?: unknown }>
    message?: unknown
  }
  const status =
    typeof e.code === 'number'
      ? e.code
      : typeof e.response?.status === 'number'
        ? e.response.status
        : typeof e.status === 'number'
          ? e.status
          : undefined
  if (status === undefined) return undefined
  const reason = e.errors?.[0]?.reason
  return {
    status,
    ...(typeof reason === 'string' ? { providerCode: reason } : {}),
    ...(typeof e.message === 'string' && e.message !== '' ? { detail: e.message.slice(0, 300) } : {}),
  }
}

const statusOf = (error: unknown): number | undefined => failureOf(error)?.status

/** The object's generation: what GCS preconditions compare, and what {@link GcsStorage} reports as `etag`. */
const generationOf = (metadata: FileMetadata | undefined): string | undefined =>
  metadata?.generation === undefined || metadata.generation === null ? undefined : String(metadata.generation)

/**
 * Google Cloud Storage, through `@google-cloud/storage` (JSON API).
 *
 * - Credentials: Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, `gcloud auth
 *   application-default login`, the metadata server on GCP). The project from the config or ADC.
 * - Endpoint: `apiEndpoint` in the config, else `STORAGE_EMULATOR_HOST` (honoured by the SDK);
 *   with a custom endpoint the SDK sends no credentials (emulators, the test server).
 * - Uploads: byte bodies up to `resumableThreshold` are one multipart request; larger bodies and
 *   streams use a resumable upload. The SDK checks the CRC32C of every upload and whole download
 *   against the server's.
 * - `etag` is the object **generation** (as a string): GCS conditions writes on generations
 *   (`ifGenerationMatch`), so `ifMatch: 'absent'` sends `ifGenerationMatch=0` and
 *   `ifMatch: { etag }` sends `ifGenerationMatch=<etag>`; a failed condition is HTTP 412 →
 *   `PRECONDITION_FAILED`.
 * - Retries: one policy, {@link withRetry} (the SDK's own retry is off). Stream bodies are not retried.
 *
 * @example
 * ```ts
 * const registry = new GcsStorage({ bucket: 'acme-edgerec-models', prefix: 'edgerec' })
 * await registry.put('models/v1/manifest.json', bytes, { contentType: 'application/json' })
 * ```
 */
export class GcsStorage implements Storage {
  readonly provider = 'gcs'
  readonly bucket: string
  /** Key prefix inside the bucket (`''` or ending with `/`). */
  readonly prefix: string
  readonly client: GcsClient
  readonly #threshold: number
  readonly #retry: RetryOptions

  constructor(options: GcsStorageOptions) {
    if (typeof options?.bucket !== 'string' || options.bucket === '') {
      throw new StorageError('CONFIG_INVALID', "GCS storage needs a bucket. Pass { bucket: 'my-models' }.", {
        provider: 'gcs',
        operation: 'configure',
      })
    }
    this.bucket = options.bucket
    this.prefix = normalizeRootPrefix(options.prefix, 'gcs')
    this.#threshold = options.resumableThreshold ?? 8 * MiB
    this.#retry = options.retry ?? {}
    this.client = options.client ?? new GcsClient(GcsStorage.clientOptions(options))
  }

  /** The client options this class builds when none is injected. */
  static clientOptions(options: Omit<GcsStorageOptions, 'client'>): StorageOptions {
    return {
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      // NOTE: one retry policy (withRetry) instead of two stacked ones.
      retryOptions: { autoRetry: false },
    }
  }

  #file(key: string, generation?: string): File {
    return this.client
      .bucket(this.bucket)
      .file(this.prefix + key, generation === undefined ? {} : { generation: Number(generation) })
  }

  #info(key: string, metadata: FileMetadata | undefined, fallbackSize: number): ObjectInfo {
    const etag = generationOf(metadata)
    const updated = metadata?.updated
    return {
      key,
      size: metadata?.size === undefined ? fallbackSize : Number(metadata.size),
      ...(etag === undefined ? {} : { etag }),
      ...(typeof updated === 'string' ? { lastModified: new Date(updated) } : {}),
    }
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    assertValidKey(key, this.provider, 'put')
    let ifGenerationMatch: number | undefined
    if (options.ifMatch === 'absent') ifGenerationMatch = 0
    else if (options.ifMatch !== undefined) {
      ifGenerationMatch = Number(options.ifMatch.etag)
      if (!Number.isSafeInteger(ifGenerationMatch) || ifGenerationMatch < 0) {
        // A generation that cannot exist: the condition fails, as it would on the server.
        throw new StorageError(
          'PRECONDITION_FAILED',
          `gcs put of '${key}': the condition etag ${JSON.stringify(options.ifMatch.etag)} is not a GCS generation, so it cannot match. Pass the etag a GcsStorage put/head/list returned.`,
          { provider: this.provider, operation: 'put', key },
        )
      }
    }
    const writeOptions = {
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(ifGenerationMatch === undefined ? {} : { preconditionOpts: { ifGenerationMatch } }),
    }
    if (body instanceof Uint8Array) {
      return this.#call('put', key, async () => {
        const file = this.#file(key)
        const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
        await file.save(data, { ...writeOptions, resumable: body.length > this.#threshold })
        return this.#info(key, file.metadata, body.length)
      })
    }
    return this.#once('put', key, async () => {
      const file = this.#file(key)
      let size = 0
      const source = toNodeReadable(body)
      source.on('data', (chunk: Uint8Array) => {
        size += chunk.length
      })
      try {
        await pipeline(source, file.createWriteStream({ ...writeOptions, resumable: true }))
      } catch (error) {
        if (failureOf(error) !== undefined) throw error
        const reason = error instanceof Error ? error.message : String(error)
        throw new StorageError(
          'UPLOAD_FAILED',
          `The upload of '${key}' failed part-way (${reason}); nothing was published: a resumable upload that is not finished never becomes an object. Fix the cause (body stream, network) and put it again.`,
          { provider: this.provider, operation: 'put', key },
          { cause: error },
        )
      }
      return this.#info(key, file.metadata, size)
    })
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'get')
    return this.#call('get', key, async () => {
      try {
        const [contents] = await this.#file(key).download()
        return new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength)
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    })
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'getRange')
    assertValidRange(range, this.provider, key)
    // An empty range cannot be expressed as an HTTP Range: answer from the metadata.
    if (range.end === range.start) return (await this.head(key)) === undefined ? undefined : new Uint8Array(0)
    return this.#call('getRange', key, async () => {
      try {
        const stream = this.#file(key).createReadStream({
          start: range.start,
          ...(range.end === undefined ? {} : { end: range.end - 1 }),
        })
        return await nodeStreamToBytes(stream)
      } catch (error) {
        const status = statusOf(error)
        if (status === 404) return undefined
        // 416: the object exists but the range starts at or after its end.
        if (status === 416) return new Uint8Array(0)
        throw error
      }
    })
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    assertValidKey(key, this.provider, 'getStream')
    // The SDK reports a missing object only once the stream is read: look first, then read
    // exactly the generation that was found (a concurrent overwrite cannot mix two versions).
    const info = await this.head(key)
    if (info === undefined) return undefined
    return toWebStream(this.#file(key, info.etag).createReadStream())
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key, this.provider, 'head')
    return this.#call('head', key, async () => {
      try {
        const [metadata] = await this.#file(key).getMetadata()
        return this.#info(key, metadata, 0)
      } catch (error) {
        if (statusOf(error) === 404) return undefined
        throw error
      }
    })
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    assertValidPrefix(prefix, this.provider)
    const [files, next] = await this.#call('list', prefix, () =>
      this.client.bucket(this.bucket).getFiles({
        prefix: this.prefix + prefix,
        autoPaginate: false,
        ...(options.limit !== undefined ? { maxResults: Math.max(1, Math.floor(options.limit)) } : {}),
        ...(options.cursor !== undefined ? { pageToken: options.cursor } : {}),
      }),
    )
    const objects = files.map((file) => this.#info(file.name.slice(this.prefix.length), file.metadata, 0))
    const cursor = (next as { pageToken?: unknown } | null | undefined)?.pageToken
    return typeof cursor === 'string' && cursor !== '' ? { objects, cursor } : { objects }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key, this.provider, 'delete')
    await this.#call('delete', key, async () => {
      await this.#file(key).delete({ ignoreNotFound: true })
    })
  }

  /** One attempt, errors normalized. */
  async #once<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      throw this.#normalize(error, operation, key)
    }
  }

  /** Retried attempts, errors normalized. */
  #call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    return withRetry(() => this.#once(operation, key, run), this.#retry)
  }

  #normalize(error: unknown, operation: string, key: string): Error {
    const context: StorageErrorContext = { provider: this.provider, operation, key }
    const message = error instanceof Error ? error.message : ''
    if (/Could not load the default credentials|Unable to detect a Project Id/i.test(message)) {
      return new StorageError(
        'CREDENTIALS_MISSING',
        `No Google credentials for gcs ${operation} of '${key}': Application Default Credentials found none. Run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS, or run on GCP with a service account.`,
        context,
        { cause: error },
      )
    }
    return normalizeStorageError(error, context, failureOf(error))
  }
}

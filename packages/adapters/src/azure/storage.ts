import { DefaultAzureCredential } from '@azure/identity'
import {
  type BlobRequestConditions,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
} from '@azure/storage-blob'
import type { AzureBlobStorageConfig } from '../config/types.js'
import { StorageError, type StorageErrorContext } from '../errors.js'
import { nodeStreamToBytes, toNodeReadable, toWebStream } from '../storage/bytes.js'
import { assertValidKey, assertValidPrefix, assertValidRange, normalizeRootPrefix } from '../storage/keys.js'
import { normalizeStorageError, type ProviderFailure } from '../storage/provider-error.js'
import { type RetryOptions, withRetry } from '../storage/retry.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

const MiB = 1024 * 1024

/** Options of {@link AzureBlobStorage}: the `azure-blob` storage config without `provider`, plus tuning and test hooks. */
export interface AzureBlobStorageOptions extends Omit<AzureBlobStorageConfig, 'provider'> {
  /** A ready container client (tests, custom credentials). Default: built from the config. */
  client?: ContainerClient
  /** Block size of staged uploads. Default 8 MiB. */
  blockSize?: number
  /** Blocks uploaded in parallel. Default 4. */
  concurrency?: number
  /** Byte bodies larger than this are staged in blocks; smaller ones are one Put Blob. Default 16 MiB. */
  singleShotThreshold?: number
  /** Retries of throttled / unavailable calls. Default: 5 retries, 200 ms base, full jitter. */
  retry?: RetryOptions
}

/** HTTP status and error code of an `@azure/storage-blob` RestError. */
function failureOf(error: unknown): ProviderFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown }
  if (typeof e.statusCode !== 'number') return undefined
  const detail = typeof e.message === 'string' ? (e.message.split('\n')[0] ?? '').slice(0, 300) : ''
  return {
    status: e.statusCode,
    ...(typeof e.code === 'string' && e.code !== '' ? { providerCode: e.code } : {}),
    ...(detail !== '' ? { detail } : {}),
  }
}

const isNotFound = (error: unknown): boolean => {
  const failure = failureOf(error)
  return failure?.status === 404 && failure.providerCode !== 'ContainerNotFound'
}

/**
 * Azure Blob Storage (block blobs) through `@azure/storage-blob`.
 *
 * - Credentials: a connection string from the env var named by `connectionStringEnv` (never the
 *   string itself in config), else `DefaultAzureCredential` (`@azure/identity`: environment,
 *   workload identity, managed identity, Azure CLI …) against `accountUrl`.
 * - Uploads: byte bodies up to `singleShotThreshold` are one Put Blob; larger bodies and streams
 *   are staged as blocks and committed with Put Block List. Staged blocks that are never committed
 *   are invisible (Azure discards them after a week), so a failed upload publishes nothing.
 * - Conditional puts: `If-None-Match: *` / `If-Match: <etag>` (on the Put Blob or the final Put
 *   Block List); HTTP 409 `BlobAlreadyExists` / 412 `ConditionNotMet` → `PRECONDITION_FAILED`.
 * - Retries: one policy, {@link withRetry} (the SDK's own retry is set to one try). Stream bodies
 *   are not retried.
 *
 * @example
 * ```ts
 * const registry = new AzureBlobStorage({ container: 'models', accountUrl: 'https://acme.blob.core.windows.net' })
 * ```
 */
export class AzureBlobStorage implements Storage {
  readonly provider = 'azure-blob'
  readonly container: string
  /** Key prefix inside the container (`''` or ending with `/`). */
  readonly prefix: string
  readonly client: ContainerClient
  readonly #blockSize: number
  readonly #concurrency: number
  readonly #threshold: number
  readonly #retry: RetryOptions

  constructor(options: AzureBlobStorageOptions) {
    const context = { provider: 'azure-blob', operation: 'configure' }
    if (typeof options?.container !== 'string' || options.container === '') {
      throw new StorageError(
        'CONFIG_INVALID',
        "Azure Blob storage needs a container. Pass { container: 'models' }.",
        context,
      )
    }
    this.container = options.container
    this.prefix = normalizeRootPrefix(options.prefix, 'azure-blob')
    this.#blockSize = Math.max(1 * MiB, options.blockSize ?? 8 * MiB)
    this.#concurrency = Math.max(1, options.concurrency ?? 4)
    this.#threshold = options.singleShotThreshold ?? 16 * MiB
    this.#retry = options.retry ?? {}
    this.client = options.client ?? AzureBlobStorage.#containerClient(options)
  }

  static #containerClient(options: AzureBlobStorageOptions): ContainerClient {
    const context = { provider: 'azure-blob', operation: 'configure' }
    const pipelineOptions = { retryOptions: { maxTries: 1 } }
    if (options.connectionStringEnv !== undefined) {
      const connectionString = process.env[options.connectionStringEnv]
      if (connectionString === undefined || connectionString === '') {
        throw new StorageError(
          'CREDENTIALS_MISSING',
          `Azure Blob storage: the environment variable ${options.connectionStringEnv} (storage.connectionStringEnv) is not set. Set it to the storage account's connection string, or remove connectionStringEnv and use accountUrl with DefaultAzureCredential.`,
          context,
        )
      }
      return BlobServiceClient.fromConnectionString(connectionString, pipelineOptions).getContainerClient(
        options.container,
      )
    }
    if (options.accountUrl === undefined || options.accountUrl === '') {
      throw new StorageError(
        'CONFIG_INVALID',
        "Azure Blob storage needs storage.accountUrl ('https://<account>.blob.core.windows.net', used with DefaultAzureCredential) or storage.connectionStringEnv (the NAME of an env var holding a connection string).",
        context,
      )
    }
    return new BlobServiceClient(
      options.accountUrl,
      new DefaultAzureCredential(),
      pipelineOptions,
    ).getContainerClient(options.container)
  }

  #blob(key: string): BlockBlobClient {
    return this.client.getBlockBlobClient(this.prefix + key)
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    assertValidKey(key, this.provider, 'put')
    const conditions: BlobRequestConditions =
      options.ifMatch === 'absent'
        ? { ifNoneMatch: '*' }
        : options.ifMatch !== undefined
          ? { ifMatch: options.ifMatch.etag }
          : {}
    const common = {
      conditions,
      ...(options.contentType ? { blobHTTPHeaders: { blobContentType: options.contentType } } : {}),
    }
    if (body instanceof Uint8Array) {
      return this.#call('put', key, async () => {
        const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
        const out = await this.#blob(key).uploadData(data, {
          ...common,
          maxSingleShotSize: this.#threshold,
          blockSize: this.#blockSize,
          concurrency: this.#concurrency,
        })
        return { key, size: body.length, ...(out.etag ? { etag: out.etag } : {}) }
      })
    }
    return this.#once('put', key, async () => {
      let size = 0
      const source = toNodeReadable(body)
      source.on('data', (chunk: Uint8Array) => {
        size += chunk.length
      })
      try {
        const out = await this.#blob(key).uploadStream(source, this.#blockSize, this.#concurrency, common)
        return { key, size, ...(out.etag ? { etag: out.etag } : {}) }
      } catch (error) {
        if (failureOf(error) !== undefined) throw error
        const reason = error instanceof Error ? error.message : String(error)
        throw new StorageError(
          'UPLOAD_FAILED',
          `The upload of '${key}' failed part-way (${reason}); nothing was published: staged blocks are never committed and Azure discards them. Fix the cause (body stream, network) and put it again.`,
          { provider: this.provider, operation: 'put', key },
          { cause: error },
        )
      }
    })
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'get')
    return this.#read('get', key, 0, undefined)
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'getRange')
    assertValidRange(range, this.provider, key)
    // An empty range cannot be expressed as an HTTP Range: answer from the metadata.
    if (range.end === range.start) return (await this.head(key)) === undefined ? undefined : new Uint8Array(0)
    return this.#read(
      'getRange',
      key,
      range.start,
      range.end === undefined ? undefined : range.end - range.start,
    )
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    assertValidKey(key, this.provider, 'getStream')
    return this.#call('getStream', key, async () => {
      try {
        const out = await this.#blob(key).download(0)
        return out.readableStreamBody === undefined ? undefined : toWebStream(out.readableStreamBody)
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key, this.provider, 'head')
    return this.#call('head', key, async () => {
      try {
        const out = await this.#blob(key).getProperties()
        return {
          key,
          size: out.contentLength ?? 0,
          ...(out.etag ? { etag: out.etag } : {}),
          ...(out.lastModified ? { lastModified: out.lastModified } : {}),
        }
      } catch (error) {
        if (isNotFound(error)) return undefined
        throw error
      }
    })
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    assertValidPrefix(prefix, this.provider)
    const page = await this.#call('list', prefix, async () => {
      const pages = this.client.listBlobsFlat({ prefix: this.prefix + prefix }).byPage({
        ...(options.limit !== undefined ? { maxPageSize: Math.max(1, Math.floor(options.limit)) } : {}),
        ...(options.cursor !== undefined ? { continuationToken: options.cursor } : {}),
      })
      const next = await pages.next()
      return next.done ? undefined : next.value
    })
    const objects: ObjectInfo[] = (page?.segment.blobItems ?? []).map((item) => ({
      key: item.name.slice(this.prefix.length),
      size: item.properties.contentLength ?? 0,
      ...(item.properties.etag ? { etag: item.properties.etag } : {}),
      ...(item.properties.lastModified ? { lastModified: item.properties.lastModified } : {}),
    }))
    const cursor = page?.continuationToken
    return cursor ? { objects, cursor } : { objects }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key, this.provider, 'delete')
    await this.#call('delete', key, async () => {
      await this.#blob(key).deleteIfExists()
    })
  }

  async #read(
    operation: string,
    key: string,
    offset: number,
    count: number | undefined,
  ): Promise<Uint8Array | undefined> {
    return this.#call(operation, key, async () => {
      try {
        const out = await this.#blob(key).download(offset, count)
        return out.readableStreamBody === undefined
          ? new Uint8Array(0)
          : await nodeStreamToBytes(out.readableStreamBody)
      } catch (error) {
        if (isNotFound(error)) return undefined
        // 416: the blob exists but the range starts at or after its end.
        if (operation === 'getRange' && failureOf(error)?.status === 416) return new Uint8Array(0)
        throw error
      }
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
    const name = (error as { name?: unknown } | null)?.name
    if (name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError') {
      return new StorageError(
        'CREDENTIALS_MISSING',
        `No Azure credentials for azure-blob ${operation} of '${key}': DefaultAzureCredential found none. Sign in with 'az login', set AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, use a managed identity, or set storage.connectionStringEnv.`,
        context,
        { cause: error },
      )
    }
    return normalizeStorageError(error, context, failureOf(error))
  }
}

import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { S3StorageConfig } from '../config/types.js'
import { StorageError, type StorageErrorContext } from '../errors.js'
import { assertValidKey, assertValidPrefix, assertValidRange, normalizeRootPrefix } from '../storage/keys.js'
import { normalizeStorageError } from '../storage/provider-error.js'
import { type RetryOptions, withRetry } from '../storage/retry.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

const MiB = 1024 * 1024

/** Options of {@link S3Storage}: the `s3` storage config without `provider`, plus tuning and test hooks. */
export interface S3StorageOptions extends Omit<S3StorageConfig, 'provider'> {
  /** A ready client (tests, custom credentials). Default: built from the config and the AWS default credential chain. */
  client?: S3Client
  /** Multipart part size. Default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number
  /** Parts uploaded in parallel. Default 4. */
  queueSize?: number
  /** Byte bodies larger than this go through multipart. Default 16 MiB. Streams always may. */
  multipartThreshold?: number
  /** Retries of throttled / unavailable calls. Default: 5 retries, 200 ms base, full jitter. */
  retry?: RetryOptions
}

/** HTTP status and error name of an SDK error. */
function failureOf(error: unknown): { status?: number; providerCode?: string; detail?: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { $metadata?: { httpStatusCode?: number }; name?: string; message?: string }
  const status = e.$metadata?.httpStatusCode
  if (status === undefined) return undefined
  return {
    status,
    ...(e.name && e.name !== 'Error' ? { providerCode: e.name } : {}),
    ...(e.message && e.message !== 'UnknownError' && e.message !== e.name ? { detail: e.message } : {}),
  }
}

const isNoSuchKey = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null
  return e?.name === 'NoSuchKey' || (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404)
}

const isInvalidRange = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null
  return e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416
}

/**
 * Some S3-compatible servers answer more than the asked range (s3rver ignores `bytes=0-0`, some
 * proxies drop `Range`): cut the answer to the range, using `Content-Range` to know where it starts
 * (no `Content-Range` = the whole object).
 */
function trimToRange(bytes: Uint8Array, contentRange: string | undefined, wanted: ByteRange): Uint8Array {
  const served = /^bytes (\d+)-/.exec(contentRange ?? '')
  const offset = served ? Number(served[1]) : 0
  const from = wanted.start - offset
  const to = wanted.end === undefined ? bytes.length : wanted.end - offset
  if (from === 0 && to >= bytes.length) return bytes
  return bytes.slice(Math.max(0, from), Math.max(0, Math.min(to, bytes.length)))
}

/** Counts the bytes that pass through. */
function counting(body: ReadableStream<Uint8Array>): {
  stream: ReadableStream<Uint8Array>
  bytes: () => number
} {
  let total = 0
  const stream = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length
        controller.enqueue(chunk)
      },
    }),
  )
  return { stream, bytes: () => total }
}

/**
 * Amazon S3 storage (and any S3-compatible endpoint: R2 through {@link R2Storage}, s3rver in tests).
 *
 * - Credentials: the AWS default provider chain (env `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
 *   `AWS_PROFILE` + `~/.aws`, SSO, web identity, ECS/EC2 roles). Region from the config, else the chain.
 * - Byte bodies up to `multipartThreshold` are one PutObject; larger bodies and streams go through
 *   `@aws-sdk/lib-storage` Upload (multipart, `partSize` parts, `queueSize` in parallel). A failed
 *   multipart upload is aborted (AbortMultipartUpload) and nothing becomes visible.
 * - Conditional puts send `If-None-Match: *` / `If-Match: <etag>` (PutObject and
 *   CompleteMultipartUpload, supported by S3 since 2024).
 * - Retries: throttling (429, 503 SlowDown) and 5xx are retried with exponential backoff and jitter
 *   by {@link withRetry}; the SDK's own retry is off so there is one policy. Stream bodies can be
 *   read once, so a stream put is not retried.
 *
 * @example
 * ```ts
 * const registry = new S3Storage({ bucket: 'my-models', region: 'eu-west-1', prefix: 'edgerec' })
 * const manifest = await registry.get('models/v1/manifest.json')
 * ```
 */
export class S3Storage implements Storage {
  readonly provider: string = 's3'
  readonly bucket: string
  /** Key prefix inside the bucket (`''` or ending with `/`). */
  readonly prefix: string
  readonly client: S3Client
  readonly #partSize: number
  readonly #queueSize: number
  readonly #threshold: number
  readonly #retry: RetryOptions

  constructor(options: S3StorageOptions) {
    if (typeof options?.bucket !== 'string' || options.bucket === '') {
      throw new StorageError('CONFIG_INVALID', "S3 storage needs a bucket. Pass { bucket: 'my-models' }.", {
        provider: 's3',
        operation: 'configure',
      })
    }
    this.bucket = options.bucket
    this.prefix = normalizeRootPrefix(options.prefix, 's3')
    this.#partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB)
    this.#queueSize = Math.max(1, options.queueSize ?? 4)
    this.#threshold = options.multipartThreshold ?? 16 * MiB
    this.#retry = options.retry ?? {}
    this.client = options.client ?? new S3Client(S3Storage.clientConfig(options))
  }

  /** The client config this class builds when none is injected. */
  static clientConfig(options: Omit<S3StorageOptions, 'client'>): S3ClientConfig {
    const custom = options.endpoint !== undefined
    return {
      ...(options.region ? { region: options.region } : {}),
      ...(custom ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      // NOTE: one retry policy (withRetry) instead of two stacked ones.
      maxAttempts: 1,
      // S3-compatible servers (R2, s3rver, MinIO) do not all accept the flexible checksums the SDK
      // adds by default since 3.729; send and check them only where the API requires it.
      ...(custom
        ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
    }
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    assertValidKey(key, this.provider, 'put')
    const params: PutObjectCommandInput = {
      Bucket: this.bucket,
      Key: this.prefix + key,
      ...(options.contentType ? { ContentType: options.contentType } : {}),
      ...(options.ifMatch === 'absent' ? { IfNoneMatch: '*' } : {}),
      ...(options.ifMatch !== undefined && options.ifMatch !== 'absent'
        ? { IfMatch: options.ifMatch.etag }
        : {}),
    }
    if (body instanceof Uint8Array) {
      if (body.length <= this.#threshold) {
        const out = await this.#call('put', key, () =>
          this.client.send(new PutObjectCommand({ ...params, Body: body, ContentLength: body.length })),
        )
        return { key, size: body.length, ...(out.ETag ? { etag: out.ETag } : {}) }
      }
      const etag = await this.#call('put', key, () => this.#multipart(key, params, body))
      return { key, size: body.length, ...(etag ? { etag } : {}) }
    }
    const counted = counting(body)
    const etag = await this.#once('put', key, () => this.#multipart(key, params, counted.stream))
    return { key, size: counted.bytes(), ...(etag ? { etag } : {}) }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'get')
    return this.#read('get', key, undefined)
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    assertValidKey(key, this.provider, 'getRange')
    assertValidRange(range, this.provider, key)
    // An empty range cannot be expressed as an HTTP Range: answer from the metadata.
    if (range.end === range.start) return (await this.head(key)) === undefined ? undefined : new Uint8Array(0)
    const header = `bytes=${range.start}-${range.end === undefined ? '' : range.end - 1}`
    return this.#read('getRange', key, header, range)
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    assertValidKey(key, this.provider, 'getStream')
    const out = await this.#getObject('getStream', key, undefined)
    return out?.Body?.transformToWebStream() as ReadableStream<Uint8Array> | undefined
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key, this.provider, 'head')
    return this.#call('head', key, async () => {
      try {
        const out = await this.client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
        )
        return {
          key,
          size: out.ContentLength ?? 0,
          ...(out.ETag ? { etag: out.ETag } : {}),
          ...(out.LastModified ? { lastModified: out.LastModified } : {}),
        }
      } catch (error) {
        if (isNoSuchKey(error)) return undefined
        throw error
      }
    })
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    assertValidPrefix(prefix, this.provider)
    const out = await this.#call('list', prefix, () =>
      this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ...(options.limit !== undefined ? { MaxKeys: Math.max(1, Math.floor(options.limit)) } : {}),
          ...(options.cursor !== undefined ? { ContinuationToken: options.cursor } : {}),
        }),
      ),
    )
    const objects: ObjectInfo[] = (out.Contents ?? []).map((entry) => ({
      key: (entry.Key ?? '').slice(this.prefix.length),
      size: entry.Size ?? 0,
      ...(entry.ETag ? { etag: entry.ETag } : {}),
      ...(entry.LastModified ? { lastModified: entry.LastModified } : {}),
    }))
    return out.IsTruncated && out.NextContinuationToken
      ? { objects, cursor: out.NextContinuationToken }
      : { objects }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key, this.provider, 'delete')
    await this.#call('delete', key, async () => {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }))
      } catch (error) {
        if (!isNoSuchKey(error)) throw error
      }
    })
  }

  async #read(
    operation: string,
    key: string,
    range: string | undefined,
    wanted?: ByteRange,
  ): Promise<Uint8Array | undefined> {
    return this.#call(operation, key, async () => {
      let out: GetObjectCommandOutput | undefined
      try {
        out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: range }),
        )
      } catch (error) {
        if (isNoSuchKey(error)) return undefined
        // 416: the object exists but the range starts at or after its end.
        if (range !== undefined && isInvalidRange(error)) return new Uint8Array(0)
        throw error
      }
      const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0)
      return wanted === undefined ? bytes : trimToRange(bytes, out.ContentRange, wanted)
    })
  }

  async #getObject(
    operation: string,
    key: string,
    range: string | undefined,
  ): Promise<GetObjectCommandOutput | undefined> {
    return this.#call(operation, key, async () => {
      try {
        return await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: range }),
        )
      } catch (error) {
        if (isNoSuchKey(error)) return undefined
        throw error
      }
    })
  }

  /** A multipart upload through lib-storage; on failure the upload is aborted here, explicitly. */
  async #multipart(
    key: string,
    params: PutObjectCommandInput,
    body: Uint8Array | ReadableStream<Uint8Array>,
  ): Promise<string | undefined> {
    const upload = new Upload({
      client: this.client,
      params: { ...params, Body: body },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // NOTE: we abort ourselves so that a failing abort cannot hide the error that caused it.
      leavePartsOnError: true,
    })
    try {
      const out = await upload.done()
      return out.ETag
    } catch (error) {
      let abortNote = 'no multipart upload had started'
      if (upload.uploadId !== undefined) {
        abortNote = 'the multipart upload was aborted'
        try {
          await this.client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: this.prefix + key,
              UploadId: upload.uploadId,
            }),
          )
        } catch (abortError) {
          const reason = abortError instanceof Error ? abortError.message : String(abortError)
          abortNote = `aborting the multipart upload failed too (${reason}); its parts stay invisible until a lifecycle rule (AbortIncompleteMultipartUpload) removes them`
        }
      }
      const mapped = this.#normalize(error, 'put', key)
      if (mapped instanceof StorageError && mapped.code !== 'PROVIDER_ERROR') {
        throw new StorageError(
          mapped.code,
          `${mapped.message} Nothing was published: ${abortNote}.`,
          mapped,
          {
            cause: error,
          },
        )
      }
      const reason = error instanceof Error ? error.message : String(error)
      throw new StorageError(
        'UPLOAD_FAILED',
        `The upload of '${key}' failed part-way (${reason}); nothing was published: ${abortNote}. Fix the cause (body stream, network) and put it again.`,
        { provider: this.provider, operation: 'put', key },
        { cause: error },
      )
    }
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
    if (name === 'CredentialsProviderError') {
      return new StorageError(
        'CREDENTIALS_MISSING',
        `No AWS credentials for ${this.provider} ${operation} of '${key}': the default provider chain found none. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an IAM role (for R2: an R2 API token's access key pair).`,
        context,
        { cause: error },
      )
    }
    if (error instanceof Error && /Region is missing/i.test(error.message)) {
      return new StorageError(
        'CONFIG_INVALID',
        `No AWS region for the ${this.provider} storage. Set region in the storage config or AWS_REGION.`,
        context,
        { cause: error },
      )
    }
    return normalizeStorageError(error, context, failureOf(error))
  }
}

import { AdapterError } from '../errors.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

/** The part of a Workers `KVNamespace` binding this module uses. */
export interface KvNamespaceBinding {
  get(key: string, type: 'arrayBuffer'): Promise<ArrayBuffer | null>
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string,
    options?: { metadata?: unknown },
  ): Promise<void>
  delete(key: string): Promise<void>
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    keys: Array<{ name: string; metadata?: unknown }>
    list_complete: boolean
    cursor?: string
  }>
}

/** The part of an R2 object's metadata this module uses. */
export interface R2ObjectInfo {
  key: string
  size: number
  etag: string
  uploaded: Date
}

/** The part of a Workers `R2Bucket` binding this module uses. */
export interface R2BucketBinding {
  put(
    key: string,
    value: ArrayBuffer | ArrayBufferView | string,
    options?: { httpMetadata?: { contentType?: string } },
  ): Promise<R2ObjectInfo | null>
  get(
    key: string,
    options?: { range?: { offset: number; length?: number } },
  ): Promise<(R2ObjectInfo & { arrayBuffer(): Promise<ArrayBuffer> }) | null>
  head(key: string): Promise<R2ObjectInfo | null>
  delete(keys: string | string[]): Promise<void>
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{
    objects: R2ObjectInfo[]
    truncated: boolean
    cursor?: string
  }>
}

async function toBytes(body: Uint8Array | ReadableStream<Uint8Array>): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body
  return new Uint8Array(await new Response(body).arrayBuffer())
}

function unsupportedCondition(provider: string): AdapterError {
  return new AdapterError(
    'UNSUPPORTED',
    `Conditional writes are not supported on the ${provider} binding storage. Write without ifMatch.`,
  )
}

/**
 * {@link Storage} over a Workers KV binding (Miniflare, `getPlatformProxy`, or inside a Worker).
 * KV has no ranged reads: `getRange` reads the value and slices it. Values are limited to 25 MiB.
 */
export class KvBindingStorage implements Storage {
  readonly provider = 'kv-binding'
  readonly #kv: KvNamespaceBinding

  constructor(kv: KvNamespaceBinding) {
    this.#kv = kv
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<ObjectInfo> {
    if (options?.ifMatch) throw unsupportedCondition(this.provider)
    const bytes = await toBytes(body)
    // The size rides along as metadata so that list() can report it without reading values.
    await this.#kv.put(key, bytes, { metadata: { size: bytes.length } })
    return { key, size: bytes.length }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.#kv.get(key, 'arrayBuffer')
    return value === null ? undefined : new Uint8Array(value)
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    return (await this.get(key))?.slice(range.start, range.end)
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = await this.get(key)
    if (!bytes) return undefined
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes)
        controller.close()
      },
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const bytes = await this.get(key)
    return bytes ? { key, size: bytes.length } : undefined
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const page = await this.#kv.list({ prefix, ...options })
    const objects: ObjectInfo[] = []
    for (const { name, metadata } of page.keys) {
      const size = (metadata as { size?: unknown } | undefined)?.size
      // NOTE: keys written by other tools carry no size metadata; -1 says "unknown" without a read.
      objects.push({ key: name, size: typeof size === 'number' ? size : -1 })
    }
    const result: ListPage = { objects }
    if (!page.list_complete && page.cursor) result.cursor = page.cursor
    return result
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete(key)
  }
}

/** {@link Storage} over a Workers R2 binding (Miniflare, `getPlatformProxy`, or inside a Worker). */
export class R2BindingStorage implements Storage {
  readonly provider = 'r2-binding'
  readonly #r2: R2BucketBinding

  constructor(r2: R2BucketBinding) {
    this.#r2 = r2
  }

  #info(object: R2ObjectInfo): ObjectInfo {
    return { key: object.key, size: object.size, etag: object.etag, lastModified: new Date(object.uploaded) }
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options?: PutOptions,
  ): Promise<ObjectInfo> {
    if (options?.ifMatch) throw unsupportedCondition(this.provider)
    const bytes = await toBytes(body)
    const object = await this.#r2.put(
      key,
      bytes,
      options?.contentType ? { httpMetadata: { contentType: options.contentType } } : undefined,
    )
    return object ? this.#info(object) : { key, size: bytes.length }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const object = await this.#r2.get(key)
    return object ? new Uint8Array(await object.arrayBuffer()) : undefined
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    const r: { offset: number; length?: number } = { offset: range.start }
    if (range.end !== undefined) r.length = Math.max(0, range.end - range.start)
    const object = await this.#r2.get(key, { range: r })
    return object ? new Uint8Array(await object.arrayBuffer()) : undefined
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = await this.get(key)
    if (!bytes) return undefined
    return new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes)
        controller.close()
      },
    })
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const object = await this.#r2.head(key)
    return object ? this.#info(object) : undefined
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const page = await this.#r2.list({ prefix, ...options })
    const result: ListPage = { objects: page.objects.map((o) => this.#info(o)) }
    if (page.truncated && page.cursor) result.cursor = page.cursor
    return result
  }

  async delete(key: string): Promise<void> {
    await this.#r2.delete(key)
  }
}

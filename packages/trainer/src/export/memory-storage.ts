/**
 * A `Storage` over a Map, with optional injected failures: for tests of the export's atomicity
 * and for callers that want a model in memory. Not a provider: use `@edgerec/adapters` for real storage.
 *
 * @module
 */
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '@edgerec/adapters'

/** In-memory storage. `failOnPut(key)` makes a put throw, to simulate a provider failing mid-export. */
export class MemoryStorage implements Storage {
  readonly provider = 'memory'
  readonly objects = new Map<string, Uint8Array>()
  /** Return true to make the put of `key` fail. */
  failOnPut: ((key: string, index: number) => boolean) | undefined
  #puts = 0

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    _options?: PutOptions,
  ): Promise<ObjectInfo> {
    const index = this.#puts++
    if (this.failOnPut?.(key, index)) throw new Error(`injected failure writing ${key}`)
    const bytes =
      body instanceof Uint8Array ? body.slice() : new Uint8Array(await new Response(body).arrayBuffer())
    this.objects.set(key, bytes)
    return { key, size: bytes.byteLength }
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)
  }
  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.slice(range.start, range.end)
  }
  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = this.objects.get(key)
    return bytes ? new Response(bytes).body! : undefined
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const bytes = this.objects.get(key)
    return bytes ? { key, size: bytes.byteLength } : undefined
  }
  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (options.cursor === undefined || k > options.cursor))
      .sort()
    const limit = options.limit ?? 1000
    const page = keys.slice(0, limit)
    const result: ListPage = {
      objects: page.map((key) => ({ key, size: this.objects.get(key)!.byteLength })),
    }
    if (keys.length > limit) result.cursor = page.at(-1)!
    return result
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key)
  }
}

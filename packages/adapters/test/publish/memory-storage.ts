/**
 * An in-memory Storage used as the SOURCE registry of publisher tests (the unit under test is the
 * publisher and its real Miniflare/wrangler target), and wrappers that inject faults into a real
 * storage: a failing call mid-upload, throttling.
 */
import { AdapterError } from '../../src/errors.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../../src/storage/storage.js'

/** Storage over a Map, keys sorted on list. */
export class MemoryStorage implements Storage {
  readonly provider = 'memory'
  readonly objects = new Map<string, Uint8Array>()

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    _options?: PutOptions,
  ): Promise<ObjectInfo> {
    const bytes =
      body instanceof Uint8Array ? body.slice() : new Uint8Array(await new Response(body).arrayBuffer())
    this.objects.set(key, bytes)
    return { key, size: bytes.length }
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.slice()
  }
  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.slice(range.start, range.end)
  }
  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const bytes = this.objects.get(key)
    return bytes ? new Response(bytes.slice()).body! : undefined
  }
  async head(key: string): Promise<ObjectInfo | undefined> {
    const bytes = this.objects.get(key)
    return bytes ? { key, size: bytes.length } : undefined
  }
  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()
    const start = options.cursor ? keys.indexOf(options.cursor) + 1 : 0
    const limit = options.limit ?? 1000
    const page = keys.slice(start, start + limit)
    const result: ListPage = { objects: page.map((key) => ({ key, size: this.objects.get(key)!.length })) }
    if (start + limit < keys.length) result.cursor = page.at(-1)!
    return result
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key)
  }
}

/** A storage that forwards every call to `inner` (private fields of `inner` stay on `inner`). */
function forwarding(inner: Storage): Storage {
  return {
    provider: inner.provider,
    put: (key, body, options) => inner.put(key, body, options),
    get: (key) => inner.get(key),
    getRange: (key, range) => inner.getRange(key, range),
    getStream: (key) => inner.getStream(key),
    head: (key) => inner.head(key),
    list: (prefix, options) => inner.list(prefix, options),
    delete: (key) => inner.delete(key),
  }
}

/** Wraps a storage so that `put` number `failAt` (1-based) and later ones fail (a permission error). */
export function failingPuts(storage: Storage, failAt: number): Storage & { puts: number } {
  const wrapper = { ...forwarding(storage), puts: 0 }
  wrapper.put = async (key, body, options) => {
    wrapper.puts++
    if (wrapper.puts >= failAt)
      throw new AdapterError('AUTH', `Injected failure on put #${wrapper.puts} (${key}).`)
    return storage.put(key, body, options)
  }
  return wrapper
}

/** Wraps a storage so that the first `times` puts of every key fail with THROTTLED. */
export function throttledPuts(storage: Storage, times: number): Storage & { throttled: number } {
  const attempts = new Map<string, number>()
  const wrapper = { ...forwarding(storage), throttled: 0 }
  wrapper.put = async (key, body, options) => {
    const n = (attempts.get(key) ?? 0) + 1
    attempts.set(key, n)
    if (n <= times) {
      wrapper.throttled++
      throw new AdapterError('THROTTLED', `Injected 429 on ${key} (attempt ${n}).`)
    }
    return storage.put(key, body, options)
  }
  return wrapper
}

/**
 * Wraps a storage so that puts of keys matching `match` store the bytes with one byte flipped
 * (same size): a corruption in transit or at rest that a size check cannot see.
 */
export function corruptingPuts(storage: Storage, match: (key: string) => boolean): Storage {
  const wrapper = forwarding(storage)
  wrapper.put = async (key, body, options) => {
    if (!match(key) || !(body instanceof Uint8Array)) return storage.put(key, body, options)
    const bytes = body.slice()
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff
    return storage.put(key, bytes, options)
  }
  return wrapper
}

import { randomUUID } from 'node:crypto'
import type { BigIntStats, Dirent } from 'node:fs'
import { type FileHandle, link, mkdir, open, readdir, rename, rmdir, stat, unlink } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import type { LocalStorageConfig } from '../config/types.js'
import { StorageError } from '../errors.js'
import { toWebStream } from '../storage/bytes.js'
import { assertValidKey, assertValidPrefix, assertValidRange } from '../storage/keys.js'
import type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from '../storage/storage.js'

/** Options of {@link LocalStorage}: the `local` storage config without `provider`. */
export type LocalStorageOptions = Omit<LocalStorageConfig, 'provider'>

/** Folder under the root that holds files being written; never listed, never a key. */
const TEMP_DIR = '.edgerec-tmp'
const DEFAULT_PAGE = 1000

const errnoOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** Orders keys by their UTF-8 bytes, as S3, GCS and Azure do. */
const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * The entity tag of a file: inode, modification time (ns) and size. Every put writes a new file
 * (new inode) and stamps it with a process-unique mtime, so two versions of a key never share an
 * etag within a process.
 */
const etagOf = (stats: BigIntStats): string =>
  `"${stats.ino.toString(36)}-${stats.mtimeNs.toString(36)}-${stats.size.toString(36)}"`

let lastStampMicros = 0
/** Strictly increasing modification times (µs) for the files this process writes. */
function nextStampSeconds(): number {
  lastStampMicros = Math.max(Date.now() * 1000, lastStampMicros + 1)
  return lastStampMicros / 1e6
}

/**
 * Storage on local disk (the embedded default). Keys map to files under `root`.
 *
 * - Writes are atomic: the body goes to a temp file under `<root>/.edgerec-tmp/`, is flushed, then
 *   renamed over the key's file, so a reader sees the old object or the new one, never a part.
 *   A body stream that fails mid-way leaves nothing behind (`UPLOAD_FAILED`).
 * - `ifMatch: 'absent'` uses `link(2)`, atomic across processes. `ifMatch: { etag }` is atomic
 *   between writers in this process (per-key lock); across processes it is check-then-rename.
 * - Keys are checked by {@link assertValidKey}: `..`, absolute paths and backslashes are refused,
 *   so no key reaches outside `root`.
 * - A file system cannot hold both `a` and `a/b`: writing one while the other exists fails with
 *   `UNSUPPORTED`. Object stores can; edgerec's key layout never needs it.
 *
 * @example
 * ```ts
 * const registry = new LocalStorage({ root: '.edgerec/models' })
 * await registry.put('models/v1/manifest.json', bytes, { ifMatch: 'absent' })
 * ```
 */
export class LocalStorage implements Storage {
  readonly provider = 'local'
  /** Absolute root folder. */
  readonly root: string
  readonly #locks = new Map<string, Promise<unknown>>()

  constructor(options: LocalStorageOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw new StorageError(
        'CONFIG_INVALID',
        "LocalStorage needs a root folder. Pass { root: '.edgerec/models' }.",
        { provider: 'local', operation: 'configure' },
      )
    }
    this.root = resolve(options.root)
  }

  /** Absolute path of a key's file. */
  pathOf(key: string, operation = 'resolve'): string {
    assertValidKey(key, this.provider, operation)
    const path = join(this.root, ...key.split('/'))
    // Defence in depth: assertValidKey already refuses every key that could leave the root.
    if (!path.startsWith(this.root + sep)) {
      throw new StorageError(
        'INVALID_KEY',
        `Key '${key}' resolves outside the storage root. Use a relative key.`,
        {
          provider: this.provider,
          operation,
          key,
        },
      )
    }
    return path
  }

  async put(
    key: string,
    body: Uint8Array | ReadableStream<Uint8Array>,
    options: PutOptions = {},
  ): Promise<ObjectInfo> {
    const path = this.pathOf(key, 'put')
    const tempDir = join(this.root, TEMP_DIR)
    const temp = join(tempDir, `${randomUUID()}.part`)
    let written: BigIntStats
    try {
      await mkdir(tempDir, { recursive: true })
      written = await this.#writeTemp(temp, body)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw this.#fail(error, 'put', key, 'UPLOAD_FAILED')
    }
    try {
      await this.#withKeyLock(key, () => this.#publish(temp, path, key, options))
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw this.#fail(error, 'put', key)
    }
    return { key, size: Number(written.size), etag: etagOf(written), lastModified: written.mtime }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.getRange(key, { start: 0 })
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    const path = this.pathOf(key, 'getRange')
    assertValidRange(range, this.provider, key)
    const handle = await this.#open(path, 'getRange', key)
    if (handle === undefined) return undefined
    try {
      const { size } = await handle.stat()
      const start = Math.min(range.start, size)
      const end = Math.min(range.end ?? size, size)
      const out = new Uint8Array(end - start)
      let offset = 0
      while (offset < out.length) {
        const { bytesRead } = await handle.read(out, offset, out.length - offset, start + offset)
        if (bytesRead === 0) break
        offset += bytesRead
      }
      return offset === out.length ? out : out.subarray(0, offset)
    } catch (error) {
      throw this.#fail(error, 'getRange', key)
    } finally {
      await handle.close()
    }
  }

  async getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined> {
    const path = this.pathOf(key, 'getStream')
    const handle = await this.#open(path, 'getStream', key)
    if (handle === undefined) return undefined
    // The stream owns the handle (autoClose); opening first is what makes a missing key `undefined`.
    return toWebStream(handle.createReadStream())
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key, 'head')
    try {
      const stats = await stat(path, { bigint: true })
      if (!stats.isFile()) return undefined
      return { key, size: Number(stats.size), etag: etagOf(stats), lastModified: stats.mtime }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw this.#fail(error, 'head', key)
    }
  }

  async list(prefix: string, options: { cursor?: string; limit?: number } = {}): Promise<ListPage> {
    assertValidPrefix(prefix, this.provider)
    const limit = Math.max(1, Math.floor(options.limit ?? DEFAULT_PAGE))
    // Only the folder that holds every key starting with `prefix` is walked.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : ''
    let keys: string[]
    try {
      keys = (await this.#walk(folder)).filter((key) => key.startsWith(prefix))
    } catch (error) {
      throw this.#fail(error, 'list', prefix)
    }
    keys.sort(compareKeys)
    const cursor = options.cursor
    const after = cursor === undefined ? keys : keys.filter((key) => compareKeys(key, cursor) > 0)
    const page = after.slice(0, limit)
    const objects: ObjectInfo[] = []
    for (const key of page) {
      const info = await this.head(key)
      if (info !== undefined) objects.push(info) // deleted meanwhile: skip it
    }
    const result: ListPage = { objects }
    if (after.length > limit && page.length > 0) result.cursor = page[page.length - 1]!
    return result
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key, 'delete')
    await this.#withKeyLock(key, async () => {
      try {
        await unlink(path)
      } catch (error) {
        const code = errnoOf(error)
        if (isMissing(error) || code === 'EISDIR' || code === 'EPERM') return
        throw this.#fail(error, 'delete', key)
      }
      await this.#pruneEmptyFolders(dirname(path))
    })
  }

  async #writeTemp(temp: string, body: Uint8Array | ReadableStream<Uint8Array>): Promise<BigIntStats> {
    const handle = await open(temp, 'wx')
    try {
      if (body instanceof Uint8Array) {
        await handle.writeFile(body)
      } else {
        const reader = body.getReader()
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          for (let offset = 0; offset < value.length; ) {
            offset += (await handle.write(value, offset, value.length - offset)).bytesWritten
          }
        }
      }
      const stamp = nextStampSeconds()
      await handle.utimes(stamp, stamp)
      // NOTE: flushed before the rename so that a crash never leaves a renamed but empty file.
      await handle.sync()
      return await handle.stat({ bigint: true })
    } finally {
      await handle.close()
    }
  }

  async #publish(temp: string, path: string, key: string, options: PutOptions): Promise<void> {
    const condition = options.ifMatch
    if (condition !== undefined && condition !== 'absent') {
      const current = await this.head(key)
      if (current === undefined || current.etag !== condition.etag) {
        throw new StorageError(
          'PRECONDITION_FAILED',
          `The conditional write of '${key}' failed: its etag is ${current?.etag ?? 'absent (no object)'}, not ${condition.etag}. Re-read it and retry with its current etag.`,
          { provider: this.provider, operation: 'put', key },
        )
      }
    }
    // A concurrent delete may prune the parent folder between mkdir and rename: retry a few times.
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(path), { recursive: true })
      try {
        if (condition === 'absent') {
          await link(temp, path)
          await unlink(temp)
        } else {
          await rename(temp, path)
        }
        return
      } catch (error) {
        const code = errnoOf(error)
        if (code === 'EEXIST') {
          throw new StorageError(
            'PRECONDITION_FAILED',
            `The conditional write of '${key}' failed: the key already exists. Read it, or write without ifMatch: 'absent'.`,
            { provider: this.provider, operation: 'put', key },
            { cause: error },
          )
        }
        if (code === 'ENOENT' && attempt < 3) continue
        throw error
      }
    }
  }

  async #open(path: string, operation: string, key: string): Promise<FileHandle | undefined> {
    try {
      const handle = await open(path, 'r')
      const stats = await handle.stat()
      if (!stats.isFile()) {
        await handle.close()
        return undefined
      }
      return handle
    } catch (error) {
      if (isMissing(error) || errnoOf(error) === 'EISDIR') return undefined
      throw this.#fail(error, operation, key)
    }
  }

  /** Keys of every file under `folder` (a key prefix ending before a `/`), unsorted. */
  async #walk(folder: string): Promise<string[]> {
    const keys: string[] = []
    const visit = async (relative: string): Promise<void> => {
      let entries: Dirent[]
      try {
        entries = await readdir(relative === '' ? this.root : join(this.root, ...relative.split('/')), {
          withFileTypes: true,
        })
      } catch (error) {
        if (isMissing(error)) return
        throw error
      }
      for (const entry of entries) {
        if (relative === '' && entry.name === TEMP_DIR) continue
        const key = relative === '' ? entry.name : `${relative}/${entry.name}`
        if (entry.isDirectory()) await visit(key)
        else if (entry.isFile()) keys.push(key)
      }
    }
    await visit(folder)
    return keys
  }

  async #pruneEmptyFolders(folder: string): Promise<void> {
    for (let current = folder; current.startsWith(this.root + sep); current = dirname(current)) {
      try {
        await rmdir(current)
      } catch {
        return // not empty (or already gone, or racing a put): stop here
      }
    }
  }

  /** Runs `task` after every earlier task on `key` in this process has settled. */
  async #withKeyLock<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.then(
      () => undefined,
      () => undefined,
    )
    this.#locks.set(key, settled)
    try {
      return await run
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key)
    }
  }

  #fail(
    error: unknown,
    operation: string,
    key: string,
    fallback: 'PROVIDER_ERROR' | 'UPLOAD_FAILED' = 'PROVIDER_ERROR',
  ): Error {
    if (error instanceof StorageError) return error
    const context = { provider: this.provider, operation, key }
    const code = errnoOf(error)
    const message = error instanceof Error ? error.message : String(error)
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new StorageError(
        'AUTH',
        `Local disk refused ${operation} of '${key}' under ${this.root} (${code}). Fix the folder's permissions or choose another root.`,
        context,
        { cause: error },
      )
    }
    if (code === 'EISDIR' || code === 'ENOTDIR') {
      return new StorageError(
        'UNSUPPORTED',
        `Local disk cannot ${operation} '${key}': a file system cannot hold both a key and keys below it ('a' and 'a/b'). Rename one of them.`,
        context,
        { cause: error },
      )
    }
    if (fallback === 'UPLOAD_FAILED') {
      return new StorageError(
        'UPLOAD_FAILED',
        `Writing '${key}' failed part-way (${message}); nothing was written. Fix the cause (body stream, disk space) and put it again.`,
        context,
        { cause: error },
      )
    }
    return new StorageError(
      'PROVIDER_ERROR',
      `Local disk ${operation} of '${key}' failed (${message}). Check the root folder ${this.root}.`,
      context,
      { cause: error },
    )
  }
}

function isMissing(error: unknown): boolean {
  const code = errnoOf(error)
  return code === 'ENOENT' || code === 'ENOTDIR'
}

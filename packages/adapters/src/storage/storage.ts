/**
 * The storage contract: one interface that every provider (local disk, S3, R2, GCS, Azure Blob,
 * Cloudflare KV) implements, and that the trainer's export and the publisher write through.
 * Keys are `/`-separated paths (`models/<version>/manifest.json`), never starting with `/`.
 *
 * @module
 */

/** Metadata of a stored object. */
export interface ObjectInfo {
  key: string
  size: number
  /** Provider's entity tag, when it has one (used for conditional puts). */
  etag?: string
  /** Last modification time, when known. */
  lastModified?: Date
}

/** Options of {@link Storage.put}. */
export interface PutOptions {
  contentType?: string
  /**
   * Conditional write: `'absent'` writes only if the key does not exist; `{ etag }` only if the
   * object still has that etag. A failed condition throws a `PRECONDITION_FAILED` StorageError.
   * Providers without conditional writes (Cloudflare KV) throw `UNSUPPORTED`.
   */
  ifMatch?: 'absent' | { etag: string }
}

/**
 * A byte range, inclusive start, exclusive end. A range reaching past the end of the object is
 * clamped to it; a range starting at or after the end reads zero bytes.
 */
export interface ByteRange {
  start: number
  end?: number
}

/** One page of a listing. */
export interface ListPage {
  objects: ObjectInfo[]
  /** Pass to the next call to continue; absent on the last page. */
  cursor?: string
}

/**
 * A key-value object store.
 *
 * Every method rejects with a `StorageError` (`packages/adapters/src/errors.ts`) whose code tells
 * `NOT_FOUND`, `PRECONDITION_FAILED`, `UNSUPPORTED`, `THROTTLED`, `AUTH`, `UNAVAILABLE`,
 * `INVALID_KEY`, `INVALID_RANGE`, `TOO_LARGE`, `UPLOAD_FAILED` or `PROVIDER_ERROR`. Implementations
 * and their test servers are described in `docs/adapters.md`; all pass one conformance suite
 * (`test/storage/conformance.ts`).
 */
export interface Storage {
  /** Short provider name for logs, e.g. `local`, `s3`, `gcs`, `azure-blob`, `r2`, `kv`. */
  readonly provider: string
  /** Writes bytes or a stream; streams of unknown length are uploaded in parts where the provider needs it. */
  put(key: string, body: Uint8Array | ReadableStream<Uint8Array>, options?: PutOptions): Promise<ObjectInfo>
  /** Reads a whole object, or `undefined` when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>
  /** Reads a byte range; `undefined` when the object does not exist. */
  getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined>
  /** Streams an object; `undefined` when it does not exist. */
  getStream(key: string): Promise<ReadableStream<Uint8Array> | undefined>
  /** Metadata without the body; `undefined` when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>
  /**
   * Lists keys under `prefix` (a plain string prefix, not only whole folders), in lexicographic
   * order, one page at a time. `limit` caps a page (Cloudflare KV serves no fewer than 10 keys).
   */
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<ListPage>
  /** Deletes a key; deleting a missing key is not an error. */
  delete(key: string): Promise<void>
}

/** Lists every key under `prefix`, following cursors. */
export async function listAll(storage: Storage, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  let cursor: string | undefined
  do {
    const page = await storage.list(prefix, cursor === undefined ? {} : { cursor })
    out.push(...page.objects)
    cursor = page.cursor
  } while (cursor !== undefined)
  return out
}

/**
 * Where a file-based source reads from: a local path or a key in any {@link Storage}
 * (S3, GCS, Azure Blob, R2, local disk). Files ending in `.gz` are decompressed on the fly.
 *
 * @module
 */
import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { Storage } from '../storage/storage.js'
import { EventSourceError } from './errors.js'

/** A local file, or an object in a storage. */
export type InputLocation = { path: string } | { storage: Storage; key: string }

/** A short name of a location for messages. */
export function describeLocation(location: InputLocation): string {
  return 'path' in location ? location.path : `${location.storage.provider}:${location.key}`
}

function nameOf(location: InputLocation): string {
  return 'path' in location ? location.path : location.key
}

/**
 * Called as the raw (still compressed) bytes of an input are read: bytes so far and the size of
 * the input (`undefined` when the storage does not say).
 */
export type BytesProgress = (bytesRead: number, totalBytes: number | undefined) => void

/** The size of a local input file; `INPUT_NOT_FOUND` when it is missing or not a file. */
async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path)
    if (!info.isFile()) throw new Error('not a file')
    return info.size
  } catch (cause) {
    throw new EventSourceError(
      'INPUT_NOT_FOUND',
      `Input file ${path} does not exist or is not a file. Check the path (relative paths start at ${process.cwd()}).`,
      { cause },
    )
  }
}

/** Opens the raw bytes of a location as a web stream (decompressing `.gz`). */
export async function openBytes(
  location: InputLocation,
  onBytes?: BytesProgress,
): Promise<ReadableStream<Uint8Array>> {
  let stream: ReadableStream<Uint8Array>
  let total: number | undefined
  if ('path' in location) {
    total = await fileSize(location.path)
    stream = Readable.toWeb(
      createReadStream(location.path, { highWaterMark: 1 << 20 }),
    ) as ReadableStream<Uint8Array>
  } else {
    const opened = await location.storage.getStream(location.key)
    if (!opened) {
      throw new EventSourceError(
        'INPUT_NOT_FOUND',
        `Input ${location.key} does not exist in ${location.storage.provider} storage. Check the key (no leading /).`,
      )
    }
    stream = opened
    if (onBytes) total = (await location.storage.head(location.key).catch(() => undefined))?.size
  }
  if (onBytes) {
    let read = 0
    stream = stream.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          read += chunk.byteLength
          onBytes(read, total)
          controller.enqueue(chunk)
        },
      }),
    )
  }
  if (nameOf(location).endsWith('.gz')) {
    stream = stream.pipeThrough(
      new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>,
    )
  }
  return stream
}

/**
 * Raw bytes of an input read into the caller's buffers (no buffer per chunk, no stream machinery).
 *
 * @internal
 */
export interface ByteReader {
  /** Reads into `into`; resolves with the number of bytes written, 0 at the end of the input. */
  read(into: Uint8Array): Promise<number>
  /** Closes the input (safe to call twice). */
  close(): Promise<void>
}

/**
 * Opens the raw bytes of a location (decompressing `.gz`) as a {@link ByteReader}: a local
 * uncompressed file is read straight into the caller's buffers, anything else through
 * {@link openBytes}.
 *
 * @internal
 */
export async function openByteReader(location: InputLocation, onBytes?: BytesProgress): Promise<ByteReader> {
  if ('path' in location && !location.path.endsWith('.gz')) {
    const total = await fileSize(location.path)
    const file = await open(location.path, 'r')
    let read = 0
    let closed = false
    return {
      async read(into) {
        const { bytesRead } = await file.read(into, 0, into.length, null)
        read += bytesRead
        if (bytesRead > 0) onBytes?.(read, total)
        return bytesRead
      },
      async close() {
        if (closed) return
        closed = true
        await file.close()
      },
    }
  }
  const reader = (await openBytes(location, onBytes)).getReader()
  let pending: Uint8Array | undefined
  let offset = 0
  return {
    async read(into) {
      while (pending === undefined || offset >= pending.length) {
        const next = await reader.read()
        if (next.done) return 0
        pending = next.value
        offset = 0
      }
      const n = Math.min(into.length, pending.length - offset)
      into.set(pending.subarray(offset, offset + n))
      offset += n
      return n
    },
    async close() {
      await reader.cancel().catch(() => {})
    },
  }
}

/** Opens a location as UTF-8 text chunks (a leading byte-order mark is removed). */
export async function* openText(
  location: InputLocation,
  signal?: AbortSignal,
  onBytes?: BytesProgress,
): AsyncGenerator<string> {
  const bytes = await openBytes(location, onBytes)
  const text = bytes.pipeThrough(
    new TextDecoderStream('utf-8') as unknown as TransformStream<Uint8Array, string>,
  )
  let first = true
  const reader = text.getReader()
  try {
    for (;;) {
      signal?.throwIfAborted()
      const { done, value } = await reader.read()
      if (done) return
      if (first && value.length > 0) {
        first = false
        yield value.charCodeAt(0) === 0xfeff ? value.slice(1) : value
      } else if (value.length > 0) yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/**
 * Splits text chunks into lines (LF or CRLF), with 1-based line numbers.
 *
 * @internal
 */
export async function* lines(
  chunks: AsyncIterable<string>,
): AsyncGenerator<{ line: number; text: string }[]> {
  let rest = ''
  let line = 0
  for await (const chunk of chunks) {
    const data = rest + chunk
    const out: { line: number; text: string }[] = []
    let start = 0
    for (;;) {
      const nl = data.indexOf('\n', start)
      if (nl < 0) break
      const end = nl > start && data.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      out.push({ line: ++line, text: data.slice(start, end) })
      start = nl + 1
    }
    rest = data.slice(start)
    yield out
  }
  if (rest.length > 0) {
    yield [{ line: ++line, text: rest.endsWith('\r') ? rest.slice(0, -1) : rest }]
  }
}

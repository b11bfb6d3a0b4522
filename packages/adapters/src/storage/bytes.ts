import { Readable } from 'node:stream'
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web'

/** Concatenates chunks into one array. */
export function concatChunks(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  const size = total ?? chunks.reduce((sum, chunk) => sum + chunk.length, 0)
  if (chunks.length === 1 && chunks[0]!.length === size) return chunks[0]!
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** Reads a stream to its end into one array; a body that is already bytes is returned as is. */
export async function toBytes(body: Uint8Array | ReadableStream<Uint8Array>): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body
  const chunks: Uint8Array[] = []
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  return concatChunks(chunks)
}

/** Reads a Node.js readable to its end into one plain `Uint8Array` (never a `Buffer`). */
export async function nodeStreamToBytes(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array))
  }
  const out = concatChunks(chunks)
  return Buffer.isBuffer(out) ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : out
}

/** A web stream as a Node.js readable (for SDKs that take Node streams). */
export function toNodeReadable(body: ReadableStream<Uint8Array>): Readable {
  return Readable.fromWeb(body as NodeWebReadableStream<Uint8Array>)
}

/** A Node.js readable as a web stream of bytes. */
export function toWebStream(stream: NodeJS.ReadableStream): ReadableStream<Uint8Array> {
  const readable = stream instanceof Readable ? stream : Readable.from(stream)
  return Readable.toWeb(readable) as unknown as ReadableStream<Uint8Array>
}

/** A web stream of one array (used where a provider returns bytes but the caller asked for a stream). */
export function bytesToStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes)
      controller.close()
    },
  })
}

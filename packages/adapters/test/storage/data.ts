/**
 * Synthetic test data for the storage tests: deterministic bytes, chunked streams, digests.
 */
import { createHash } from 'node:crypto'

/** `length` pseudo-random bytes from a fixed seed (xorshift32), the same on every run. */
export function seededBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length)
  let state = seed >>> 0 || 1
  let i = 0
  for (; i + 4 <= length; i += 4) {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    out[i] = state & 0xff
    out[i + 1] = (state >>> 8) & 0xff
    out[i + 2] = (state >>> 16) & 0xff
    out[i + 3] = state >>> 24
  }
  for (; i < length; i++) out[i] = (i * 31 + seed) & 0xff
  return out
}

/** A stream of `bytes` in chunks of `chunkSize` (the last one shorter): a body of unknown length. */
export function chunkedStream(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close()
        return
      }
      const end = Math.min(offset + chunkSize, bytes.length)
      // Copies, so that the consumer may keep or transfer each chunk.
      controller.enqueue(bytes.slice(offset, end))
      offset = end
    },
  })
}

/** A stream that yields `good` bytes, then errors: an upload that fails mid-way. */
export function failingStream(good: Uint8Array, chunkSize: number, error: Error): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= good.length) {
        controller.error(error)
        return
      }
      const end = Math.min(offset + chunkSize, good.length)
      controller.enqueue(good.slice(offset, end))
      offset = end
    },
  })
}

/** Reads a web stream to one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

/** Hex SHA-256, to compare large arrays without printing them. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Text as bytes. */
export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
/** Bytes as text. */
export const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

import { StorageError } from '../errors.js'
import type { ByteRange } from './storage.js'

/** Longest key accepted, in UTF-8 bytes (S3's and GCS's limit). KV allows 512, checked by KvStorage. */
export const MAX_KEY_BYTES = 1024

// Control characters break HTTP paths and file names; backslashes are path separators on Windows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/

const utf8 = new TextEncoder()

function invalidKey(provider: string, operation: string, key: string, why: string): StorageError {
  return new StorageError(
    'INVALID_KEY',
    `Invalid storage key ${JSON.stringify(key)}: ${why}. Use '/'-separated relative paths such as 'models/<version>/manifest.json'.`,
    { provider, operation, key },
  )
}

/**
 * Checks a storage key: non-empty, relative (no leading `/`), no empty, `.` or `..` segments, no
 * backslash or control characters, at most {@link MAX_KEY_BYTES} UTF-8 bytes. Every provider checks
 * keys with this, so a key valid on one provider is valid on all, and `..` can never escape
 * LocalStorage's root.
 *
 * @throws StorageError `INVALID_KEY`
 */
export function assertValidKey(key: string, provider: string, operation: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw invalidKey(provider, operation, String(key), 'it is empty')
  if (FORBIDDEN_CHARS.test(key)) {
    throw invalidKey(provider, operation, key, 'it contains a backslash or a control character')
  }
  if (key.startsWith('/')) throw invalidKey(provider, operation, key, 'it starts with /')
  for (const segment of key.split('/')) {
    if (segment === '')
      throw invalidKey(provider, operation, key, 'it has an empty path segment (// or a trailing /)')
    if (segment === '.' || segment === '..') {
      throw invalidKey(provider, operation, key, `it has a '${segment}' path segment`)
    }
  }
  if (utf8.encode(key).length > MAX_KEY_BYTES) {
    throw invalidKey(provider, operation, key, `it is longer than ${MAX_KEY_BYTES} UTF-8 bytes`)
  }
}

/**
 * Checks a list prefix: empty, or a key start such as `models/` or `models/2026`. Complete
 * segments follow the key rules; the last (partial) segment may be empty.
 *
 * @throws StorageError `INVALID_KEY`
 */
export function assertValidPrefix(prefix: string, provider: string): void {
  if (typeof prefix !== 'string')
    throw invalidKey(provider, 'list', String(prefix), 'the prefix is not a string')
  if (prefix === '') return
  if (FORBIDDEN_CHARS.test(prefix)) {
    throw invalidKey(provider, 'list', prefix, 'it contains a backslash or a control character')
  }
  if (prefix.startsWith('/')) throw invalidKey(provider, 'list', prefix, 'it starts with /')
  const segments = prefix.split('/')
  const last = segments.pop()
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw invalidKey(provider, 'list', prefix, `it has a '${segment}' path segment`)
    }
  }
  if (last === '.' || last === '..') throw invalidKey(provider, 'list', prefix, `it ends with '${last}'`)
}

/**
 * Normalizes a storage-level prefix from config (`models`, `/models/`, `a/b`) to `''` or a
 * string ending with `/`.
 */
export function normalizeRootPrefix(prefix: string | undefined, provider: string): string {
  if (prefix === undefined) return ''
  const trimmed = prefix.replace(/^\/+|\/+$/g, '')
  if (trimmed === '') return ''
  assertValidKey(trimmed, provider, 'configure')
  return `${trimmed}/`
}

/**
 * Checks a byte range (`start` inclusive, `end` exclusive, both integers, `0 ≤ start ≤ end`).
 *
 * @throws StorageError `INVALID_RANGE`
 */
export function assertValidRange(range: ByteRange, provider: string, key: string): void {
  const { start, end } = range
  const ok =
    Number.isSafeInteger(start) &&
    start >= 0 &&
    (end === undefined || (Number.isSafeInteger(end) && end >= start))
  if (!ok) {
    throw new StorageError(
      'INVALID_RANGE',
      `Invalid byte range ${JSON.stringify(range)} for '${key}': start must be an integer ≥ 0 and end (exclusive) an integer ≥ start. Pass e.g. { start: 0, end: 1024 }.`,
      { provider, operation: 'getRange', key },
    )
  }
}

/** The bytes of `whole` a range selects, clamped to its size (ranges past the end give `[]`). */
export function sliceRange(whole: Uint8Array, range: ByteRange): Uint8Array {
  const start = Math.min(range.start, whole.length)
  const end = Math.min(range.end ?? whole.length, whole.length)
  return whole.subarray(start, end)
}

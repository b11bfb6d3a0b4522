/**
 * The R2 event archive: every event the ingestion tier stores in D1 is also written to R2 as NDJSON,
 * partitioned by the hour the worker received it, so D1 can keep a short retention window while the
 * trainer reads the full history (`events: { kind: 'archive' }` in edgerec.config.ts).
 *
 * Layout (one object per consumer batch and hour; docs/edge-worker.md, "Queued ingestion"):
 *
 *   events/archive/2026-12-03/14/<batch key>.ndjson
 *
 * Each line is an edgerec event as accepted (`id`, `userId`, `anonymousId`, `itemId`, `type`,
 * `value`, `timestamp`, `context`) plus `receivedAt` (epoch ms, worker clock).
 *
 * @module
 */
import { sha256Hex, type ValidEvent } from '@edgerec/core'

/** Prefix of every archive object. */
export const ARCHIVE_PREFIX = 'events/archive/'

/** One archived line. */
export interface ArchivedEvent extends ValidEvent {
  receivedAt: number
}

const HOUR_MS = 3_600_000
const pad = (n: number): string => String(n).padStart(2, '0')

/** The folder of the hour containing `receivedAt`: `events/archive/YYYY-MM-DD/HH/`. */
export function archiveHourPrefix(receivedAt: number): string {
  const d = new Date(Math.floor(receivedAt / HOUR_MS) * HOUR_MS)
  return `${ARCHIVE_PREFIX}${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}/${pad(d.getUTCHours())}/`
}

/** Serializes archived events as NDJSON (one line each, trailing newline). */
export function toNdjson(events: readonly ArchivedEvent[]): string {
  let out = ''
  for (const e of events) out += `${JSON.stringify(e)}\n`
  return out
}

/**
 * Writes `events` to R2, one object per hour of `receivedAt`. The object key is derived from
 * `batchKey` (stable across redeliveries of the same queue messages), so a retried batch overwrites
 * its own objects instead of adding copies.
 *
 * @returns the keys written
 */
export async function writeArchive(
  bucket: R2Bucket,
  events: readonly ArchivedEvent[],
  batchKey: string,
): Promise<string[]> {
  const byHour = new Map<string, ArchivedEvent[]>()
  for (const e of events) {
    const prefix = archiveHourPrefix(e.receivedAt)
    const list = byHour.get(prefix)
    if (list) list.push(e)
    else byHour.set(prefix, [e])
  }
  const name = (await sha256Hex(new TextEncoder().encode(batchKey))).slice(0, 32)
  const keys: string[] = []
  await Promise.all(
    [...byHour].map(async ([prefix, list]) => {
      const key = `${prefix}${name}.ndjson`
      await bucket.put(key, toNdjson(list), {
        httpMetadata: { contentType: 'application/x-ndjson' },
        customMetadata: { events: String(list.length) },
      })
      keys.push(key)
    }),
  )
  return keys.sort()
}

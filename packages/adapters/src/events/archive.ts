/**
 * The edge worker's R2 event archive as an event source (`events: { kind: 'archive' }`): every
 * NDJSON object under `events/archive/` (one folder per receive hour, written by the worker's queue
 * consumer; docs/edge-worker.md, "Queued ingestion"), read in key order from any storage — R2
 * through its S3 API, S3, GCS, Azure Blob, or a local copy.
 *
 * Identity merge matches the worker's: an event carrying both `userId` and `anonymousId` links the
 * anonymous id to the user (the first link wins), and every event of a linked anonymous id counts
 * for its user. Links can appear after the anonymous events they cover, so the archive is read
 * twice: once for the links, once for the events.
 *
 * A redelivered queue batch can store an event twice in the same hour; events are deduplicated by
 * id within each hour folder (memory bounded by one hour of events).
 *
 * @module
 */
import { validateEvent } from '@edgerec/core'
import { listAll, type Storage } from '../storage/storage.js'
import { EventSourceError } from './errors.js'
import { lines, openText } from './input.js'
import {
  BadRowTracker,
  batchedStream,
  type EventSource,
  type EventStream,
  type ReadOptions,
} from './source.js'

/** Where the worker writes its archive (`packages/edge-worker/src/archive/archive.ts`). */
export const DEFAULT_ARCHIVE_PREFIX = 'events/archive/'

/** Options of {@link archiveEventSource}. */
export interface ArchiveSourceOptions {
  storage: Storage
  /** Default `events/archive/`. */
  prefix?: string
  /** Only hour folders at or after this day (`YYYY-MM-DD`). */
  since?: string
}

const HOUR_FOLDER = /(\d{4}-\d{2}-\d{2})\/(\d{2})\/[^/]+\.ndjson(\.gz)?$/

/**
 * Reads the archive under `prefix`.
 *
 * @example
 * ```ts
 * const source = archiveEventSource({ storage: await createStorage({ provider: 'r2', bucket: 'edgerec-models', accountId }) })
 * ```
 */
export function archiveEventSource(options: ArchiveSourceOptions): EventSource {
  const prefix = options.prefix ?? DEFAULT_ARCHIVE_PREFIX
  const description = `event archive ${options.storage.provider}:${prefix}`
  const { storage } = options

  async function archiveKeys(): Promise<{ key: string; hour: string }[]> {
    const objects = await listAll(storage, prefix)
    const keys: { key: string; hour: string }[] = []
    for (const { key } of objects) {
      const match = HOUR_FOLDER.exec(key)
      if (!match) continue
      if (options.since !== undefined && match[1]! < options.since) continue
      keys.push({ key, hour: `${match[1]}/${match[2]}` })
    }
    if (keys.length === 0) {
      throw new EventSourceError(
        'INPUT_NOT_FOUND',
        `No archive objects under ${storage.provider}:${prefix}${options.since ? ` since ${options.since}` : ''}. Set INGEST_MODE=queue and EVENT_ARCHIVE=r2 on the worker, or check the prefix.`,
      )
    }
    return keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  async function* records(
    keys: readonly { key: string; hour: string }[],
    signal: AbortSignal | undefined,
  ): AsyncGenerator<{ key: string; hour: string; line: number; text: string }[]> {
    for (const { key, hour } of keys) {
      for await (const batch of lines(openText({ storage, key }, signal))) {
        yield batch.map((l) => ({ key, hour, line: l.line, text: l.text }))
      }
    }
  }

  return {
    description,
    read(readOptions: ReadOptions = {}): EventStream {
      const tracker = new BadRowTracker(description, readOptions)
      return batchedStream(tracker, readOptions, async function* (emit) {
        const keys = await archiveKeys()
        // Pass 1: anonymous id → user, first link by receive order (key order, then line order).
        const links = new Map<string, string>()
        for await (const batch of records(keys, readOptions.signal)) {
          for (const { text } of batch) {
            if (!text.includes('"anonymousId"') || !text.includes('"userId"')) continue
            try {
              const e = JSON.parse(text) as { userId?: unknown; anonymousId?: unknown }
              if (
                typeof e.userId === 'string' &&
                typeof e.anonymousId === 'string' &&
                !links.has(e.anonymousId)
              )
                links.set(e.anonymousId, e.userId)
            } catch {
              // Reported in pass 2.
            }
          }
        }
        // Pass 2: the events.
        let hour = ''
        let seen = new Set<string>()
        for await (const batch of records(keys, readOptions.signal)) {
          for (const { key, hour: h, line, text } of batch) {
            if (text.trim().length === 0) continue
            if (h !== hour) {
              hour = h
              seen = new Set()
            }
            let parsed: unknown
            try {
              parsed = JSON.parse(text)
            } catch (error) {
              tracker.bad(line, `${key}: not JSON (${(error as Error).message})`, text)
              continue
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              tracker.bad(line, `${key}: not a JSON object`, text)
              continue
            }
            const { receivedAt, ...event } = parsed as Record<string, unknown>
            const result = validateEvent(event, { maxFutureSkewMs: Number.POSITIVE_INFINITY })
            if (!result.ok) {
              tracker.bad(
                line,
                `${key}: ${result.errors.map((e) => `${e.field}: ${e.message}`).join(' ')}`,
                text,
              )
              continue
            }
            const e = result.event
            if (seen.has(e.id)) continue
            seen.add(e.id)
            const user = e.userId ?? links.get(e.anonymousId!) ?? e.anonymousId!
            emit({
              userId: user,
              itemId: e.itemId,
              type: e.type,
              value: e.value,
              timestamp: e.timestamp,
              // The worker's receive time: the trainer's cut-off (issue 13).
              ...(typeof receivedAt === 'number' && Number.isFinite(receivedAt) ? { receivedAt } : {}),
            })
          }
          yield
        }
      })
    },
  }
}

/**
 * The queued ingestion tier's consumer: takes a batch of queued messages, archives the events to R2
 * (when the archive is on) and writes them to D1 in one transaction, idempotently by event id.
 *
 * Order matters for "0 lost": the archive write comes first and its object key is derived from the
 * message ids, so a redelivered batch rewrites the same objects; D1 comes second and ignores ids it
 * already holds. Any failure throws, so the Queues runtime redelivers the whole batch (up to
 * `max_retries` in wrangler.jsonc); nothing is acknowledged before both writes succeeded.
 *
 * @module
 */
import { type ValidEvent, validateEvent } from '@edgerec/core'
import { type ArchivedEvent, writeArchive } from '../archive/archive.js'
import { insertEvents } from '../db/ingest.js'
import type { QueuedEvents } from './messages.js'

/** What one consumed batch did. */
export interface ConsumeOutcome {
  /** Messages in the batch. */
  messages: number
  /** Events in the messages (after dropping repeated ids inside the batch). */
  events: number
  /** Events newly stored in D1 (the rest were already there: retried requests). */
  inserted: number
  /** Archive objects written. */
  archived: string[]
  /** Messages whose body was not a {@link QueuedEvents} (acknowledged and logged, never retried). */
  malformed: number
}

/** Options of {@link consumeEvents}. */
export interface ConsumeOptions {
  /** Archive to R2 as well. */
  archive: boolean
}

function isQueuedEvents(body: unknown): body is QueuedEvents {
  if (body === null || typeof body !== 'object') return false
  const b = body as Partial<QueuedEvents>
  return typeof b.receivedAt === 'number' && Number.isFinite(b.receivedAt) && Array.isArray(b.events)
}

/**
 * Consumes one batch of the ingestion queue.
 *
 * Events were validated by `POST /v1/events` before they were queued; they are validated again
 * (without the clock-skew check, which was done at receive time) because a queue may be written by
 * other producers. A message that is not an edgerec message is acknowledged and logged: retrying
 * it could never succeed.
 *
 * @throws when D1 or R2 fails; the runtime then redelivers the batch
 */
export async function consumeEvents(
  batch: MessageBatch<unknown>,
  bindings: { DB: D1Database; MODELS_R2: R2Bucket },
  options: ConsumeOptions,
): Promise<ConsumeOutcome> {
  const seen = new Set<string>()
  const events: ArchivedEvent[] = []
  let malformed = 0
  for (const message of batch.messages) {
    if (!isQueuedEvents(message.body)) {
      malformed++
      console.error(`edgerec: queue message ${message.id} is not an edgerec event batch; dropped.`)
      message.ack()
      continue
    }
    const { receivedAt } = message.body
    for (const raw of message.body.events) {
      const result = validateEvent(raw, { maxFutureSkewMs: Number.POSITIVE_INFINITY })
      if (!result.ok) {
        malformed++
        continue
      }
      const event: ValidEvent = result.event
      if (seen.has(event.id)) continue
      seen.add(event.id)
      events.push({ ...event, receivedAt })
    }
  }
  const outcome: ConsumeOutcome = {
    messages: batch.messages.length,
    events: events.length,
    inserted: 0,
    archived: [],
    malformed,
  }
  if (events.length === 0) return outcome
  if (options.archive) {
    const batchKey = batch.messages
      .map((m) => m.id)
      .sort()
      .join(',')
    outcome.archived = await writeArchive(bindings.MODELS_R2, events, batchKey)
  }
  const receivedAtOf = new Map<string, number>()
  for (const e of events) receivedAtOf.set(e.id, e.receivedAt)
  const plain: ValidEvent[] = events.map(({ receivedAt: _r, ...event }) => event)
  const { inserted } = await insertEvents(bindings.DB, plain, (e) => receivedAtOf.get(e.id)!)
  outcome.inserted = inserted.size
  return outcome
}

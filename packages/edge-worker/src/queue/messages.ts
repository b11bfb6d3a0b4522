/**
 * The queued ingestion tier's producer side: accepted events are packed into Cloudflare Queues
 * messages within the Queues limits and sent, so `POST /v1/events` answers without waiting for D1.
 *
 * @module
 */
import type { ValidEvent } from '@edgerec/core'

/** The body of one queued message: events received together, with the worker's receive time. */
export interface QueuedEvents {
  /** Epoch ms at which the worker received the request (server clock). */
  receivedAt: number
  events: ValidEvent[]
}

/**
 * Queues limits (developers.cloudflare.com/queues/platform/limits): a message body is at most
 * 128 KB, and one `sendBatch` carries at most 100 messages and 256 KB. The budgets below leave room
 * for the serialization overhead of the message envelope.
 */
export const QUEUE_LIMITS = {
  maxMessageBytes: 120 * 1024,
  maxBatchMessages: 100,
  maxBatchBytes: 240 * 1024,
} as const

const encoder = new TextEncoder()

/** Bytes of the JSON text of `value` (UTF-8). */
function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length
}

/**
 * Splits `events` into message bodies of at most `maxMessageBytes` of JSON each, keeping their
 * order. One event is at most a few KiB (core's `EVENT_LIMITS`), far below the message limit, so
 * every event fits a message.
 */
export function packMessages(
  events: readonly ValidEvent[],
  receivedAt: number,
  maxMessageBytes: number = QUEUE_LIMITS.maxMessageBytes,
): QueuedEvents[] {
  const envelope = jsonBytes({ receivedAt, events: [] })
  const out: QueuedEvents[] = []
  let current: ValidEvent[] = []
  let bytes = envelope
  for (const event of events) {
    const size = jsonBytes(event) + 1
    if (current.length > 0 && bytes + size > maxMessageBytes) {
      out.push({ receivedAt, events: current })
      current = []
      bytes = envelope
    }
    current.push(event)
    bytes += size
  }
  if (current.length > 0) out.push({ receivedAt, events: current })
  return out
}

/**
 * Groups message bodies into `sendBatch` calls within {@link QUEUE_LIMITS} (count and bytes).
 *
 * @internal
 */
export function groupForSend(messages: readonly QueuedEvents[]): QueuedEvents[][] {
  const groups: QueuedEvents[][] = []
  let group: QueuedEvents[] = []
  let bytes = 0
  for (const message of messages) {
    const size = jsonBytes(message)
    if (
      group.length > 0 &&
      (group.length >= QUEUE_LIMITS.maxBatchMessages || bytes + size > QUEUE_LIMITS.maxBatchBytes)
    ) {
      groups.push(group)
      group = []
      bytes = 0
    }
    group.push(message)
    bytes += size
  }
  if (group.length > 0) groups.push(group)
  return groups
}

/**
 * Sends accepted events to the ingestion queue. Resolves once the queue has durably accepted every
 * message; rejects when any `sendBatch` fails (the caller answers 503 and the client retries the
 * whole batch: ids make the retry idempotent, the consumer drops ids D1 already holds).
 */
export async function enqueueEvents(
  queue: Queue<QueuedEvents>,
  events: readonly ValidEvent[],
  receivedAt: number,
): Promise<{ messages: number }> {
  const messages = packMessages(events, receivedAt)
  for (const group of groupForSend(messages)) {
    await queue.sendBatch(group.map((body) => ({ body, contentType: 'json' as const })))
  }
  return { messages: messages.length }
}

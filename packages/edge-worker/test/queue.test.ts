/**
 * The queued ingestion tier (issue 16, "Events beyond one D1"): the producer's packing within the
 * Queues limits, the consumer writing D1 and the R2 archive idempotently, the whole path through
 * workerd's own queue (POST /v1/events → EVENTS_QUEUE → this worker's `queue` handler → D1), and
 * D1 retention from the cron trigger.
 */

import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from 'cloudflare:test'
import type { ValidEvent } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { ARCHIVE_PREFIX, type ArchivedEvent, archiveHourPrefix } from '../src/archive/archive.js'
import worker from '../src/index.js'
import { deleteExpiredEvents } from '../src/maintenance/retention.js'
import { consumeEvents } from '../src/queue/consumer.js'
import { groupForSend, packMessages, QUEUE_LIMITS, type QueuedEvents } from '../src/queue/messages.js'
import type { EventsBody } from '../src/routes/events.js'
import { env, event, json } from './helpers.js'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 11, 3, 14, 30)

function valid(fields: Partial<ValidEvent> & { itemId: string }): ValidEvent {
  return { id: crypto.randomUUID(), userId: 'u-q', type: 'view', timestamp: T0 - 1000, ...fields }
}

async function countRows(ids: readonly string[]): Promise<number> {
  let n = 0
  for (let i = 0; i < ids.length; i += 90) {
    const part = ids.slice(i, i + 90)
    const row = await env.DB.prepare(
      `SELECT COUNT(*) AS n FROM events WHERE id IN (${part.map(() => '?').join(',')})`,
    )
      .bind(...part)
      .first<{ n: number }>()
    n += row?.n ?? 0
  }
  return n
}

async function archived(prefix: string): Promise<ArchivedEvent[]> {
  const out: ArchivedEvent[] = []
  const listing = await env.MODELS_R2.list({ prefix })
  for (const object of listing.objects) {
    const text = await (await env.MODELS_R2.get(object.key))!.text()
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line) as ArchivedEvent)
  }
  return out
}

describe('packMessages', () => {
  it('should keep every event, in order, in messages within the byte budget', () => {
    const events = Array.from({ length: 500 }, (_, i) =>
      valid({ itemId: `sku-${i}`, context: { note: 'x'.repeat(200 + (i % 50)) } }),
    )
    const messages = packMessages(events, T0, 16 * 1024)
    expect(messages.length).toBeGreaterThan(5)
    for (const m of messages)
      expect(new TextEncoder().encode(JSON.stringify(m)).length).toBeLessThanOrEqual(16 * 1024)
    expect(messages.flatMap((m) => m.events).map((e) => e.id)).toEqual(events.map((e) => e.id))
    expect(new Set(messages.map((m) => m.receivedAt))).toEqual(new Set([T0]))
  })

  it('should group sends within the per-call message count and bytes', () => {
    const messages: QueuedEvents[] = Array.from({ length: 250 }, (_, i) => ({
      receivedAt: T0,
      events: [valid({ itemId: `g-${i}` })],
    }))
    const groups = groupForSend(messages)
    expect(groups.flat()).toHaveLength(250)
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(QUEUE_LIMITS.maxBatchMessages)
      expect(new TextEncoder().encode(JSON.stringify(g)).length).toBeLessThanOrEqual(
        QUEUE_LIMITS.maxBatchBytes,
      )
    }
  })
})

describe('consumeEvents', () => {
  it('should write D1 with each message receive time and archive by receive hour, idempotently on redelivery', async () => {
    const a = [valid({ itemId: 'qa-1' }), valid({ itemId: 'qa-2', anonymousId: 'anon-q' })]
    const b = [valid({ itemId: 'qa-3', userId: 'u-q2' }), a[0]!]
    const messages = [
      { id: 'm-1', timestamp: T0, attempts: 1, body: { receivedAt: T0, events: a } },
      { id: 'm-2', timestamp: T0 + HOUR, attempts: 1, body: { receivedAt: T0 + HOUR, events: b } },
      { id: 'm-3', timestamp: T0, attempts: 1, body: { not: 'ours' } },
    ]
    const batch = createMessageBatch<unknown>('edgerec-events', messages)
    const outcome = await consumeEvents(batch, env, { archive: true })
    expect(outcome).toMatchObject({ messages: 3, events: 3, inserted: 3, malformed: 1 })
    expect(outcome.archived).toHaveLength(2)
    expect(outcome.archived[0]!.startsWith(archiveHourPrefix(T0))).toBe(true)
    expect(outcome.archived[1]!.startsWith(archiveHourPrefix(T0 + HOUR))).toBe(true)

    const rows = await env.DB.prepare(
      `SELECT id, received_at AS r FROM events WHERE item_id LIKE 'qa-%' ORDER BY item_id`,
    ).all<{
      id: string
      r: number
    }>()
    expect(rows.results.map((r) => r.r)).toEqual([T0, T0, T0 + HOUR])
    const link = await env.DB.prepare('SELECT user_id AS u FROM identity_links WHERE anonymous_id = ?')
      .bind('anon-q')
      .first<{ u: string }>()
    expect(link?.u).toBe('u-q')

    const first = await archived(archiveHourPrefix(T0))
    expect(first.map((e) => e.itemId).sort()).toEqual(['qa-1', 'qa-2'])
    expect(first.every((e) => e.receivedAt === T0)).toBe(true)

    // Redelivery of the same messages: the same archive objects, no new D1 rows.
    const again = await consumeEvents(createMessageBatch<unknown>('edgerec-events', messages), env, {
      archive: true,
    })
    expect(again.inserted).toBe(0)
    expect(again.archived).toEqual(outcome.archived)
    expect(await archived(archiveHourPrefix(T0))).toHaveLength(2)
    expect(await countRows([...a, ...b].map((e) => e.id))).toBe(3)
  })

  it('should acknowledge nothing and throw when D1 fails, so the runtime redelivers the batch', async () => {
    const failing = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === 'batch') return () => Promise.reject(new Error('D1 is down'))
        const value = Reflect.get(target, prop) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const events = [valid({ itemId: 'qf-1' })]
    const batch = createMessageBatch<unknown>('edgerec-events', [
      { id: 'f-1', timestamp: T0, attempts: 1, body: { receivedAt: T0, events } },
    ])
    await expect(
      consumeEvents(batch, { DB: failing, MODELS_R2: env.MODELS_R2 }, { archive: false }),
    ).rejects.toThrow('D1 is down')
    expect(await countRows(events.map((e) => e.id))).toBe(0)
  })

  it('should be the worker queue handler, with every message acknowledged by a successful run', async () => {
    const events = [valid({ itemId: 'qh-1' }), valid({ itemId: 'qh-2' })]
    const batch = createMessageBatch<unknown>('edgerec-events', [
      { id: 'h-1', timestamp: T0, attempts: 1, body: { receivedAt: T0, events } },
    ])
    const ctx = createExecutionContext()
    await worker.queue!(batch, env, ctx)
    const result = await getQueueResult(batch, ctx)
    expect(result.outcome).toBe('ok')
    expect(result.retryBatch.retry).toBe(false)
    expect(await countRows(events.map((e) => e.id))).toBe(2)
  })
})

describe('POST /v1/events with INGEST_MODE=queue', () => {
  it('should enqueue and answer at once, and the queue consumer should store every event in D1 and R2', async () => {
    const app = createApp()
    const bindings = { ...env, INGEST_MODE: 'queue' }
    const events = Array.from({ length: 120 }, (_, i) => event({ userId: `uq-${i % 7}`, itemId: `e2e-${i}` }))
    const { status, body, headers } = await json<EventsBody>(app, '/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [...events, events[0], { id: 'bad' }] }),
      bindings,
    })
    expect(status).toBe(200)
    expect(headers.get('x-edgerec-ingest')).toBe('queued')
    expect(body).toMatchObject({ accepted: 120, duplicates: 1, rejected: 1 })

    const ids = events.map((e) => e.id as string)
    const deadline = Date.now() + 30_000
    let stored = 0
    while (Date.now() < deadline) {
      stored = await countRows(ids)
      if (stored === ids.length) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(stored).toBe(120)
    const inArchive = (await archived(ARCHIVE_PREFIX)).filter((e) => e.itemId.startsWith('e2e-'))
    expect(new Set(inArchive.map((e) => e.id))).toEqual(new Set(ids))
  })
})

describe('retention', () => {
  it('should delete events older than the cut-off in chunks, and the cron should apply EVENT_RETENTION_DAYS', async () => {
    const old = [
      valid({ itemId: 'ret-old-1', timestamp: T0 - 40 * 24 * HOUR }),
      valid({ itemId: 'ret-old-2', timestamp: T0 - 31 * 24 * HOUR }),
    ]
    const recent = [valid({ itemId: 'ret-new', timestamp: T0 - 2 * 24 * HOUR })]
    await consumeEvents(
      createMessageBatch<unknown>('edgerec-events', [
        { id: 'r-1', timestamp: T0, attempts: 1, body: { receivedAt: T0, events: [...old, ...recent] } },
      ]),
      env,
      { archive: false },
    )
    const ctx = createExecutionContext()
    // Unset retention: the cron deletes nothing.
    await worker.scheduled!(
      createScheduledController({ scheduledTime: T0, cron: '7 * * * *' }),
      { ...env, EVENT_RETENTION_DAYS: '0' },
      ctx,
    )
    expect(await countRows([...old, ...recent].map((e) => e.id))).toBe(3)
    await worker.scheduled!(
      createScheduledController({ scheduledTime: T0, cron: '7 * * * *' }),
      { ...env, EVENT_RETENTION_DAYS: '30' },
      ctx,
    )
    expect(await countRows(old.map((e) => e.id))).toBe(0)
    expect(await countRows(recent.map((e) => e.id))).toBe(1)
    expect(await deleteExpiredEvents(env.DB, T0 - 30 * 24 * HOUR)).toEqual({ deleted: 0, more: false })
  })
})

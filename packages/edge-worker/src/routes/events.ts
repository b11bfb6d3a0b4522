/**
 * `POST /v1/events`: a batch of at most 500 events (1 MiB), each validated with core and accepted,
 * reported as a duplicate, or rejected on its own; accepted ones are written to D1 idempotently.
 *
 * @module
 */
import { EVENT_LIMITS, type FieldError, type ValidEvent, validateBatch } from '@edgerec/core'
import { Hono } from 'hono'
import { FORGED_REC_ID_MESSAGE, type RecIdCheck, RecIds } from '../attribution/rec-id.js'
import { readConfig } from '../config.js'
import { insertEvents } from '../db/ingest.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { chargeEventQuotas } from '../middleware/rate-limit.js'
import { OPERATIONS } from '../openapi/operations.js'
import { readBodyText } from '../params.js'
import { enqueueEvents } from '../queue/messages.js'

/** Per-event outcome in the answer. */
export interface EventResult {
  index: number
  id?: string
  status: 'accepted' | 'duplicate' | 'rejected'
  errors?: FieldError[]
}

/** The JSON body of a `POST /v1/events` answer (architecture.md). */
export interface EventsBody {
  accepted: number
  duplicates: number
  rejected: number
  results: EventResult[]
}

/** Options of {@link eventsRoutes}. */
export interface EventsRouteOptions {
  /** Clock in epoch ms (future-skew check and `received_at`). */
  now: () => number
}

/**
 * The verdict on each distinct `context.recId` of the valid events (`rec-id.ts`, no I/O): a recId
 * the worker did not sign is rejected with its event, so nobody claims outcomes for lists that were
 * never served. Unsigned (UUID) recIds pass: clients may hold them from before signing, and an
 * event writes no list row (attribution only matches a stored list).
 */
async function recIdErrors(
  recIds: RecIds,
  events: readonly { ok: boolean; event?: ValidEvent }[],
): Promise<Map<unknown, FieldError>> {
  const distinct = new Set<unknown>()
  for (const r of events) {
    const context = r.ok ? r.event?.context : undefined
    if (context && 'recId' in context) distinct.add(context.recId)
  }
  const errors = new Map<unknown, FieldError>()
  await Promise.all(
    [...distinct].map(async (recId) => {
      const check: RecIdCheck = await recIds.check(recId)
      if (check === 'malformed') {
        errors.set(recId, {
          field: 'context.recId',
          code: 'pattern',
          message:
            'context.recId must be the recId of an answer, unchanged ("<24 hex>.<24 hex>", or a UUID from before signing). Leave it out for events that do not come from a list.',
        })
      } else if (check === 'forged') {
        errors.set(recId, { field: 'context.recId', code: 'unrecognized', message: FORGED_REC_ID_MESSAGE })
      }
    }),
  )
  return errors
}

function idOf(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object') return undefined
  const id = (raw as { id?: unknown }).id
  return typeof id === 'string' ? id : undefined
}

/**
 * Routes under `/v1/events`.
 *
 * - Body: `{ "events": [...] }` (or a bare array). Any content type is read as JSON, so
 *   `navigator.sendBeacon` with a `text/plain` blob works.
 * - 400 `INVALID_REQUEST` for malformed JSON, 400 `INVALID_EVENTS` when the body is not a batch or
 *   is empty, 413 `PAYLOAD_TOO_LARGE` above 500 events (or 1 MiB, checked by the app).
 * - 200 with one result per event otherwise, even when every event is rejected. An id seen earlier
 *   in the same batch, or already stored, is a `duplicate` and is not written again.
 * - 503 `STORAGE_UNAVAILABLE` if D1 fails: nothing of the batch was stored (one transaction), so
 *   the client retries it unchanged.
 */
export function eventsRoutes(options: EventsRouteOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/', OPERATIONS.events, async (c) => {
    const text = await readBodyText(c)
    let input: unknown
    try {
      input = JSON.parse(text)
    } catch (error) {
      throw new ApiError(
        'INVALID_REQUEST',
        `The body is not valid JSON (${(error as Error).message}). Send { "events": [ ... ] }.`,
      )
    }
    const rawList = Array.isArray(input) ? input : (input as { events?: unknown } | null)?.events
    if (Array.isArray(rawList) && rawList.length > EVENT_LIMITS.maxBatchSize) {
      throw new ApiError(
        'PAYLOAD_TOO_LARGE',
        `A batch holds at most ${EVENT_LIMITS.maxBatchSize} events; got ${rawList.length}. Split it into smaller batches.`,
        {
          details: { field: 'events', code: 'too_many', max: EVENT_LIMITS.maxBatchSize, got: rawList.length },
        },
      )
    }
    const now = options.now()
    const batch = validateBatch(input, { now })
    if (!batch.ok)
      throw new ApiError('INVALID_EVENTS', `The body is not an event batch: ${batch.error.message}`, {
        details: [batch.error],
      })

    const results: EventResult[] = []
    const fresh: ValidEvent[] = []
    const firstIndex = new Map<string, number>()
    // USER_TOKENS=required: an event may name a user only with that user's token (or the secret
    // key), so nobody can write into, or link an anonymous id to, another person (docs/privacy.md).
    const tokenUser = c.get('role') === 'secret' ? undefined : c.get('tokenUser')
    const checkUser = readConfig(c.env).userTokens === 'required' && c.get('role') !== 'secret'
    const badRecIds = await recIdErrors(RecIds.of(c.env), batch.results)
    for (const r of batch.results) {
      const badRecId = r.ok && r.event.context ? badRecIds.get(r.event.context.recId) : undefined
      const errors: FieldError[] | undefined = !r.ok
        ? r.errors
        : badRecId
          ? [badRecId]
          : checkUser && r.event.userId !== undefined && r.event.userId !== tokenUser
            ? [
                {
                  field: 'userId',
                  code: 'unauthorized',
                  message:
                    'This worker requires a user token for events that carry a userId (USER_TOKENS=required); send "x-edgerec-user-token" for this user.',
                },
              ]
            : undefined
      if (errors || !r.ok) {
        const id = idOf((rawList as unknown[])[r.index])
        results.push({
          index: r.index,
          ...(id !== undefined ? { id } : {}),
          status: 'rejected',
          errors: errors ?? [],
        })
        continue
      }
      const { id } = r.event
      if (firstIndex.has(id)) {
        results.push({ index: r.index, id, status: 'duplicate' })
        continue
      }
      firstIndex.set(id, r.index)
      fresh.push(r.event)
      results.push({ index: r.index, id, status: 'accepted' })
    }

    await chargeEventQuotas(c, fresh)

    const queue = readConfig(c.env).ingestMode === 'queue' ? c.env.EVENTS_QUEUE : undefined
    if (queue) {
      // Queued tier: the consumer writes D1 (and the R2 archive) and drops ids D1 already holds,
      // so an id stored by an earlier request is reported `accepted` here, not `duplicate`.
      if (fresh.length > 0) {
        try {
          await enqueueEvents(queue, fresh, now)
        } catch (error) {
          throw new ApiError(
            'STORAGE_UNAVAILABLE',
            'The events could not be queued; retry the same batch (ids make it idempotent).',
            { cause: error },
          )
        }
      }
      c.header('x-edgerec-ingest', 'queued')
      c.header('Cache-Control', 'no-store')
      return c.json(summarize(results))
    }

    let inserted: Set<string>
    try {
      inserted = (await insertEvents(c.env.DB, fresh, now)).inserted
    } catch (error) {
      throw new ApiError(
        'STORAGE_UNAVAILABLE',
        'The events could not be stored (D1 failed); none of this batch was written. Retry the same batch: ids make it idempotent.',
        { cause: error },
      )
    }
    for (const result of results) {
      if (result.status === 'accepted' && !inserted.has(result.id!)) result.status = 'duplicate'
    }
    c.header('Cache-Control', 'no-store')
    return c.json(summarize(results))
  })
  return app
}

/** The answer body: per-event results and their counts. */
function summarize(results: EventResult[]): EventsBody {
  const body: EventsBody = { accepted: 0, duplicates: 0, rejected: 0, results }
  for (const r of results) {
    if (r.status === 'accepted') body.accepted++
    else if (r.status === 'duplicate') body.duplicates++
    else body.rejected++
  }
  return body
}

/**
 * `POST /v1/impressions` body `{ "recIds": string[] }` (publishable key): the client reports lists
 * it showed. Marks each served list shown once. Lists are written after their response in batches,
 * so a report may arrive first: it is then kept as a pending mark that the list's write completes
 * (`markShownChecked`); marks no list ever completes are dropped after a day.
 *
 * Only recIds this worker signed may leave a pending mark (`rec-id.ts`, checked without D1): a
 * recId whose signature fails, or an unsigned (UUID) one with no stored list, is rejected alone
 * (`rejected`, `errors[]` with code `unrecognized`) and writes nothing, like a malformed event in
 * `POST /v1/events`. A body of the wrong shape is refused whole (400).
 *
 * @module
 */
import type { FieldError } from '@edgerec/core'
import { Hono } from 'hono'
import { parseImpressions } from '../attribution/impressions.js'
import { FORGED_REC_ID_MESSAGE, type RecIdCheck, RecIds } from '../attribution/rec-id.js'
import { markShownChecked } from '../attribution/rec-lists.js'
import type { AppEnv } from '../env.js'
import { ApiError } from '../errors.js'
import { OPERATIONS } from '../openapi/operations.js'
import { ParamErrors } from '../params.js'

/** The JSON body of a `POST /v1/impressions` answer. */
export interface ImpressionsBody {
  /** Lists newly marked shown. */
  shown: number
  /** recIds rejected (one per entry of `recIds`). */
  rejected: number
  /** Why each rejected entry was rejected (`field`: `recIds[i]`). */
  errors: FieldError[]
}

const UNKNOWN_UNSIGNED_MESSAGE =
  'No served list has this unsigned recId (a UUID): it was made up, its list is not stored yet or any more, or it comes from another environment. Nothing was written; recIds of current answers are signed.'

/** Routes under `/v1/impressions`. */
export function impressionRoutes(options: { now: () => number }): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  app.post('/', OPERATIONS.impressions, async (c) => {
    let body: unknown
    try {
      body = JSON.parse(await c.req.text())
    } catch {
      throw new ApiError('INVALID_REQUEST', 'The body is not JSON. Send { "recIds": ["<recId>", …] }.')
    }
    const errors = new ParamErrors()
    const recIds = parseImpressions(errors, body) ?? []
    errors.throwIfAny()
    const unique = [...new Set(recIds)]
    const recIdsOf = RecIds.of(c.env)
    const checks = new Map<string, RecIdCheck>(
      await Promise.all(unique.map(async (id) => [id, await recIdsOf.check(id)] as const)),
    )
    const signed = unique.filter((id) => checks.get(id) === 'signed')
    const unsigned = unique.filter((id) => checks.get(id) === 'unsigned')
    let marked: { shown: number; unknown: string[] }
    try {
      marked = await markShownChecked(c.env.DB, signed, unsigned, options.now())
    } catch (error) {
      throw new ApiError('STORAGE_UNAVAILABLE', 'D1 failed; the impressions were not stored. Retry.', {
        cause: error,
      })
    }
    const unknown = new Set(marked.unknown)
    const answer: ImpressionsBody = { shown: marked.shown, rejected: 0, errors: [] }
    recIds.forEach((id, i) => {
      const message =
        checks.get(id) === 'forged'
          ? FORGED_REC_ID_MESSAGE
          : unknown.has(id)
            ? UNKNOWN_UNSIGNED_MESSAGE
            : null
      if (message === null) return
      answer.rejected++
      answer.errors.push({ field: `recIds[${i}]`, code: 'unrecognized', message })
    })
    c.header('Cache-Control', 'no-store')
    return c.json(answer)
  })
  return app
}

/**
 * The body of `POST /v1/impressions`, `{ "recIds": string[] }`: its limits and its validation,
 * shared by the route and the OpenAPI document's schema.
 *
 * @module
 */
import type { ParamErrors } from '../params.js'

/** Most recIds per request. */
export const MAX_IMPRESSIONS = 100
/** A recId: the UUID (lower-case hex) a recommendations answer carried. */
export const REC_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Checks an impressions body; every problem is added to `errors`. Returns the recIds, or null. */
export function parseImpressions(errors: ParamErrors, body: unknown): string[] | null {
  const recIds =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as { recIds?: unknown }).recIds
      : undefined
  if (!Array.isArray(recIds) || recIds.length === 0 || recIds.length > MAX_IMPRESSIONS) {
    errors.add('recIds', 'range', `recIds must be an array of 1 to ${MAX_IMPRESSIONS} recIds.`)
    return null
  }
  recIds.forEach((id, i) => {
    if (typeof id !== 'string' || !REC_ID_PATTERN.test(id))
      errors.add(`recIds[${i}]`, 'pattern', 'A recId is the UUID a recommendations answer carried.')
  })
  return errors.errors.length > 0 ? null : (recIds as string[])
}

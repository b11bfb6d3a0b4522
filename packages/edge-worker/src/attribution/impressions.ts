/**
 * The body of `POST /v1/impressions`, `{ "recIds": string[] }`: its limits and its validation,
 * shared by the route and the OpenAPI document's schema.
 *
 * @module
 */
import type { ParamErrors } from '../params.js'
import { REC_ID_PATTERN } from './rec-id.js'

/** Most recIds per request. */
export const MAX_IMPRESSIONS = 100

/**
 * Checks an impressions body's shape; every problem is added to `errors`. Returns the recIds, or
 * null. Whether each recId was issued by this worker is checked by the route (`rec-id.ts`): a
 * well-shaped recId that fails is rejected alone, not the request.
 */
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
      errors.add(
        `recIds[${i}]`,
        'pattern',
        'A recId is the opaque id an answer carried ("<24 hex>.<24 hex>", or a UUID from before signing); send it unchanged.',
      )
  })
  return errors.errors.length > 0 ? null : (recIds as string[])
}

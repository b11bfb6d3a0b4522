/**
 * Reporting impressions (issue 15): tell the worker that a list was shown, so clicks, add-to-carts
 * and purchases on it count in experiment results (docs/online.md).
 *
 * A standalone function, not a client method: the full browser client has no bytes left in its
 * 3,900 B budget, and an app that reports impressions pays for this one only when it imports it.
 *
 * @module
 */
import type { ClientOptions } from './types.js'

/**
 * Sends `POST /v1/impressions` for the answers given (their `recId`s). Never throws.
 *
 * @returns whether the worker stored the report
 * @example
 * ```ts
 * const list = await recs.recommend({ k: 8 })
 * render(list.items)
 * void reportImpression({ endpoint, publishableKey }, list)
 * recs.track('click', { itemId, context: { recId: list.recId } }) // credited to the list
 * ```
 */
export async function reportImpression(
  options: Pick<ClientOptions, 'endpoint' | 'publishableKey' | 'fetch'>,
  ...answers: { recId?: string }[]
): Promise<boolean> {
  const recIds = answers.flatMap((a) => (a?.recId ? [a.recId] : []))
  if (recIds.length === 0) return false
  try {
    const response = await (options.fetch ?? fetch)(
      `${options.endpoint.replace(/\/+$/, '')}/v1/impressions`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${options.publishableKey}` },
        body: JSON.stringify({ recIds }),
        keepalive: true,
      },
    )
    return response.ok
  } catch {
    return false
  }
}

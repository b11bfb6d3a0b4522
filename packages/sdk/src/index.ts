/**
 * `@edgerec/sdk`: reliable event delivery and typed recommendations for browsers, Web Workers,
 * React Native, Node ≥ 22, Deno, Bun and Workers. No dependencies.
 *
 * @example
 * ```ts
 * import { createClient } from '@edgerec/sdk'
 * const recs = createClient({ endpoint: 'https://recs.example.com', publishableKey: 'pk_live_…' })
 * recs.identify('user-42')
 * recs.track('view', { itemId: 'sku-1' })
 * const { items, source, modelVersion } = await recs.recommend({ k: 10 })
 * ```
 * @see the package README (usage, options, errors)
 * @module
 */
import { EdgerecClient } from './client-core.js'
import { EdgerecWebClient } from './client-web.js'
import type { ClientOptions } from './types.js'

/**
 * Creates a client: the page layer ({@link EdgerecWebClient}: `localStorage`, delivery on page hide)
 * where a `document` exists, the platform-free {@link EdgerecClient} elsewhere.
 *
 * @throws `SdkError` `INVALID_ARGUMENT` when `endpoint` or `publishableKey` is missing
 */
export function createClient(options: ClientOptions): EdgerecClient {
  return typeof document === 'undefined' ? new EdgerecClient(options) : new EdgerecWebClient(options)
}

export { EdgerecClient } from './client-core.js'
export { EdgerecWebClient } from './client-web.js'
export type { SdkErrorCode } from './errors.js'
export { EdgerecClientError, EdgerecNetworkError, isRetryable, SDK_ERROR_CODES, SdkError } from './errors.js'
export { reportImpression } from './impressions.js'
export type { KeyValueStorage } from './storage.js'
export { memoryStorage, webStorage } from './storage.js'
export type {
  ClientEvent,
  ClientOptions,
  EdgerecEvent,
  EventContext,
  FieldError,
  FlushResult,
  ImpressionsResponse,
  IngestResponse,
  ItemFilter,
  PopularResponse,
  RecommendationsResponse,
  RecommendedItem,
  RecommendOptions,
  ScoredItem,
  SimilarResponse,
  StandardEventType,
  TrackProperties,
  UserToken,
} from './types.js'

/**
 * The publisher: copies a trained version to where the edge worker reads it (shards → manifest →
 * `models/live` last), keeps the last N versions, rolls back.
 *
 * @module
 */
export type { KvNamespaceBinding, R2BucketBinding, R2ObjectInfo } from './bindings.js'
export { KvBindingStorage, R2BindingStorage } from './bindings.js'
export type { LocalPublishTarget, LocalPublishTargetOptions } from './local.js'
export { findWorkerConfig, openLocalPublishTarget } from './local.js'
export type { PublishedCheck, PublishOptions, PublishReport, PublishTarget } from './publisher.js'
export {
  activateVersion,
  DEFAULT_KEEP_VERSIONS,
  isPublished,
  listPublishedVersions,
  pruneVersions,
  publishVersion,
  readLivePointer,
  rollback,
  verifyPublished,
} from './publisher.js'
export type { RetryOptions } from './retry.js'
export { isThrottleOrUnavailable, withRetry } from './retry.js'

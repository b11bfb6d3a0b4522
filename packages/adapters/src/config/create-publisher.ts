import type { LivePointer } from '@edgerec/core'
import {
  activateVersion,
  DEFAULT_KEEP_VERSIONS,
  type PublishOptions,
  type PublishReport,
  type PublishTarget,
  publishVersion,
  readLivePointer,
  rollback,
} from '../publish/publisher.js'
import type { Storage } from '../storage/storage.js'
import { loadProvider } from './load-provider.js'
import type { PublishConfig } from './types.js'
import { validatePublishConfig } from './validate.js'

/** A publish target with its config applied. */
export interface Publisher {
  readonly target: PublishTarget
  /** Publishes `version` from `source` (see {@link publishVersion}). */
  publish(
    source: Storage,
    version: string,
    options?: Omit<PublishOptions, 'source' | 'version' | 'target'>,
  ): Promise<PublishReport>
  /** Flips `models/live` back to the previous version. */
  rollback(): Promise<LivePointer>
  /** Makes a published version live. */
  activate(version: string): Promise<LivePointer>
  /** The current live pointer. */
  live(): Promise<LivePointer | undefined>
  /** Releases the target (the local Miniflare). */
  close(): Promise<void>
}

/**
 * Validates a publish config and opens its target; only the chosen provider's modules load. The
 * default (`undefined`) is the embedded `local` target (the `wrangler dev` state).
 *
 * @example
 * ```ts
 * const publisher = await createPublisher({ provider: 'cloudflare', accountId, r2Bucket, kvNamespaceId })
 * await publisher.publish(registry, version)
 * await publisher.close()
 * ```
 */
export async function createPublisher(input: PublishConfig = { provider: 'local' }): Promise<Publisher> {
  const config = validatePublishConfig(input)
  let target: PublishTarget
  if (config.provider === 'local') {
    const { openLocalPublishTarget } = await import('../publish/local.js')
    const {
      provider: _p,
      keep: _k,
      memoryBudgetMiB: _m,
      userCacheMiB: _u,
      partitionCacheMiB: _c,
      ...options
    } = config
    target = await openLocalPublishTarget(options)
  } else {
    const { openCloudflarePublishTarget } = await loadProvider(
      'publish',
      'cloudflare',
      ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
      () => import('../cloudflare/publish.js'),
    )
    const {
      provider: _p,
      keep: _k,
      memoryBudgetMiB: _m,
      userCacheMiB: _u,
      partitionCacheMiB: _c,
      ...options
    } = config
    target = await openCloudflarePublishTarget(options)
  }
  const keep = config.keep ?? DEFAULT_KEEP_VERSIONS
  const MiB = 1024 * 1024
  const memory = {
    ...(config.memoryBudgetMiB ? { budgetBytes: config.memoryBudgetMiB * MiB } : {}),
    ...(config.userCacheMiB ? { userCacheBytes: config.userCacheMiB * MiB } : {}),
    ...(config.partitionCacheMiB ? { partitionCacheBytes: config.partitionCacheMiB * MiB } : {}),
  }
  return {
    target,
    publish: (source, version, options = {}) =>
      publishVersion({ keep, memory, ...options, source, version, target }),
    rollback: () => rollback({ target }),
    activate: (version) => activateVersion({ target, version }),
    live: () => readLivePointer(target),
    close: async () => {
      await target.close?.()
    },
  }
}

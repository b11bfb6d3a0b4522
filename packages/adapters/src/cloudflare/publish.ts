import { createStorage } from '../config/create-storage.js'
import type { CloudflarePublishConfig } from '../config/types.js'
import type { PublishTarget } from '../publish/publisher.js'

/** Options of {@link openCloudflarePublishTarget}: the `cloudflare` publish config without `provider`/`keep`. */
export type CloudflarePublishTargetOptions = Omit<CloudflarePublishConfig, 'provider' | 'keep'>

/**
 * The production publish target: shards to R2 through its S3 API (`R2Storage`; R2 access keys from
 * the AWS credential chain, e.g. `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` set to an R2 API token's
 * keys) and manifests + `models/live` to Workers KV through the REST API (`KvStorage`; token from
 * `CLOUDFLARE_API_TOKEN` or `apiTokenEnv`). Bind the same bucket and namespace in the worker's
 * wrangler.jsonc as `MODELS_R2` and `MODELS_KV`.
 *
 * @example
 * ```ts
 * const target = await openCloudflarePublishTarget({ accountId, r2Bucket: 'edgerec-models', kvNamespaceId })
 * await publishVersion({ source, version, target })
 * ```
 */
export async function openCloudflarePublishTarget(
  options: CloudflarePublishTargetOptions,
): Promise<PublishTarget> {
  const r2 = { provider: 'r2', accountId: options.accountId, bucket: options.r2Bucket } as const
  const kv = { provider: 'kv', accountId: options.accountId, namespaceId: options.kvNamespaceId } as const
  const objects = await createStorage(options.r2Endpoint ? { ...r2, endpoint: options.r2Endpoint } : r2)
  const pointers = await createStorage({
    ...kv,
    ...(options.apiTokenEnv ? { apiTokenEnv: options.apiTokenEnv } : {}),
    ...(options.kvApiBase ? { apiBase: options.kvApiBase } : {}),
  })
  return {
    name: `cloudflare (R2 ${options.r2Bucket}, KV ${options.kvNamespaceId})`,
    objects,
    pointers,
    shardStorage: 'r2',
  }
}

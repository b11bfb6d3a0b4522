import type { Storage } from '../storage/storage.js'
import { loadProvider } from './load-provider.js'
import type { StorageConfig } from './types.js'
import { validateStorageConfig } from './validate.js'

/** SDK packages each storage provider needs (optional peer dependencies). */
export const STORAGE_SDKS: Record<StorageConfig['provider'], readonly string[]> = {
  local: [],
  s3: ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
  r2: ['@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
  gcs: ['@google-cloud/storage'],
  'azure-blob': ['@azure/storage-blob', '@azure/identity'],
  kv: [],
}

const withoutProvider = <T extends { provider: string }>(config: T): Omit<T, 'provider'> => {
  const { provider: _provider, ...rest } = config
  return rest
}

/**
 * Validates a storage config and builds the storage. Only the chosen provider's module (and SDK)
 * is loaded.
 *
 * @example
 * ```ts
 * const registry = await createStorage({ provider: 's3', bucket: 'my-models', region: 'eu-west-1' })
 * ```
 */
export async function createStorage(input: StorageConfig): Promise<Storage> {
  const config = validateStorageConfig(input)
  const sdks = STORAGE_SDKS[config.provider]
  const load = <T>(fn: () => Promise<T>): Promise<T> => loadProvider('storage', config.provider, sdks, fn)
  switch (config.provider) {
    case 'local': {
      const { LocalStorage } = await load(() => import('../local/storage.js'))
      return new LocalStorage(withoutProvider(config))
    }
    case 's3': {
      const { S3Storage } = await load(() => import('../aws/storage.js'))
      return new S3Storage(withoutProvider(config))
    }
    case 'r2': {
      const { R2Storage } = await load(() => import('../cloudflare/storage.js'))
      return new R2Storage(withoutProvider(config))
    }
    case 'gcs': {
      const { GcsStorage } = await load(() => import('../gcp/storage.js'))
      return new GcsStorage(withoutProvider(config))
    }
    case 'azure-blob': {
      const { AzureBlobStorage } = await load(() => import('../azure/storage.js'))
      return new AzureBlobStorage(withoutProvider(config))
    }
    case 'kv': {
      const { KvStorage } = await load(() => import('../cloudflare/storage.js'))
      return new KvStorage(withoutProvider(config))
    }
  }
}

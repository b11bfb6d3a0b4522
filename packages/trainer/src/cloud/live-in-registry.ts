import { resolve } from 'node:path'
import { createStorage, type StorageConfig } from '@edgerec/adapters'
import { LIVE_POINTER_KEY, manifestKey } from '@edgerec/core'
import { MemoryStorage } from '../export/index.js'
import { type LiveModel, loadLiveModel } from '../gate/index.js'
import type { TrainLogger } from '../train.js'

/**
 * The live version for the quality gate of a cloud job, read from the model registry the job
 * writes to (the version went live from there), not from the publish target: the job has no
 * Cloudflare credentials. The submitting CLI reads which version is live and passes it as
 * `--gate-live-version`. `undefined` (with a warning) when the registry no longer holds it.
 *
 * @example
 * ```ts
 * options.live = () => liveFromRegistry({ provider: 's3', bucket: 'models' }, '20261203T…', cwd, logger)
 * ```
 */
export async function liveFromRegistry(
  registry: StorageConfig,
  version: string,
  cwd: string,
  logger: TrainLogger,
): Promise<LiveModel | undefined> {
  const objects = await createStorage(
    registry.provider === 'local' ? { ...registry, root: resolve(cwd, registry.root) } : registry,
  )
  if (!(await objects.get(manifestKey(version)))) {
    logger.warn(
      `The live version ${version} is not in the model registry, so the quality gate compares with popularity only.`,
    )
    return undefined
  }
  const pointers = new MemoryStorage()
  const pointer = { version, activatedAt: new Date(0).toISOString() }
  await pointers.put(LIVE_POINTER_KEY, new TextEncoder().encode(JSON.stringify(pointer)))
  return loadLiveModel({ objects, pointers })
}

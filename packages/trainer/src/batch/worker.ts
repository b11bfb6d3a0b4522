/**
 * Worker thread of `edgerec-train recommend --threads N`: scores one share of the users into its
 * own part file (see `batchRecommendThreads`).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createStorage, type StorageConfig } from '@edgerec/adapters'
import type { ItemFilterSpec } from '@edgerec/core'
import { batchRecommend } from './recommend.js'

const data = workerData as {
  storageConfig: StorageConfig
  version: string
  users: readonly string[] | { part: number; parts: number }
  k: number
  filter: ItemFilterSpec
  out: string
}
const storage = await createStorage(data.storageConfig)
const result = await batchRecommend({
  storage,
  version: data.version,
  users: data.users,
  k: data.k,
  filter: data.filter,
  out: data.out,
})
parentPort?.postMessage(result)

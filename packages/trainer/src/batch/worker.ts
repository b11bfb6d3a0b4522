/**
 * Worker thread of `edgerec-train recommend --threads N`: scores one share of the users into its
 * own part file (see `batchRecommendThreads`).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createStorage, type StorageConfig } from '@edgerec/adapters'
import type { ItemFilterSpec, MerchandisingRules } from '@edgerec/core'
import { type BatchFormat, batchRecommend } from './recommend.js'

const data = workerData as {
  storageConfig: StorageConfig
  version: string
  users: readonly string[] | { part: number; parts: number }
  k: number
  filter: ItemFilterSpec
  rules?: MerchandisingRules
  maxPerCategory?: number
  diversity?: number
  now: number
  out: string
  format: BatchFormat
}
const storage = await createStorage(data.storageConfig)
const result = await batchRecommend({
  storage,
  version: data.version,
  users: data.users,
  k: data.k,
  filter: data.filter,
  ...(data.rules ? { rules: data.rules } : {}),
  ...(data.maxPerCategory !== undefined ? { maxPerCategory: data.maxPerCategory } : {}),
  ...(data.diversity !== undefined ? { diversity: data.diversity } : {}),
  now: data.now,
  out: data.out,
  format: data.format,
})
parentPort?.postMessage(result)

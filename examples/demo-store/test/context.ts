/**
 * What the global setup hands to the tests, and the small demo they run against.
 */
import { readFileSync } from 'node:fs'
import type { DemoDataOptions, DemoTrainOptions } from '../demo/prepare.js'
import { type Product, parseCatalog } from '../src/catalog.js'

/** The running demo. */
export interface DemoUnderTest {
  dir: string
  workerUrl: string
  storeUrl: string
  /** The version the setup trained and published. */
  version: string
  /** Rows in the local D1 `events` table after loading. */
  rows: number
}

/** Small generated shop: a few seconds to load and train. */
export const TEST_DATA: DemoDataOptions = { events: 30_000, categories: 8, seed: 7 }
export const TEST_TRAIN: DemoTrainOptions = { factors: 16, iterations: 10 }

/** The catalog the store page shows. */
export function readCatalog(dir: string): {
  products: Product[]
  categories: { name: string; share: number }[]
} {
  const json = JSON.parse(readFileSync(`${dir}/catalog.json`, 'utf8')) as {
    categories: { name: string; share: number }[]
  }
  return { products: parseCatalog(json), categories: json.categories }
}

/** Share of `itemIds` whose product is in `category`. */
export function shareOf(itemIds: readonly string[], category: string, byId: Map<string, Product>): number {
  if (itemIds.length === 0) return 0
  return itemIds.filter((id) => byId.get(id)?.category === category).length / itemIds.length
}

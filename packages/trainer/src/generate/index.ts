/**
 * Synthetic e-commerce data: a catalog with readable names and power-law popularity, and a
 * deterministic event stream (view → add_to_cart → purchase funnel) at any size.
 *
 * @module
 */
export type { Catalog, CatalogCategory, CatalogItem, CatalogOptions } from './catalog.js'
export { CATALOG_COLOURS, CATEGORY_THEMES, generateCatalog, zipfWeights } from './catalog.js'
export type {
  FunnelRates,
  GeneratedEvent,
  GenerateOptions,
  ResolvedGenerateOptions,
  UserTaste,
} from './events.js'
export { catalogFor, generatedUserId, generateEvents, resolveGenerateOptions, userTaste } from './events.js'
export { mixSeed, Random } from './random.js'
export type { GeneratedFiles, WriteGeneratedOptions } from './write.js'
export { writeGeneratedData } from './write.js'

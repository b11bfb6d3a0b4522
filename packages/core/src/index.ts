/**
 * `@edgerec/core`: the runtime-agnostic contract shared by every edgerec package: event schema and
 * validation, id hashing, int8 quantization, shard format v1, the model manifest, scoring, top-K
 * and fold-in. Zero dependencies; Web-standard APIs only.
 *
 * @module
 */

export * from './catalog/index.js'
export * from './confidence/index.js'
export type { CoreErrorCode } from './errors.js'
export {
  CORE_ERROR_CODES,
  CoreError,
  EdgerecError,
  isEdgerecError,
  ModelFitError,
  ShardFormatError,
} from './errors.js'
export * from './events/index.js'
export * from './fold-in/index.js'
export { stableHash32, userBucket } from './hash.js'
export * from './manifest/index.js'
export * from './quantize/index.js'
export { mulberry32 } from './random.js'
export * from './schema/index.js'
export * from './scoring/index.js'
export * from './shard/index.js'
export * from './user-token/index.js'

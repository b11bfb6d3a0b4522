export type { ValueTransform } from './value-transform.js'
export { toValueTransform, VALUE_TRANSFORMS, valueTransformFunction } from './value-transform.js'

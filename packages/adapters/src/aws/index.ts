/**
 * @edgerec/adapters/aws: storage and training compute on this provider.
 *
 * @module
 */
export * from './storage.js'
export * from './compute.js'

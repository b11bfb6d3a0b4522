/**
 * @edgerec/adapters/azure: storage and training compute on this provider.
 *
 * @module
 */
export * from './storage.js'
export * from './compute.js'

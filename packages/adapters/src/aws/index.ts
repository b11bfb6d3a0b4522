/**
 * @edgerec/adapters/aws: storage and training compute on this provider.
 *
 * @module
 */

export * from './compute.js'
export * from './schedule.js'
export * from './storage.js'

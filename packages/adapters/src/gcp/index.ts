/**
 * @edgerec/adapters/gcp: storage, training compute and schedules on this provider.
 *
 * @module
 */

export * from './compute.js'
export * from './schedule.js'
export * from './storage.js'

/**
 * @edgerec/adapters/local: the embedded default: local-disk storage, local compute, SQLite events.
 *
 * @module
 */

export * from './compute.js'
export * from './storage.js'

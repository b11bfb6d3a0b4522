/**
 * @edgerec/adapters/local: the embedded default: local-disk storage, local compute, SQLite events.
 *
 * @module
 */
export * from './storage.js'
export * from './compute.js'

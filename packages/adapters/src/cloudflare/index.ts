/**
 * @edgerec/adapters/cloudflare: R2 and KV storage, D1 events, and the publisher the edge worker reads from.
 *
 * @module
 */

export * from './publish.js'
export * from './storage.js'

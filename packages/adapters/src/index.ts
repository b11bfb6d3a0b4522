/**
 * `@edgerec/adapters`: the provider-independent contracts (storage, compute, publisher), provider
 * config validation, the event sources (`createEventSource`) and the factories `createStorage`, `createCompute`, `createPublisher`, which
 * load only the chosen provider's SDK. Provider classes live in the subpaths `./local`, `./aws`,
 * `./gcp`, `./azure`, `./cloudflare`, and the Spark platforms in `./emr-serverless`, `./dataproc`,
 * `./databricks`.
 *
 * @example
 * ```ts
 * import { createCompute, createPublisher, createStorage } from '@edgerec/adapters'
 * const registry = await createStorage({ provider: 'local', root: '.edgerec/models' })
 * const publisher = await createPublisher()           // the local wrangler dev state
 * await publisher.publish(registry, version)
 * ```
 *
 * @module
 */
export * from './compute/index.js'
export * from './config/index.js'
export type { AdapterErrorCode, StorageErrorContext } from './errors.js'
export { ADAPTER_ERROR_CODES, AdapterError, StorageError } from './errors.js'
export * from './events/index.js'
export * from './publish/index.js'
export * from './schedule/index.js'
export { storageUri } from './spark/index.js'
export type { ByteRange, ListPage, ObjectInfo, PutOptions, Storage } from './storage/storage.js'
export { listAll } from './storage/storage.js'

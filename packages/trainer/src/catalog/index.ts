export type { CatalogSourceConfig, ReadCatalog } from './read.js'
export { readCatalogFile, readCatalogSqlite, resolveCatalog } from './read.js'

/**
 * @edgerec/adapters/databricks: Spark jobs on Databricks (Jobs API 2.1 over REST).
 *
 * @module
 */
export * from './compute.js'

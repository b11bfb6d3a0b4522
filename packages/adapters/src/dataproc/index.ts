/**
 * @edgerec/adapters/dataproc: Spark jobs on Dataproc Serverless.
 *
 * @module
 */
export * from './compute.js'

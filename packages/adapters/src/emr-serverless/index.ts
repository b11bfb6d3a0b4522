/**
 * @edgerec/adapters/emr-serverless: Spark jobs on Amazon EMR Serverless.
 *
 * @module
 */
export * from './compute.js'

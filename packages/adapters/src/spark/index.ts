/**
 * Helpers shared by the Spark computes (`../emr-serverless`, `../dataproc`, `../databricks`).
 *
 * @module
 */
export { pysparkJob, sparkResult, sparkSubmitParameters, storageUri } from './job.js'

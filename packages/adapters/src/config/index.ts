/**
 * Provider configs (`storage`, `compute`, `publish` of `edgerec.config.ts`): types, validation with
 * messages that name the field and the provider, and factories that load only the chosen SDK.
 *
 * @module
 */
export { COMPUTE_SDKS, createCompute, SPARK_SDKS } from './create-compute.js'
export type { Publisher } from './create-publisher.js'
export { createPublisher } from './create-publisher.js'
export { createScheduler } from './create-scheduler.js'
export { createStorage, STORAGE_SDKS } from './create-storage.js'
export type {
  AzureBlobStorageConfig,
  AzureMlComputeConfig,
  CloudflarePublishConfig,
  ComputeConfig,
  DatabricksSparkConfig,
  DataprocSparkConfig,
  EmrServerlessSparkConfig,
  GcsStorageConfig,
  KvStorageConfig,
  LocalComputeConfig,
  LocalPublishConfig,
  LocalStorageConfig,
  PublishConfig,
  R2StorageConfig,
  S3StorageConfig,
  SageMakerComputeConfig,
  SparkComputeBase,
  SparkComputeConfig,
  StorageConfig,
  VertexAiComputeConfig,
} from './types.js'
export {
  providerConfigProblems,
  SPARK_PART_ROWS,
  SPARK_STAGING,
  validateComputeConfig,
  validatePublishConfig,
  validateStorageConfig,
} from './validate.js'

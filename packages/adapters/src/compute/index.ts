/**
 * The compute contract and its shared helpers. Providers live in `../local`, `../aws`, `../gcp`,
 * `../azure`, and the Spark platforms in `../emr-serverless`, `../dataproc`, `../databricks` (shared
 * Spark helpers in `../spark`); build one from config with `createCompute`.
 *
 * @module
 */
export type {
  Compute,
  JobHandle,
  JobResult,
  JobState,
  JobStatus,
  LogLine,
  MachineSpec,
  PySparkJob,
  TrainingRun,
  TrainingRunConfig,
  WaitOptions,
} from './compute.js'
export { isTerminal } from './compute.js'
export type { ContainerInvocation } from './container.js'
export { CONTAINER_ENTRYPOINT, containerInvocation, jobName } from './container.js'
export type { RegistryVersion } from './result.js'
export { findVersionSince, listCompleteVersions } from './result.js'
export { jobFailureError, QUOTA_FAILURE } from './wait.js'

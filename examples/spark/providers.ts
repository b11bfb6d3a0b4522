/**
 * Spark computes for examples/spark/edgerec.config.ts, one per platform. Validated and built by
 * packages/adapters/test/compute/examples.test.ts. Nothing secret belongs here: credentials come from
 * the AWS default chain, Google Application Default Credentials, or (Databricks) the env var named
 * by `tokenEnv`.
 */
import type { ComputeConfig, StorageConfig } from '@edgerec/adapters'

/** The model registry, and the default staging bucket of the Spark job (inputs, script, factors). */
export const storage = {
  provider: 's3',
  bucket: 'acme-edgerec-models',
  region: 'eu-west-1',
  prefix: 'prod/',
} satisfies StorageConfig

/**
 * EMR Serverless: an existing Spark application (release emr-7.x) and its job runtime role
 * (iam/emr-job-role-*.json): read/write on the staging prefix.
 */
export const emrServerless = {
  provider: 'spark',
  platform: 'emr-serverless',
  region: 'eu-west-1',
  applicationId: '00fabc1234567890',
  executionRoleArn: 'arn:aws:iam::123456789012:role/edgerec-spark',
  logUri: 's3://acme-edgerec-models/spark-logs/',
  sparkConf: { 'spark.executor.memory': '8g', 'spark.executor.instances': '8' },
  // Rows per staged Parquet part file (default 1,000,000): one Spark task each, encoded in memory
  // here at about 13 bytes a row. 2M halves the files and tasks of a 100M-pair run.
  partRows: 2_000_000,
} satisfies ComputeConfig

/** Dataproc Serverless: the batch runs as a service account with write access to the gcs staging bucket. */
export const dataproc = {
  provider: 'spark',
  platform: 'dataproc',
  projectId: 'acme-edgerec',
  region: 'europe-west1',
  serviceAccount: 'edgerec-spark@acme-edgerec.iam.gserviceaccount.com',
  staging: { provider: 'gcs', bucket: 'acme-edgerec-staging' },
  sparkConf: { 'spark.executor.memory': '8g' },
} satisfies ComputeConfig

/** Databricks: a job cluster per run; the token is read from DATABRICKS_TOKEN (a secret, never here). */
export const databricks = {
  provider: 'spark',
  platform: 'databricks',
  host: 'https://dbc-1234abcd-5678.cloud.databricks.com',
  tokenEnv: 'DATABRICKS_TOKEN',
  nodeTypeId: 'i3.xlarge',
  numWorkers: 4,
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/edgerec-spark',
} satisfies ComputeConfig

/** The compute the example config uses. */
export const compute = emrServerless

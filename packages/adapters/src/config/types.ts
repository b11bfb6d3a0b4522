/**
 * Provider configs: the `storage`, `compute` and `publish` values of `edgerec.config.ts`.
 * Secrets never appear here: only the NAME of an environment variable that holds one; credentials
 * come from each provider's standard chain (AWS default provider chain, Google ADC,
 * `DefaultAzureCredential`, `CLOUDFLARE_API_TOKEN`).
 *
 * @module
 */

/** Local disk (the embedded default). */
export interface LocalStorageConfig {
  provider: 'local'
  /** Folder holding `models/…`. */
  root: string
}

/** Amazon S3 (or any S3-compatible endpoint). */
export interface S3StorageConfig {
  provider: 's3'
  bucket: string
  region?: string
  prefix?: string
  endpoint?: string
  forcePathStyle?: boolean
}

/** Cloudflare R2 through its S3 API (`https://<accountId>.r2.cloudflarestorage.com`, region `auto`). */
export interface R2StorageConfig {
  provider: 'r2'
  accountId: string
  bucket: string
  prefix?: string
  endpoint?: string
}

/** Google Cloud Storage. */
export interface GcsStorageConfig {
  provider: 'gcs'
  bucket: string
  projectId?: string
  prefix?: string
  apiEndpoint?: string
}

/** Azure Blob Storage. */
export interface AzureBlobStorageConfig {
  provider: 'azure-blob'
  container: string
  /** `https://<account>.blob.core.windows.net`. */
  accountUrl?: string
  /** Name of an env var holding a connection string; otherwise `DefaultAzureCredential`. */
  connectionStringEnv?: string
  prefix?: string
}

/** Cloudflare Workers KV through its REST API. */
export interface KvStorageConfig {
  provider: 'kv'
  accountId: string
  namespaceId: string
  /** Env var holding the API token. Default `CLOUDFLARE_API_TOKEN`. */
  apiTokenEnv?: string
  apiBase?: string
}

/** Any storage provider config. */
export type StorageConfig =
  | LocalStorageConfig
  | S3StorageConfig
  | R2StorageConfig
  | GcsStorageConfig
  | AzureBlobStorageConfig
  | KvStorageConfig

/** Run the trainer as a local child process (the default). */
export interface LocalComputeConfig {
  provider: 'local'
  /**
   * Command that starts the trainer CLI, before `train`. Default: `node <@edgerec/trainer bin>`.
   * Example: `['npx', 'edgerec-train']`.
   */
  command?: string[]
  /** Working directory of the trainer. Default: the current directory. */
  cwd?: string
}

/** Amazon SageMaker training job running the trainer image. */
export interface SageMakerComputeConfig {
  provider: 'sagemaker'
  region?: string
  /** IAM role the job assumes (needs ECR pull + read/write on the model bucket). */
  roleArn: string
  /** ECR image URI of `packages/trainer/Dockerfile`. */
  image: string
  /** Default `ml.m5.xlarge`. */
  instanceType?: string
  /** `s3://bucket/prefix` where SageMaker puts its own job output (required by the API). */
  outputS3Uri: string
  /**
   * Role EventBridge Scheduler assumes to start scheduled jobs (`edgerec-train schedule create`):
   * trusted by `scheduler.amazonaws.com`, allowed `sagemaker:CreateTrainingJob` and `iam:PassRole`
   * of `roleArn`.
   */
  schedulerRoleArn?: string
}

/** Vertex AI custom job running the trainer image. */
export interface VertexAiComputeConfig {
  provider: 'vertex-ai'
  projectId: string
  /** Region, e.g. `us-central1`. */
  location: string
  /** Artifact Registry image URI. */
  image: string
  /** Default `n1-standard-8`. */
  machineType?: string
  /** Service account the job runs as. */
  serviceAccount?: string
  /** `gs://bucket/prefix`: Vertex AI's `baseOutputDirectory` (`AIP_MODEL_DIR` inside the job). */
  baseOutputUri?: string
  /** Override the API endpoint (default `<location>-aiplatform.googleapis.com`). */
  apiEndpoint?: string
  /**
   * Service account whose OAuth token Cloud Scheduler sends to Vertex AI's `customJobs.create`
   * (`edgerec-train schedule create`): `roles/aiplatform.user` on the project and
   * `roles/iam.serviceAccountUser` on `serviceAccount`.
   */
  schedulerServiceAccount?: string
  /** Cloud Scheduler region of scheduled jobs. Default `location`. */
  schedulerLocation?: string
}

/** Azure Machine Learning command job running the trainer image. */
export interface AzureMlComputeConfig {
  provider: 'azure-ml'
  subscriptionId: string
  resourceGroup: string
  workspace: string
  /** Compute cluster name in the workspace. */
  computeName: string
  /**
   * Environment asset id whose image is the trainer, e.g.
   * `azureml:edgerec-trainer:1` or a full ARM id.
   */
  environmentId: string
  /** VM size, e.g. `Standard_D4s_v3` (default: the cluster's). */
  instanceType?: string
  /** Experiment name. Default `edgerec`. */
  experimentName?: string
  /** Override the ARM endpoint (default `https://management.azure.com`). */
  endpoint?: string
}

/**
 * Fields every Spark platform shares (`compute: { provider: 'spark', platform, … }`): the trainer
 * writes the weighted interactions and id maps as Parquet/JSON under `staging`, submits the
 * PySpark job shipped in `@edgerec/trainer` (`spark/edgerec_als.py`), and reads the factors the
 * job wrote back from there.
 */
export interface SparkComputeBase {
  provider: 'spark'
  /**
   * Bucket (and prefix) for the job's inputs, script and factors, reachable by the job and by this
   * machine. Default: the model registry (`storage`). s3 for EMR Serverless, gcs for Dataproc,
   * s3 / gcs / azure-blob (with `accountUrl`) for Databricks.
   */
  staging?: StorageConfig
  /** URI of the PySpark script. Default: the trainer uploads `edgerec_als.py` under `staging`. */
  entryPointUri?: string
  /** Extra Spark properties (`spark.executor.memory`, …). */
  sparkConf?: Record<string, string>
  /**
   * Most rows per Parquet part file of the staged interactions (and of the evaluation's train
   * split). Each part is encoded in memory on this machine (about 13 bytes a row) and uploaded
   * while the next is encoded, and Spark reads a part file as one task: larger parts mean fewer
   * files and tasks, smaller ones less staging memory. Default 1,000,000; allowed
   * 100 to 50,000,000 (`SPARK_PART_ROWS`).
   */
  partRows?: number
}

/** Spark on Amazon EMR Serverless (`StartJobRun` on an existing Spark application). */
export interface EmrServerlessSparkConfig extends SparkComputeBase {
  platform: 'emr-serverless'
  region?: string
  /** EMR Serverless application id (a Spark application, release emr-7.x). */
  applicationId: string
  /** Job runtime role: read/write on the staging bucket, trusted by `emr-serverless.amazonaws.com`. */
  executionRoleArn: string
  /** `s3://…` for the job's Spark logs (monitoringConfiguration). */
  logUri?: string
}

/** Spark on Dataproc Serverless (`createBatch` with a `pysparkBatch`). */
export interface DataprocSparkConfig extends SparkComputeBase {
  platform: 'dataproc'
  projectId: string
  /** Region, e.g. `europe-west1`. */
  region: string
  /** Service account the batch runs as (read/write on the staging bucket, roles/dataproc.worker). */
  serviceAccount?: string
  /** Dataproc Serverless runtime version. Default `2.2`. */
  runtimeVersion?: string
  /** Subnetwork URI (needs Private Google Access). */
  subnetworkUri?: string
  /** Override the API endpoint (default `<region>-dataproc.googleapis.com`). */
  apiEndpoint?: string
}

/** Spark on Databricks (Jobs API `runs/submit` with a `spark_python_task`). */
export interface DatabricksSparkConfig extends SparkComputeBase {
  platform: 'databricks'
  /** Workspace URL, e.g. `https://dbc-1234.cloud.databricks.com`. */
  host: string
  /** NAME of the env var holding a Databricks token. Default `DATABRICKS_TOKEN`. */
  tokenEnv?: string
  /** Run on this all-purpose cluster instead of a new job cluster. */
  existingClusterId?: string
  /** Job cluster runtime. Default `15.4.x-scala2.12`. */
  sparkVersion?: string
  /** Job cluster node type, e.g. `i3.xlarge`, `n2-highmem-4`, `Standard_DS3_v2`. Required without `existingClusterId`. */
  nodeTypeId?: string
  /** Job cluster workers. Default 2. */
  numWorkers?: number
  /** Instance profile ARN (AWS workspaces) that lets the cluster read/write the staging bucket. */
  instanceProfileArn?: string
}

/** Any Spark compute config. */
export type SparkComputeConfig = EmrServerlessSparkConfig | DataprocSparkConfig | DatabricksSparkConfig

/** Any compute provider config. */
export type ComputeConfig =
  | LocalComputeConfig
  | SageMakerComputeConfig
  | VertexAiComputeConfig
  | AzureMlComputeConfig
  | SparkComputeConfig

/**
 * Publish into the local KV/R2 state that `wrangler dev` serves (the embedded default).
 * Written through wrangler's own Miniflare (`getPlatformProxy`), so a later
 * `wrangler dev --persist-to <persistTo>` serves exactly what was published.
 */
export interface LocalPublishConfig {
  provider: 'local'
  /** The edge worker's wrangler config. Default `packages/edge-worker/wrangler.jsonc`. */
  workerConfig?: string
  /** `--persist-to` folder of `wrangler dev`. Default `<folder of workerConfig>/.wrangler/state`. */
  persistTo?: string
  /** Versions to keep (the live and previous ones are always kept). Default 5. */
  keep?: number
  /** The worker's `MODEL_MEMORY_MIB`: versions that cannot load next to the live one are refused. Default 96. */
  memoryBudgetMiB?: number
  /** The worker's `USER_CACHE_MIB`, part of the memory plan. Default 16. */
  userCacheMiB?: number
  /** The worker's `PARTITION_CACHE_MIB`, part of the memory plan of partitioned versions. Default 8. */
  partitionCacheMiB?: number
}

/** Publish to Cloudflare: shards to R2 (S3 API), manifests and the live pointer to KV (REST API). */
export interface CloudflarePublishConfig {
  provider: 'cloudflare'
  accountId: string
  /** R2 bucket bound as `MODELS_R2`. */
  r2Bucket: string
  /** KV namespace id bound as `MODELS_KV`. */
  kvNamespaceId: string
  /** Env var holding the Cloudflare API token (KV writes). Default `CLOUDFLARE_API_TOKEN`. */
  apiTokenEnv?: string
  /** R2 S3 endpoint override. */
  r2Endpoint?: string
  /** KV REST API base override. */
  kvApiBase?: string
  /** Versions to keep. Default 5. */
  keep?: number
  /** The worker's `MODEL_MEMORY_MIB`: versions that cannot load next to the live one are refused. Default 96. */
  memoryBudgetMiB?: number
  /** The worker's `USER_CACHE_MIB`, part of the memory plan. Default 16. */
  userCacheMiB?: number
  /** The worker's `PARTITION_CACHE_MIB`, part of the memory plan of partitioned versions. Default 8. */
  partitionCacheMiB?: number
}

/** Any publish target config. */
export type PublishConfig = LocalPublishConfig | CloudflarePublishConfig

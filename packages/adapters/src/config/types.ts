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

/** Any compute provider config. */
export type ComputeConfig =
  | LocalComputeConfig
  | SageMakerComputeConfig
  | VertexAiComputeConfig
  | AzureMlComputeConfig

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

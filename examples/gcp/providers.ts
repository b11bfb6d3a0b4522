/**
 * The provider parts of examples/gcp/edgerec.config.ts: where models are stored, where training
 * runs and where models are published. Validated by packages/adapters/test/compute/examples.test.ts.
 */
import type { ComputeConfig, PublishConfig, StorageConfig } from '@edgerec/adapters'

/** The model registry: gs://<bucket>/<prefix>models/<version>/. */
export const storage = {
  provider: 'gcs',
  bucket: 'acme-edgerec-models',
  projectId: 'acme-recs',
  prefix: 'prod/',
} satisfies StorageConfig

/**
 * Train on Vertex AI. `image` is packages/trainer/Dockerfile pushed to Artifact Registry; the
 * service account needs roles/storage.objectAdmin on the buckets. Vertex AI sets AIP_MODEL_DIR
 * under `baseOutputUri` inside the job.
 */
export const compute = {
  provider: 'vertex-ai',
  projectId: 'acme-recs',
  location: 'europe-west4',
  image: 'europe-west4-docker.pkg.dev/acme-recs/edgerec/trainer:0.1.0',
  machineType: 'n2-standard-8',
  serviceAccount: 'edgerec-trainer@acme-recs.iam.gserviceaccount.com',
  baseOutputUri: 'gs://acme-edgerec-models/vertex/',
  // Whose OAuth token Cloud Scheduler sends to Vertex AI for `edgerec-train schedule create`
  // (roles/aiplatform.user, roles/iam.serviceAccountUser on serviceAccount; docs/cloud.md).
  schedulerServiceAccount: 'edgerec-scheduler@acme-recs.iam.gserviceaccount.com',
} satisfies ComputeConfig

/** Serve from Cloudflare: R2 (S3 API keys in the AWS credential chain) + KV (CLOUDFLARE_API_TOKEN). */
export const publish = {
  provider: 'cloudflare',
  accountId: '0123456789abcdef0123456789abcdef',
  r2Bucket: 'edgerec-models',
  kvNamespaceId: '5f2a9c1e7b3d4a6c8e0f1a2b3c4d5e6f',
  keep: 5,
} satisfies PublishConfig

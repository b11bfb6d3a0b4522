/**
 * The provider parts of examples/aws/edgerec.config.ts: where models are stored, where training
 * runs and where models are published. Validated by packages/adapters/test/compute/examples.test.ts.
 */
import type { ComputeConfig, PublishConfig, StorageConfig } from '@edgerec/adapters'

/** The model registry: every trained version lands under s3://<bucket>/<prefix>models/<version>/. */
export const storage = {
  provider: 's3',
  bucket: 'acme-edgerec-models',
  region: 'eu-west-1',
  prefix: 'prod/',
} satisfies StorageConfig

/**
 * Train on SageMaker. `image` is packages/trainer/Dockerfile pushed to ECR; the role needs
 * s3:GetObject/PutObject/ListBucket on the events and model buckets (and ECR pull).
 */
export const compute = {
  provider: 'sagemaker',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::123456789012:role/edgerec-training',
  // Role EventBridge Scheduler assumes for `edgerec-train schedule create` (examples/aws/iam/scheduler-role-*.json).
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/edgerec-scheduler',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/edgerec-trainer:0.1.0',
  instanceType: 'ml.m5.2xlarge',
  // SageMaker's own job output (logs, model.tar.gz of /opt/ml/model); versions go to `storage`.
  outputS3Uri: 's3://acme-edgerec-models/sagemaker/',
} satisfies ComputeConfig

/**
 * Serve from Cloudflare: shards to R2 through its S3 API (R2 access keys in the AWS chain of the
 * publishing machine, e.g. a dedicated AWS_PROFILE), manifests + pointer to KV with
 * CLOUDFLARE_API_TOKEN. Bind the same bucket/namespace as MODELS_R2/MODELS_KV in the worker.
 */
export const publish = {
  provider: 'cloudflare',
  accountId: '0123456789abcdef0123456789abcdef',
  r2Bucket: 'edgerec-models',
  kvNamespaceId: '5f2a9c1e7b3d4a6c8e0f1a2b3c4d5e6f',
  apiTokenEnv: 'CLOUDFLARE_API_TOKEN',
  keep: 5,
} satisfies PublishConfig

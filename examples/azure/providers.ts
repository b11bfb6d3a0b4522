/**
 * The provider parts of examples/azure/edgerec.config.ts: where models are stored, where training
 * runs and where models are published. Validated by packages/adapters/test/compute/examples.test.ts.
 */
import type { ComputeConfig, PublishConfig, StorageConfig } from '@edgerec/adapters'

/** The model registry: https://<account>.blob.core.windows.net/<container>/<prefix>models/<version>/. */
export const storage = {
  provider: 'azure-blob',
  accountUrl: 'https://acmeedgerec.blob.core.windows.net',
  container: 'models',
  prefix: 'prod/',
} satisfies StorageConfig

/**
 * Train on Azure ML. Register packages/trainer/Dockerfile's image (pushed to ACR) as the
 * environment `edgerec-trainer`; the cluster's managed identity needs Storage Blob Data
 * Contributor on the storage account.
 */
export const compute = {
  provider: 'azure-ml',
  subscriptionId: '00000000-1111-2222-3333-444444444444',
  resourceGroup: 'acme-ml',
  workspace: 'acme-ml-ws',
  computeName: 'cpu-cluster',
  environmentId: 'azureml:edgerec-trainer:1',
  instanceType: 'Standard_D8s_v3',
  experimentName: 'edgerec',
} satisfies ComputeConfig

/** Serve from Cloudflare: R2 (S3 API keys in the AWS credential chain) + KV (CLOUDFLARE_API_TOKEN). */
export const publish = {
  provider: 'cloudflare',
  accountId: '0123456789abcdef0123456789abcdef',
  r2Bucket: 'edgerec-models',
  kvNamespaceId: '5f2a9c1e7b3d4a6c8e0f1a2b3c4d5e6f',
  keep: 5,
} satisfies PublishConfig

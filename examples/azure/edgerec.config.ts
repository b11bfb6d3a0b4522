/**
 * edgerec on Azure: events and the model registry in Blob Storage, training on an Azure ML command
 * job, serving from Cloudflare (R2 shards + KV pointer).
 *
 *   turbo run train -- --config examples/azure/edgerec.config.ts
 *
 * Credentials: DefaultAzureCredential (`az login`, AZURE_CLIENT_ID/AZURE_TENANT_ID/
 * AZURE_CLIENT_SECRET, or a managed identity). Nothing secret belongs in this file. Fields:
 * docs/cloud.md.
 */
import { defineConfig } from '@edgerec/trainer'
import { compute, publish, storage } from './providers.ts'

export default defineConfig({
  // Events as Parquet in Blob Storage.
  events: {
    kind: 'parquet',
    storage: {
      provider: 'azure-blob',
      accountUrl: 'https://acmeedgerec.blob.core.windows.net',
      container: 'events',
    },
    path: 'daily/events.parquet',
  },
  weighting: { eventWeights: { view: 1, click: 2, add_to_cart: 4, purchase: 8 } },
  als: { factors: 64, regularization: 0.05, alpha: 10, iterations: 15 },
  storage,
  compute,
  publish,
})

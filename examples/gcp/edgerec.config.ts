/**
 * edgerec on Google Cloud: events and the model registry in Cloud Storage, training on a Vertex AI
 * custom job, serving from Cloudflare (R2 shards + KV pointer).
 *
 *   turbo run train -- --config examples/gcp/edgerec.config.ts
 *
 * Credentials: Application Default Credentials on the submitting machine
 * (`gcloud auth application-default login` or GOOGLE_APPLICATION_CREDENTIALS); the job runs as
 * `serviceAccount`. Nothing secret belongs in this file. Fields: docs/cloud.md.
 */
import { defineConfig } from '@edgerec/trainer'
import { compute, publish, storage } from './providers.ts'

export default defineConfig({
  // Events as CSV in Cloud Storage (header row; columns mapped below).
  events: {
    kind: 'csv',
    storage: { provider: 'gcs', bucket: 'acme-edgerec-events', projectId: 'acme-recs' },
    path: 'exports/events.csv',
    columns: { user: 'user_id', item: 'sku', type: 'event', timestamp: 'ts' },
  },
  weighting: { eventWeights: { view: 1, click: 2, add_to_cart: 4, purchase: 8 } },
  als: { factors: 64, regularization: 0.05, alpha: 10, iterations: 15 },
  storage,
  compute,
  publish,
})

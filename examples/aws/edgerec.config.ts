/**
 * edgerec on AWS: events and the model registry in S3, training on a SageMaker training job,
 * serving from Cloudflare (R2 shards + KV pointer).
 *
 *   turbo run train -- --config examples/aws/edgerec.config.ts
 *
 * Credentials come from the AWS default chain (AWS_PROFILE, SSO, env keys, instance role) on the
 * machine that submits, and from `roleArn` inside the job. Nothing secret belongs in this file.
 * Every provider field is documented in docs/cloud.md.
 */
import { defineConfig } from '@edgerec/trainer'
import { compute, publish, storage } from './providers.ts'

export default defineConfig({
  // Events exported by the edge worker (or your warehouse) as NDJSON in S3.
  events: {
    kind: 'ndjson',
    storage: { provider: 's3', bucket: 'acme-edgerec-events', region: 'eu-west-1' },
    path: 'events/latest.ndjson',
  },
  // Confidence weights per event type (docs/trainer.md); ratings use their value.
  weighting: { eventWeights: { view: 1, click: 2, add_to_cart: 4, purchase: 8 }, halfLifeDays: 30 },
  als: { factors: 64, regularization: 0.05, alpha: 10, iterations: 15 },
  storage,
  compute,
  publish,
})

/**
 * edgerec with the ALS fits on Spark (EMR Serverless here; examples/spark/providers.ts also holds
 * Dataproc and Databricks computes): this machine reads and weights the events, writes them as
 * Parquet to the staging bucket, runs packages/trainer/spark/edgerec_als.py as one job, reads the
 * factors back, evaluates, gates, exports int8 shards and (with --publish) publishes.
 *
 *   npx edgerec-train train --config examples/spark/edgerec.config.ts --publish
 *
 * See docs/cloud.md ("Spark") for every field and the identities each platform needs.
 */
import { defineConfig } from '@edgerec/trainer'
import { compute, storage } from './providers.ts'

export default defineConfig({
  events: {
    kind: 'ndjson',
    storage: { provider: 's3', bucket: 'acme-edgerec-events', region: 'eu-west-1' },
    path: 'events/latest.ndjson',
  },
  weighting: { eventWeights: { view: 1, click: 2, add_to_cart: 4, purchase: 8 }, halfLifeDays: 30 },
  als: { factors: 64, regularization: 0.05, alpha: 10, iterations: 15 },
  storage,
  compute,
})

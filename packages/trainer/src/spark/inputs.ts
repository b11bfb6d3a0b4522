/**
 * Writes the inputs of the Spark job (packages/trainer/spark/edgerec_als.py) through a
 * {@link Storage}: the weighted interactions as Parquet `user: int, item: int, rating: float`
 * (rating = the summed, weighted and transformed value r_ui the local ALS turns into confidence
 * c_ui = 1 + α·r_ui; Spark's implicitPrefs ALS does the same with its `alpha`), optionally the
 * train part of the evaluation split in the same schema, the id maps `users.json` / `items.json`
 * (JSON arrays, index = Spark int id) that {@link importSparkFactors} uses to map factors back, and
 * `params.json`.
 *
 * @module
 */
import type { Storage } from '@edgerec/adapters'
import type { AlsHyperparameters } from '@edgerec/core'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { CsrMatrix, InteractionMatrix } from '../data/matrix.js'
import { under } from './import.js'

/**
 * `params.json`: what the PySpark job trains with (rank = factors, regParam = regularization,
 * alpha, maxIter = iterations, seed) and what the import needs to write a manifest.
 */
export interface SparkParams {
  als: AlsHyperparameters
  /** Event type → weight used to build the ratings. */
  eventWeights: Record<string, number>
  halfLifeDays?: number
  /** Newest event timestamp (epoch ms) of the input. */
  trainedUntil: number
}

/** Keys written by {@link writeSparkInputs}. */
export interface SparkInputKeys {
  /** All interactions. */
  interactions: string
  /** The train part of the evaluation split, when one was given. */
  train?: string
  users: string
  items: string
  params: string
}

/** A CSR matrix as Parquet `user: int32, item: int32, rating: float` (one row per stored value). */
export function interactionsParquet(m: CsrMatrix): Uint8Array {
  const total = m.indptr[m.rows]!
  const user = new Int32Array(total)
  for (let u = 0; u < m.rows; u++) user.fill(u, m.indptr[u]!, m.indptr[u + 1]!)
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'user', data: user, type: 'INT32', nullable: false },
        { name: 'item', data: Int32Array.from(m.indices.subarray(0, total)), type: 'INT32', nullable: false },
        { name: 'rating', data: m.values.subarray(0, total), type: 'FLOAT', nullable: false },
      ],
    }),
  )
}

/**
 * Writes `interactions.parquet` (and `train.parquet` when `train` is given), `users.json`,
 * `items.json` and `params.json` under `prefix` of `storage`.
 *
 * @example
 * ```ts
 * await writeSparkInputs(await createStorage({ provider: 'local', root: 'out' }), 'inputs/', data, params)
 * ```
 */
export async function writeSparkInputs(
  storage: Storage,
  prefix: string,
  data: InteractionMatrix,
  params: SparkParams,
  train?: CsrMatrix,
): Promise<SparkInputKeys> {
  const keys: SparkInputKeys = {
    interactions: under(prefix, 'interactions.parquet'),
    users: under(prefix, 'users.json'),
    items: under(prefix, 'items.json'),
    params: under(prefix, 'params.json'),
  }
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
  await storage.put(keys.interactions, interactionsParquet(data.matrix))
  if (train) {
    keys.train = under(prefix, 'train.parquet')
    await storage.put(keys.train, interactionsParquet(train))
  }
  await storage.put(keys.users, json(data.userIds), { contentType: 'application/json' })
  await storage.put(keys.items, json(data.itemIds), { contentType: 'application/json' })
  await storage.put(keys.params, json(params), { contentType: 'application/json' })
  return keys
}

/**
 * Writes the inputs of the Spark job (packages/trainer/spark/edgerec_als.py): the weighted
 * interactions as Parquet `user: int, item: int, rating: float` (rating = the summed, weighted
 * and transformed value r_ui the local ALS turns into confidence c_ui = 1 + α·r_ui; Spark's
 * implicitPrefs ALS does the same with its `alpha`), and the id maps `users.json` / `items.json`
 * (JSON arrays, index = Spark int id) that {@link importSparkFactors} uses to map factors back.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AlsHyperparameters } from '@edgerec/core'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { InteractionMatrix } from '../data/matrix.js'

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

/** Files written by {@link writeSparkInputs}. */
export interface SparkInputFiles {
  interactions: string
  users: string
  items: string
  params: string
}

/** Writes `interactions.parquet`, `users.json`, `items.json` and `params.json` into `dir`. */
export async function writeSparkInputs(
  data: InteractionMatrix,
  params: SparkParams,
  dir: string,
): Promise<SparkInputFiles> {
  const m = data.matrix
  const total = m.indptr[m.rows]!
  const user = new Int32Array(total)
  for (let u = 0; u < m.rows; u++) user.fill(u, m.indptr[u]!, m.indptr[u + 1]!)
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'user', data: user, type: 'INT32', nullable: false },
      { name: 'item', data: Int32Array.from(m.indices.subarray(0, total)), type: 'INT32', nullable: false },
      { name: 'rating', data: m.values.subarray(0, total), type: 'FLOAT', nullable: false },
    ],
  })
  await mkdir(dir, { recursive: true })
  const files = {
    interactions: join(dir, 'interactions.parquet'),
    users: join(dir, 'users.json'),
    items: join(dir, 'items.json'),
    params: join(dir, 'params.json'),
  }
  await writeFile(files.interactions, new Uint8Array(buffer))
  await writeFile(files.users, JSON.stringify(data.userIds))
  await writeFile(files.items, JSON.stringify(data.itemIds))
  await writeFile(files.params, `${JSON.stringify(params, null, 2)}\n`)
  return files
}

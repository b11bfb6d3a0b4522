/**
 * Writes the inputs of the Spark job (packages/trainer/spark/edgerec_als.py) through a
 * {@link Storage}: the weighted interactions as a directory of Parquet part files
 * `user: int, item: int, rating: float` (rating = the summed, weighted and transformed value r_ui
 * the local ALS turns into confidence c_ui = 1 + α·r_ui; Spark's implicitPrefs ALS does the same
 * with its `alpha`), optionally the train part of the evaluation split in the same layout, the id
 * maps `users.json` / `items.json` (JSON arrays, index = Spark int id) that
 * {@link importSparkFactors} uses to map factors back, and `params.json`.
 *
 * Staging memory is bounded: each part file holds at most `partRows` stored values (default
 * {@link DEFAULT_PART_ROWS}) in row groups of at most `rowGroupRows`, is encoded from a slice of the
 * CSR matrix already in memory and uploaded as soon as it is done, while the next part is encoded;
 * so at most two parts are in memory, whatever the number of pairs. Spark reads the directory as one
 * table (`spark.read.parquet(dir)`).
 *
 * @module
 */
import type { Storage } from '@edgerec/adapters'
import type { AlsHyperparameters } from '@edgerec/core'
import { parquetWriteBuffer } from 'hyparquet-writer'
import type { CsrMatrix, InteractionMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
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
  /** Directory (key prefix ending in `/`) of the part files of all interactions. */
  interactions: string
  /** Its part files, in order. */
  interactionParts: string[]
  /** Directory of the train part of the evaluation split, when one was given. */
  train?: string
  /** Its part files, in order. */
  trainParts?: string[]
  users: string
  items: string
  params: string
}

/**
 * Stored values per part file by default: 1,000,000 rows are 12 MB of int32/int32/float32 before
 * Parquet encoding (a few MB encoded), a part Spark reads as one task.
 */
export const DEFAULT_PART_ROWS = 1_000_000

/** Rows per Parquet row group inside a part by default (hyparquet-writer's own upper default). */
export const DEFAULT_ROW_GROUP_ROWS = 100_000

/** How {@link writeSparkInputs} cuts the interactions. */
export interface SparkInputOptions {
  /** Most stored values (rows) per part file. Default {@link DEFAULT_PART_ROWS}. */
  partRows?: number
  /** Most rows per row group inside a part. Default {@link DEFAULT_ROW_GROUP_ROWS}. */
  rowGroupRows?: number
  /** Called after each part file is stored. */
  onPart?: (part: { key: string; rows: number; bytes: number }) => void
}

/** Name of part file `index` of a directory: `part-00000.parquet`, as Spark names its own. */
export const partFileName = (index: number): string => `part-${String(index).padStart(5, '0')}.parquet`

/**
 * Stored values `[start, end)` of a CSR matrix (row-major order) as one Parquet file
 * `user: int32, item: int32, rating: float` (one row per stored value). The default range is the
 * whole matrix.
 */
export function interactionsParquet(
  m: CsrMatrix,
  start = 0,
  end: number = m.indptr[m.rows]!,
  rowGroupRows: number = DEFAULT_ROW_GROUP_ROWS,
): Uint8Array {
  const count = end - start
  const user = new Int32Array(count)
  // The row holding value `start`: the last u with indptr[u] <= start (binary search).
  let lo = 0
  let hi = m.rows
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (m.indptr[mid]! <= start) lo = mid
    else hi = mid - 1
  }
  for (let u = lo, k = start; k < end; u++) {
    const stop = Math.min(end, m.indptr[u + 1]!)
    if (stop > k) user.fill(u, k - start, stop - start)
    k = Math.max(k, stop)
  }
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'user', data: user, type: 'INT32', nullable: false },
        {
          name: 'item',
          data: new Int32Array(m.indices.buffer, m.indices.byteOffset + start * 4, count),
          type: 'INT32',
          nullable: false,
        },
        { name: 'rating', data: m.values.subarray(start, end), type: 'FLOAT', nullable: false },
      ],
      rowGroupSize: rowGroupRows,
    }),
  )
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1)
    throw new TrainerError('USAGE', `${name} must be a positive integer (got ${value}).`)
  return value
}

/**
 * Writes the stored values of `m` as part files `part-00000.parquet`, `part-00001.parquet`… of at
 * most `partRows` rows under `directory`. Part p+1 is encoded while part p uploads; a matrix with no
 * stored value still gets one (empty) part, so Spark finds a table. Returns the keys in order.
 */
export async function writeInteractionParts(
  storage: Storage,
  directory: string,
  m: CsrMatrix,
  options: SparkInputOptions = {},
): Promise<string[]> {
  const partRows = positive(options.partRows, DEFAULT_PART_ROWS, 'partRows')
  const rowGroupRows = positive(options.rowGroupRows, DEFAULT_ROW_GROUP_ROWS, 'rowGroupRows')
  const total = m.indptr[m.rows]!
  const keys: string[] = []
  let uploading: Promise<unknown> | undefined
  for (let start = 0, index = 0; index === 0 || start < total; start += partRows, index++) {
    const end = Math.min(total, start + partRows)
    const bytes = interactionsParquet(m, start, end, rowGroupRows)
    await uploading
    const key = under(directory, partFileName(index))
    keys.push(key)
    uploading = storage.put(key, bytes, { contentType: 'application/vnd.apache.parquet' }).then(() => {
      options.onPart?.({ key, rows: end - start, bytes: bytes.byteLength })
    })
  }
  await uploading
  return keys
}

/**
 * Writes the part files of `interactions/` (and `train/` when `train` is given), `users.json`,
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
  options: SparkInputOptions = {},
): Promise<SparkInputKeys> {
  const interactions = under(prefix, 'interactions/')
  const keys: SparkInputKeys = {
    interactions,
    interactionParts: await writeInteractionParts(storage, interactions, data.matrix, options),
    users: under(prefix, 'users.json'),
    items: under(prefix, 'items.json'),
    params: under(prefix, 'params.json'),
  }
  if (train) {
    keys.train = under(prefix, 'train/')
    keys.trainParts = await writeInteractionParts(storage, keys.train, train, options)
  }
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
  await storage.put(keys.users, json(data.userIds), { contentType: 'application/json' })
  await storage.put(keys.items, json(data.itemIds), { contentType: 'application/json' })
  await storage.put(keys.params, json(params), { contentType: 'application/json' })
  return keys
}

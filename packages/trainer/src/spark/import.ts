/**
 * Imports the factors of a Spark MLlib ALS run (`ALSModel.save(path)`: `path/metadata` JSON with
 * `rank`, `path/userFactors` and `path/itemFactors` Parquet with `id: int`, `features: array<float>`)
 * as an {@link AlsModel} plus the interactions it was trained on, ready for `exportModel`.
 * Spark's int ids are mapped back to edgerec ids with the id maps written by
 * {@link writeSparkInputs} (`users.json`, `items.json`: JSON arrays, index = Spark id).
 *
 * @module
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'
import type { AlsModel } from '../als/index.js'
import { csrFromTriples, type InteractionMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import type { SparkParams } from './inputs.js'

/** A Spark ALS model read back with edgerec ids. */
export interface ImportedFactors {
  model: AlsModel
  /** The weighted interactions (Parquet `user, item, rating`) with edgerec ids. */
  data: InteractionMatrix
  /** `params.json` of the inputs (hyperparameters, event weights, cut-off). */
  params: SparkParams
}

/** Options of {@link importSparkFactors}. */
export interface ImportOptions {
  /** Directory of `ALSModel.save(path)`. */
  factorsDir: string
  /** Directory holding `users.json` and `items.json` (and by default `interactions.parquet`). */
  idMapsDir: string
  /** Interactions Parquet (`user: int, item: int, rating: float`). Default `<idMapsDir>/interactions.parquet`. */
  interactionsPath?: string
}

function invalid(message: string, cause?: unknown): TrainerError {
  return new TrainerError('IMPORT_INVALID', message, cause === undefined ? undefined : { cause })
}

async function parquetFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (cause) {
    throw invalid(`Cannot read ${dir}. Point --factors at the directory ALSModel.save() wrote.`, cause)
  }
  const files = names.filter((n) => n.endsWith('.parquet')).sort()
  if (files.length === 0)
    throw invalid(
      `${dir} holds no .parquet part file. Point --factors at the directory ALSModel.save() wrote.`,
    )
  return files.map((n) => join(dir, n))
}

/** Reads the `rank` of `path/metadata` (a directory with a JSON-line `part-*` file, or one JSON file). */
export async function readSparkRank(factorsDir: string): Promise<number> {
  const meta = join(factorsDir, 'metadata')
  let text: string
  try {
    const parts = (await readdir(meta)).filter((n) => n.startsWith('part-')).sort()
    if (parts.length === 0) throw invalid(`${meta} holds no part-* file.`)
    text = await readFile(join(meta, parts[0]!), 'utf8')
  } catch (error) {
    if (error instanceof TrainerError) throw error
    try {
      text = await readFile(meta, 'utf8')
    } catch (cause) {
      throw invalid(
        `No Spark ALS metadata at ${meta}. Point --factors at the directory ALSModel.save() wrote.`,
        cause,
      )
    }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text.split('\n')[0]!)
  } catch (cause) {
    throw invalid(`${meta} is not JSON.`, cause)
  }
  const rank = (parsed as { rank?: unknown }).rank
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1)
    throw invalid(`${meta} has no positive integer "rank"; is it an ALSModel save?`)
  return rank
}

async function readIdMap(path: string): Promise<string[]> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (cause) {
    throw invalid(
      `Cannot read the id map ${path} (a JSON array of ids, index = Spark id). Pass --id-maps <dir> written by spark-inputs.`,
      cause,
    )
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string'))
    throw invalid(`${path} must be a JSON array of string ids (index = Spark int id).`)
  return parsed as string[]
}

async function readParams(path: string): Promise<SparkParams> {
  let parsed: Partial<SparkParams>
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<SparkParams>
  } catch (cause) {
    throw invalid(`Cannot read ${path}. Pass --id-maps <dir> written by edgerec-train spark-inputs.`, cause)
  }
  if (
    typeof parsed.als?.factors !== 'number' ||
    typeof parsed.als.alpha !== 'number' ||
    typeof parsed.trainedUntil !== 'number'
  )
    throw invalid(
      `${path} lacks als.factors, als.alpha or trainedUntil; write it with edgerec-train spark-inputs.`,
    )
  return { eventWeights: {}, ...parsed } as SparkParams
}

/**
 * Reads every part file of a factor table into a dense `count × rank` row-major matrix, row =
 * Spark id. Ids without a row (Spark drops users/items it never saw) stay zero.
 */
async function readFactorTable(
  dir: string,
  rank: number,
  count: number,
  what: string,
): Promise<Float32Array> {
  const out = new Float32Array(count * rank)
  const seen = new Uint8Array(count)
  for (const file of await parquetFiles(dir)) {
    const rows = await parquetReadObjects({
      file: await asyncBufferFromFile(file),
      columns: ['id', 'features'],
    })
    for (const row of rows) {
      const id = row.id as unknown
      const features = row.features as unknown
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= count)
        throw invalid(
          `${file}: ${what} id ${String(id)} is not in the id map (0..${count - 1}). Use the id maps of the same spark-inputs run.`,
        )
      if (!Array.isArray(features) || features.length !== rank)
        throw invalid(
          `${file}: ${what} ${id} has ${Array.isArray(features) ? features.length : 'no'} features, the metadata says rank ${rank}.`,
        )
      if (seen[id]) throw invalid(`${file}: ${what} id ${id} appears twice.`)
      seen[id] = 1
      for (let f = 0; f < rank; f++) out[id * rank + f] = Number(features[f])
    }
  }
  return out
}

/** Reads `user: int, item: int, rating: float` Parquet (one file or a directory of parts). */
async function readInteractions(
  path: string,
  users: number,
  items: number,
): Promise<{ u: Int32Array; i: Int32Array; r: Float32Array }> {
  let files: string[]
  try {
    files = path.endsWith('.parquet') ? [path] : await parquetFiles(path)
  } catch (cause) {
    throw invalid(`Cannot read the interactions ${path}.`, cause)
  }
  const u: number[] = []
  const i: number[] = []
  const r: number[] = []
  for (const file of files) {
    let rows: Record<string, unknown>[]
    try {
      rows = await parquetReadObjects({
        file: await asyncBufferFromFile(file),
        columns: ['user', 'item', 'rating'],
      })
    } catch (cause) {
      throw invalid(
        `Cannot read the interactions ${file} (Parquet user: int, item: int, rating: float written by spark-inputs).`,
        cause,
      )
    }
    for (const row of rows) {
      const user = Number(row.user)
      const item = Number(row.item)
      if (!(user >= 0 && user < users && item >= 0 && item < items))
        throw invalid(
          `${file}: interaction (${String(row.user)}, ${String(row.item)}) is outside the id maps.`,
        )
      u.push(user)
      i.push(item)
      r.push(Number(row.rating))
    }
  }
  return { u: Int32Array.from(u), i: Int32Array.from(i), r: Float32Array.from(r) }
}

/**
 * Reads a Spark ALS model save plus its id maps and interactions.
 *
 * @example
 * ```ts
 * const { model, data } = await importSparkFactors({ factorsDir: 'out/model', idMapsDir: 'out/inputs' })
 * ```
 */
export async function importSparkFactors(options: ImportOptions): Promise<ImportedFactors> {
  const rank = await readSparkRank(options.factorsDir)
  const userIds = await readIdMap(join(options.idMapsDir, 'users.json'))
  const itemIds = await readIdMap(join(options.idMapsDir, 'items.json'))
  const userFactors = await readFactorTable(
    join(options.factorsDir, 'userFactors'),
    rank,
    userIds.length,
    'user',
  )
  const itemFactors = await readFactorTable(
    join(options.factorsDir, 'itemFactors'),
    rank,
    itemIds.length,
    'item',
  )
  const t = await readInteractions(
    options.interactionsPath ?? join(options.idMapsDir, 'interactions.parquet'),
    userIds.length,
    itemIds.length,
  )
  const matrix = csrFromTriples(userIds.length, itemIds.length, t.u, t.i, t.r)
  const params = await readParams(join(options.idMapsDir, 'params.json'))
  if (params.als.factors !== rank)
    throw invalid(
      `params.json says ${params.als.factors} factors but the Spark model has rank ${rank}; use the inputs of the same run.`,
    )
  return {
    model: { users: userIds.length, items: itemIds.length, factors: rank, userFactors, itemFactors },
    data: { matrix, userIds, itemIds, trainedUntil: params.trainedUntil },
    params,
  }
}

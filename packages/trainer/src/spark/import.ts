/**
 * Imports the factors of a Spark MLlib ALS run (`ALSModel.save(path)`: `path/metadata` JSON with
 * `rank`, `path/userFactors` and `path/itemFactors` Parquet with `id: int`, `features: array<float>`)
 * as an {@link AlsModel} plus the interactions it was trained on, ready for `exportModel`.
 * Spark's int ids are mapped back to edgerec ids with the id maps written by
 * {@link writeSparkInputs} (`users.json`, `items.json`: JSON arrays, index = Spark id).
 * Everything is read through a {@link Storage} (a local folder for `import-factors`, the staging
 * bucket for `train` with a Spark compute), with keys under a prefix.
 *
 * @module
 */
import { listAll, type Storage, storageAsyncBuffer } from '@edgerec/adapters'
import type { AsyncBuffer, FileMetaData } from 'hyparquet'
import type { AlsModel } from '../als/index.js'
import { type CsrMatrix, csrFromRatings, type InteractionMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import type { SparkParams } from './inputs.js'
import {
  type ColumnReadOptions,
  columnLevels,
  columnPages,
  loadParquetDecoders,
  type ParquetDecoders,
} from './parquet-pages.js'

/** A Spark ALS model read back with edgerec ids. */
export interface ImportedFactors {
  model: AlsModel
  /** The weighted interactions (Parquet `user, item, rating`) with edgerec ids. */
  data: InteractionMatrix
  /** `params.json` of the inputs (hyperparameters, event weights, cut-off). */
  params: SparkParams
}

/** A key prefix (or key) in a storage. */
export interface StorageLocation {
  storage: Storage
  /** Key prefix (`''` for the storage's root) or, for a single file, its key. */
  key: string
}

/** Where the pieces are. */
export interface ImportOptions {
  /** `ALSModel.save(path)`: `metadata/`, `userFactors/`, `itemFactors/` under this prefix. */
  factors: StorageLocation
  /**
   * `users.json`, `items.json`, `params.json` (and by default the interactions: the `interactions/`
   * part files, or `interactions.parquet` of older inputs) under this prefix.
   */
  idMaps: StorageLocation
  /** The interactions Parquet (`user: int, item: int, rating: float`): one key or a prefix of part files. */
  interactions?: StorageLocation
  /** How column chunks are fetched (ranged reads of 4 MiB by default). */
  read?: ColumnReadOptions
}

function invalid(message: string, cause?: unknown): TrainerError {
  return new TrainerError('IMPORT_INVALID', message, cause === undefined ? undefined : { cause })
}

/** `a/` + `b`, for key prefixes. */
export const under = (prefix: string, key: string): string =>
  prefix === '' || prefix.endsWith('/') ? `${prefix}${key}` : `${prefix}/${key}`

async function parquetKeys(storage: Storage, prefix: string, what: string): Promise<string[]> {
  const keys = (await listAll(storage, under(prefix, '')))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet') && !k.slice(prefix.length).includes('/.'))
    .sort()
  if (keys.length === 0)
    throw invalid(
      `${describe(storage, prefix)} holds no .parquet part file of ${what}. Point at the directory ALSModel.save() wrote.`,
    )
  return keys
}

function describe(storage: Storage, key: string): string {
  return `${storage.provider}:${key}`
}

async function read(storage: Storage, key: string, hint: string): Promise<Uint8Array> {
  let bytes: Uint8Array | undefined
  try {
    bytes = await storage.get(key)
  } catch (cause) {
    throw invalid(`Cannot read ${describe(storage, key)}. ${hint}`, cause)
  }
  if (!bytes) throw invalid(`${describe(storage, key)} does not exist. ${hint}`)
  return bytes
}

/** Reads the `rank` of `<save>/metadata` (a directory with a JSON-line `part-*` file, or one JSON file). */
export async function readSparkRank(storage: Storage, factorsPrefix: string): Promise<number> {
  const meta = under(factorsPrefix, 'metadata')
  const parts = (await listAll(storage, `${meta}/`))
    .map((o) => o.key)
    .filter((k) => /\/part-[^/]*$/.test(k))
    .sort()
  const hint = 'Point at the directory ALSModel.save() wrote.'
  const text = new TextDecoder().decode(await read(storage, parts[0] ?? meta, hint))
  let parsed: unknown
  try {
    parsed = JSON.parse(text.split('\n')[0]!)
  } catch (cause) {
    throw invalid(`${describe(storage, parts[0] ?? meta)} is not JSON. ${hint}`, cause)
  }
  const rank = (parsed as { rank?: unknown }).rank
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1)
    throw invalid(`${describe(storage, meta)} has no positive integer "rank"; is it an ALSModel save?`)
  return rank
}

async function readJson(storage: Storage, key: string, hint: string): Promise<unknown> {
  const bytes = await read(storage, key, hint)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch (cause) {
    throw invalid(`${describe(storage, key)} is not JSON. ${hint}`, cause)
  }
}

/** Reads an id map (`users.json` / `items.json`: a JSON array of string ids, index = Spark id). */
export async function readIdMap(storage: Storage, key: string): Promise<string[]> {
  const parsed = await readJson(
    storage,
    key,
    'Pass the id maps (users.json, items.json: JSON arrays, index = Spark id) written with the Spark inputs.',
  )
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string'))
    throw invalid(`${describe(storage, key)} must be a JSON array of string ids (index = Spark int id).`)
  return parsed as string[]
}

/** Reads and checks `params.json` of the Spark inputs. */
export async function readSparkParams(storage: Storage, key: string): Promise<SparkParams> {
  const parsed = (await readJson(
    storage,
    key,
    'Pass the directory the Spark inputs were written to.',
  )) as Partial<SparkParams>
  if (
    typeof parsed.als?.factors !== 'number' ||
    typeof parsed.als.alpha !== 'number' ||
    typeof parsed.trainedUntil !== 'number'
  )
    throw invalid(
      `${describe(storage, key)} lacks als.factors, als.alpha or trainedUntil; write it with writeSparkInputs.`,
    )
  return { eventWeights: {}, ...parsed } as SparkParams
}

/** Opens a Parquet object for ranged reads and reads its footer. */
async function openParquet(
  parquet: ParquetDecoders,
  storage: Storage,
  key: string,
  hint: string,
): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  let file: AsyncBuffer
  try {
    file = await storageAsyncBuffer(storage, key)
  } catch (cause) {
    throw invalid(`${describe(storage, key)} does not exist or cannot be read. ${hint}`, cause)
  }
  return { file, metadata: await parquet.hyparquet.parquetMetadataAsync(file) }
}

/**
 * Reads every part file of a factor table (`id: int`, `features: array<float>`) into a dense
 * `count × rank` row-major matrix, row = Spark id. Ids without a row (Spark has no factors for a
 * user or item without ratings in its input) stay zero.
 *
 * One row group at a time, both columns streamed page by page side by side: each page of
 * `features` takes the ids of the rows it starts from a small queue fed by the `id` pages, and is
 * written straight into the matrix. Each column chunk is fetched in ranged reads of
 * `options.windowBytes` (default 4 MiB), so memory beyond the matrix is two windows, one
 * decompressed page per column and the ids of one page's rows, whatever the row group's size.
 */
export async function readFactorTable(
  storage: Storage,
  prefix: string,
  rank: number,
  count: number,
  what: string,
  options: ColumnReadOptions = {},
): Promise<Float32Array> {
  const out = new Float32Array(count * rank)
  const seen = new Uint8Array(count)
  const parquet = await loadParquetDecoders()
  for (const key of await parquetKeys(storage, prefix, `${what} factors`)) {
    const where = describe(storage, key)
    try {
      const { file, metadata } = await openParquet(parquet, storage, key, '')
      for (let group = 0; group < metadata.row_groups.length; group++) {
        const rows = Number(metadata.row_groups[group]!.num_rows)
        const levels = columnLevels(parquet, metadata, group, 'features')
        // The ids of rows the features have not reached yet: queue[head, tail), checked on arrival.
        const idPages = columnPages(parquet, file, metadata, group, 'id', options)
        let queue = new Int32Array(0)
        let head = 0
        let tail = 0
        let ids = 0
        /** Queues ids until `n` are waiting; false when the id column ends first. */
        const queueIds = async (n: number): Promise<boolean> => {
          while (tail - head < n) {
            const next = await idPages.next()
            if (next.done) return false
            const { values } = next.value
            const waiting = tail - head
            if (waiting + values.length > queue.length) {
              const grown = new Int32Array(Math.max(waiting + values.length, 2 * queue.length))
              grown.set(queue.subarray(head, tail))
              queue = grown
            } else queue.copyWithin(0, head, tail)
            head = 0
            tail = waiting
            for (let k = 0; k < values.length; k++) {
              const id = Number(values[k])
              if (!Number.isInteger(id) || id < 0 || id >= count)
                throw invalid(
                  `${where}: ${what} id ${String(values[k])} is not in the id map (0..${count - 1}). Use the id maps of the same Spark inputs.`,
                )
              queue[tail++] = id
            }
            ids += values.length
          }
          return true
        }
        // Rows of the list column: repetition level 0 starts a row; a definition level below the
        // maximum is a null (0) or empty list (no value in the slot).
        let row = -1
        let id = -1
        let have = 0
        let isNull = false
        const endRow = () => {
          if (row < 0) return
          if (isNull || have !== rank)
            throw invalid(
              `${where}: ${what} ${id} has ${isNull ? 'no' : have} features, the metadata says rank ${rank}.`,
            )
          if (seen[id]) throw invalid(`${where}: ${what} id ${id} appears twice.`)
          seen[id] = 1
        }
        for await (const page of columnPages(parquet, file, metadata, group, 'features', options)) {
          const { values, definitionLevels: def, repetitionLevels: rep } = page
          const slots = Math.max(def.length, rep.length, values.length)
          let starts = 0
          for (let k = 0; k < slots; k++) if ((rep[k] ?? 0) === 0) starts++
          if (row + 1 + starts > rows || !(await queueIds(starts)))
            throw invalid(`${where}: the features column has more rows than the ids.`)
          let v = 0
          for (let k = 0; k < slots; k++) {
            if ((rep[k] ?? 0) === 0) {
              endRow()
              row++
              id = queue[head++]!
              have = 0
              isNull = false
            }
            const d = def[k] ?? levels.maxDefinition
            if (d === levels.maxDefinition) {
              if (have < rank) out[id * rank + have] = values[v] as number
              v++
              have++
            } else if (d === 0 && levels.maxDefinition > 1) isNull = true
          }
        }
        endRow()
        // Ids the features did not reach, still in the queue or in pages not read yet.
        await queueIds(Number.POSITIVE_INFINITY)
        if (ids !== rows) throw invalid(`${where}: the id column has ${ids} values for ${rows} rows.`)
        if (row + 1 !== rows)
          throw invalid(`${where}: the features column has ${row + 1} rows for ${rows} ids.`)
      }
    } catch (cause) {
      if (cause instanceof TrainerError) throw cause
      throw invalid(`${where} is not Parquet with columns id: int, features: array<float>.`, cause)
    }
  }
  return out
}

/**
 * Builds the CSR matrix of the interactions as their columns stream in, row after row.
 *
 * The staged inputs are written from a CSR matrix (pairs by user, items ascending within a user,
 * no duplicate), so in the common case `indptr` is built while the user column streams and the
 * item and rating columns are stored straight as `indices` and `values`: 8 bytes a pair, plus a
 * `timestamps` array that is allocated zero and never written (the kernel maps no memory for it
 * until something writes to it). The first pair out of that order (files from another writer)
 * rebuilds the user column from `indptr` and falls back to {@link csrFromRatings} (the matrix
 * `csrFromTriples` builds, at 20 bytes a pair at the peak).
 */
class InteractionsBuilder {
  readonly #indptr: Uint32Array
  readonly items: Uint32Array
  readonly ratings: Float32Array
  /** The user column, once the pairs turned out not to be in CSR order. */
  #users: Int32Array | undefined
  /** Users written, and the largest user whose row has started (CSR order). */
  #userCount = 0
  #lastUser = -1
  /** Row of the next item checked for order. */
  #row = 0

  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly total: number,
  ) {
    this.#indptr = new Uint32Array(rows + 1)
    this.items = new Uint32Array(total)
    this.ratings = new Float32Array(total)
  }

  /** The user of the next pair. */
  addUser(user: number): void {
    const at = this.#userCount++
    if (this.#users === undefined && user < this.#lastUser) this.#toTriples(at)
    if (this.#users !== undefined) {
      this.#users[at] = user
      return
    }
    // Rows lastUser+1 … user start here (the rows in between are empty).
    while (this.#lastUser < user) this.#indptr[++this.#lastUser] = at
  }

  /**
   * The item of pair `at` (its user already added). Out of CSR order when it is not above the
   * previous item of the same user.
   */
  addItem(at: number, item: number): void {
    this.items[at] = item
    if (this.#users !== undefined) return
    const indptr = this.#indptr
    while (this.#row < this.#lastUser && indptr[this.#row + 1]! <= at) this.#row++
    if (at > indptr[this.#row]! && item <= this.items[at - 1]!) this.#toTriples(this.#userCount)
  }

  /** Rebuilds the user column of the first `count` pairs from `indptr`. */
  #toTriples(count: number): void {
    const users = new Int32Array(this.total)
    for (let u = 0; u <= this.#lastUser; u++)
      users.fill(u, this.#indptr[u]!, u < this.#lastUser ? this.#indptr[u + 1]! : count)
    this.#users = users
  }

  /** The matrix, once every pair is in. */
  finish(): CsrMatrix {
    if (this.#users !== undefined)
      return csrFromRatings(this.rows, this.cols, this.#users, this.items, this.ratings)
    while (this.#lastUser < this.rows) this.#indptr[++this.#lastUser] = this.total
    return {
      rows: this.rows,
      cols: this.cols,
      indptr: this.#indptr,
      indices: this.items,
      values: this.ratings,
      timestamps: new Float64Array(this.total),
    }
  }
}

/**
 * Reads `user: int, item: int, rating: float` Parquet (one key, or a prefix of part files) into a
 * CSR matrix, one row group and page at a time, with arrays sized from the row counts in the
 * Parquet footers (see {@link InteractionsBuilder} for the memory).
 */
async function readInteractions(
  storage: Storage,
  key: string,
  users: number,
  items: number,
  options: ColumnReadOptions = {},
): Promise<CsrMatrix> {
  const keys = key.endsWith('.parquet') ? [key] : await parquetKeys(storage, key, 'interactions')
  const parquet = await loadParquetDecoders()
  const hint = 'Pass the interactions written with the Spark inputs.'
  const cannot = (part: string, cause: unknown) =>
    cause instanceof TrainerError
      ? cause
      : invalid(
          `Cannot read the interactions ${describe(storage, part)} (Parquet user: int, item: int, rating: float written with the Spark inputs).`,
          cause,
        )
  const files: { part: string; file: AsyncBuffer; metadata: FileMetaData }[] = []
  let total = 0
  for (const part of keys) {
    try {
      const opened = await openParquet(parquet, storage, part, hint)
      files.push({ part, ...opened })
      total += Number(opened.metadata.num_rows)
    } catch (cause) {
      throw cannot(part, cause)
    }
  }
  const builder = new InteractionsBuilder(users, items, total)
  let at = 0
  for (const { part, file, metadata } of files) {
    try {
      for (let group = 0; group < metadata.row_groups.length; group++) {
        const rows = Number(metadata.row_groups[group]!.num_rows)
        for (const name of ['user', 'item', 'rating'] as const) {
          const limit = name === 'user' ? users : name === 'item' ? items : Number.POSITIVE_INFINITY
          const { maxDefinition } = columnLevels(parquet, metadata, group, name)
          let n = 0
          for await (const page of columnPages(parquet, file, metadata, group, name, options)) {
            const { values, definitionLevels } = page
            if (definitionLevels.some((d) => d < maxDefinition))
              throw invalid(
                `${describe(storage, part)}: column ${name} has a null; the interactions have none.`,
              )
            for (let k = 0; k < values.length && n < rows; k++) {
              const value = Number(values[k])
              if (limit !== Number.POSITIVE_INFINITY && !(value >= 0 && value < limit))
                throw invalid(
                  `${describe(storage, part)}: interaction row ${at + n + 1} has ${name} ${String(values[k])}, outside the id maps (0..${limit - 1}).`,
                )
              if (name === 'user') builder.addUser(value)
              else if (name === 'item') builder.addItem(at + n, value)
              else builder.ratings[at + n] = value
              n++
            }
          }
          if (n !== rows)
            throw invalid(`${describe(storage, part)}: column ${name} has ${n} values for ${rows} rows.`)
        }
        at += rows
      }
    } catch (cause) {
      throw cannot(part, cause)
    }
  }
  return builder.finish()
}

/**
 * Reads the user and item factors of a Spark `ALSModel.save()` for id maps of the given sizes.
 *
 * @throws TrainerError `IMPORT_INVALID` when the save is missing, malformed or does not match
 */
export async function readSparkModel(
  storage: Storage,
  factorsPrefix: string,
  users: number,
  items: number,
  options: ColumnReadOptions = {},
): Promise<AlsModel> {
  const factors = await readSparkRank(storage, factorsPrefix)
  const userFactors = await readFactorTable(
    storage,
    under(factorsPrefix, 'userFactors'),
    factors,
    users,
    'user',
    options,
  )
  const itemFactors = await readFactorTable(
    storage,
    under(factorsPrefix, 'itemFactors'),
    factors,
    items,
    'item',
    options,
  )
  return { users, items, factors, userFactors, itemFactors }
}

/**
 * The interactions next to the id maps: the `interactions/` directory of part files that
 * {@link writeSparkInputs} writes, else the single `interactions.parquet` of inputs written before
 * the interactions were split into parts.
 */
async function defaultInteractions(maps: StorageLocation): Promise<StorageLocation> {
  const directory = under(maps.key, 'interactions/')
  const page = await maps.storage.list(directory, { limit: 10 })
  if (page.objects.some((o) => o.key.endsWith('.parquet'))) return { storage: maps.storage, key: directory }
  return { storage: maps.storage, key: under(maps.key, 'interactions.parquet') }
}

/**
 * Reads a Spark ALS model save plus its id maps and interactions.
 *
 * @example
 * ```ts
 * const storage = await createStorage({ provider: 'local', root: 'out' })
 * const { model, data } = await importSparkFactors({ factors: { storage, key: 'model/' }, idMaps: { storage, key: 'inputs/' } })
 * ```
 */
export async function importSparkFactors(options: ImportOptions): Promise<ImportedFactors> {
  const maps = options.idMaps
  const userIds = await readIdMap(maps.storage, under(maps.key, 'users.json'))
  const itemIds = await readIdMap(maps.storage, under(maps.key, 'items.json'))
  const params = await readSparkParams(maps.storage, under(maps.key, 'params.json'))
  const model = await readSparkModel(
    options.factors.storage,
    options.factors.key,
    userIds.length,
    itemIds.length,
    options.read,
  )
  if (params.als.factors !== model.factors)
    throw invalid(
      `params.json says ${params.als.factors} factors but the Spark model has rank ${model.factors}; use the inputs of the same run.`,
    )
  const interactions = options.interactions ?? (await defaultInteractions(maps))
  const matrix = await readInteractions(
    interactions.storage,
    interactions.key,
    userIds.length,
    itemIds.length,
    options.read,
  )
  return { model, data: { matrix, userIds, itemIds, trainedUntil: params.trainedUntil }, params }
}

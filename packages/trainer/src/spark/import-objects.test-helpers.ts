/**
 * The Spark import as it was before the page-at-a-time reader (kept to test the new reader
 * against, and for `bench:import -- --compare`): each Parquet part file read whole, decoded with
 * `parquetReadObjects` into one JS object (and one JS `number[]` of features) per row, the
 * interactions collected in `number[]`s. Same checks and same results as {@link importSparkFactors}.
 */
import { listAll, type Storage } from '@edgerec/adapters'
import type { AlsModel } from '../als/index.js'
import { csrFromTriples, type InteractionMatrix } from '../data/matrix.js'
import type { ImportOptions, StorageLocation } from './import.js'
import { readIdMap, readSparkParams, readSparkRank, under } from './import.js'

async function bytesOf(storage: Storage, key: string): Promise<ArrayBuffer> {
  const bytes = await storage.get(key)
  if (!bytes) throw new Error(`${key} does not exist`)
  return bytes.slice().buffer as ArrayBuffer
}

/** The `.parquet` files under `prefix` (hidden `.`-directories left out), in key order. */
export async function parquetKeys(storage: Storage, prefix: string): Promise<string[]> {
  return (await listAll(storage, under(prefix, '')))
    .map((o) => o.key)
    .filter((k) => k.endsWith('.parquet') && !k.slice(prefix.length).includes('/.'))
    .sort()
}

/** The factor table, one `parquetReadObjects` of each whole part file. */
export async function readFactorTableObjects(
  storage: Storage,
  prefix: string,
  rank: number,
  count: number,
): Promise<Float32Array> {
  const { parquetReadObjects } = await import('hyparquet')
  const out = new Float32Array(count * rank)
  const seen = new Uint8Array(count)
  for (const key of await parquetKeys(storage, prefix)) {
    const rows = await parquetReadObjects({ file: await bytesOf(storage, key), columns: ['id', 'features'] })
    for (const row of rows) {
      const id = row.id as number
      const features = row.features as number[]
      if (!(id >= 0 && id < count) || features.length !== rank || seen[id]) throw new Error(`bad row ${id}`)
      seen[id] = 1
      for (let f = 0; f < rank; f++) out[id * rank + f] = features[f]!
    }
  }
  return out
}

/** The interactions as triples in `number[]`s, one `parquetReadObjects` of each whole part file. */
export async function readInteractionsObjects(
  location: StorageLocation,
): Promise<{ u: Int32Array; i: Int32Array; r: Float32Array }> {
  const { parquetReadObjects } = await import('hyparquet')
  const keys = location.key.endsWith('.parquet')
    ? [location.key]
    : await parquetKeys(location.storage, location.key)
  const u: number[] = []
  const i: number[] = []
  const r: number[] = []
  for (const part of keys) {
    const rows = await parquetReadObjects({
      file: await bytesOf(location.storage, part),
      columns: ['user', 'item', 'rating'],
    })
    for (const row of rows) {
      u.push(Number(row.user))
      i.push(Number(row.item))
      r.push(Number(row.rating))
    }
  }
  return { u: Int32Array.from(u), i: Int32Array.from(i), r: Float32Array.from(r) }
}

/** How one of the previous importers reads a factor table and the interactions. */
export interface SparkTableReaders {
  factors(storage: Storage, prefix: string, rank: number, count: number): Promise<Float32Array>
  interactions(location: StorageLocation): Promise<{ u: Int32Array; i: Int32Array; r: Float32Array }>
}

/** {@link importSparkFactors} as the previous importers did it, with their table `readers`. */
export async function importSparkFactorsWith(
  options: ImportOptions & { interactions: StorageLocation },
  readers: SparkTableReaders,
): Promise<{ model: AlsModel; data: InteractionMatrix }> {
  const maps = options.idMaps
  const userIds = await readIdMap(maps.storage, under(maps.key, 'users.json'))
  const itemIds = await readIdMap(maps.storage, under(maps.key, 'items.json'))
  const params = await readSparkParams(maps.storage, under(maps.key, 'params.json'))
  const { storage, key } = options.factors
  const factors = await readSparkRank(storage, key)
  const model: AlsModel = {
    users: userIds.length,
    items: itemIds.length,
    factors,
    userFactors: await readers.factors(storage, under(key, 'userFactors'), factors, userIds.length),
    itemFactors: await readers.factors(storage, under(key, 'itemFactors'), factors, itemIds.length),
  }
  const t = await readers.interactions(options.interactions)
  const matrix = csrFromTriples(userIds.length, itemIds.length, t.u, t.i, t.r)
  return { model, data: { matrix, userIds, itemIds, trainedUntil: params.trainedUntil } }
}

/** {@link importSparkFactors} through the object reader; `interactions` must be given. */
export function importSparkFactorsObjects(
  options: ImportOptions & { interactions: StorageLocation },
): Promise<{ model: AlsModel; data: InteractionMatrix }> {
  return importSparkFactorsWith(options, {
    factors: readFactorTableObjects,
    interactions: readInteractionsObjects,
  })
}

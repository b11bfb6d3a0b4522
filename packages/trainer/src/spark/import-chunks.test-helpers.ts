/**
 * The Spark import as it was before the chunk was streamed (kept for `bench:import -- --compare`
 * and to test the streaming reader against): page-at-a-time decoding, but each column chunk
 * fetched whole in one ranged read (up to ~128 MB with Spark's default row groups), the ids of a
 * whole row group decoded before its features, and the interactions collected as three typed
 * columns (12 bytes a pair) then turned into CSR by {@link csrFromTriples} (40 bytes a pair at the
 * peak). Same checks on well-formed input, same results as {@link importSparkFactors}.
 */
import { type Storage, storageAsyncBuffer } from '@edgerec/adapters'
import type { AlsModel } from '../als/index.js'
import type { InteractionMatrix } from '../data/matrix.js'
import type { ImportOptions, StorageLocation } from './import.js'
import { importSparkFactorsWith, parquetKeys } from './import-objects.test-helpers.js'
import { columnLevels, columnPages, loadParquetDecoders } from './parquet-pages.js'

/** One read of the whole chunk: the window is never smaller than the chunk. */
const WHOLE_CHUNK = { windowBytes: Number.POSITIVE_INFINITY }

/** The factor table, each row group's ids first, then its features, each chunk fetched whole. */
export async function readFactorTableChunks(
  storage: Storage,
  prefix: string,
  rank: number,
  count: number,
): Promise<Float32Array> {
  const parquet = await loadParquetDecoders()
  const out = new Float32Array(count * rank)
  for (const key of await parquetKeys(storage, prefix)) {
    const file = await storageAsyncBuffer(storage, key)
    const metadata = await parquet.hyparquet.parquetMetadataAsync(file)
    for (let group = 0; group < metadata.row_groups.length; group++) {
      const rows = Number(metadata.row_groups[group]!.num_rows)
      const ids = new Int32Array(rows)
      let n = 0
      for await (const { values } of columnPages(parquet, file, metadata, group, 'id', WHOLE_CHUNK))
        for (let k = 0; k < values.length && n < rows; k++) ids[n++] = Number(values[k])
      const { maxDefinition } = columnLevels(parquet, metadata, group, 'features')
      let row = -1
      let have = 0
      const pages = columnPages(parquet, file, metadata, group, 'features', WHOLE_CHUNK)
      for await (const { values, definitionLevels: def, repetitionLevels: rep } of pages) {
        const slots = Math.max(def.length, rep.length, values.length)
        let v = 0
        for (let k = 0; k < slots; k++) {
          if ((rep[k] ?? 0) === 0) {
            if (row >= 0 && have !== rank) throw new Error(`row ${row} has ${have} features`)
            row++
            have = 0
          }
          if ((def[k] ?? maxDefinition) === maxDefinition) {
            if (have < rank) out[ids[row]! * rank + have] = values[v] as number
            v++
            have++
          }
        }
      }
      if (row + 1 !== rows) throw new Error(`${key}: ${row + 1} feature rows for ${rows} ids`)
    }
  }
  return out
}

/** The interactions as three typed columns, each chunk fetched whole. */
export async function readInteractionsChunks(
  location: StorageLocation,
): Promise<{ u: Int32Array; i: Int32Array; r: Float32Array }> {
  const parquet = await loadParquetDecoders()
  const keys = location.key.endsWith('.parquet')
    ? [location.key]
    : await parquetKeys(location.storage, location.key)
  const files = []
  let total = 0
  for (const key of keys) {
    const file = await storageAsyncBuffer(location.storage, key)
    const metadata = await parquet.hyparquet.parquetMetadataAsync(file)
    files.push({ file, metadata })
    total += Number(metadata.num_rows)
  }
  const u = new Int32Array(total)
  const i = new Int32Array(total)
  const r = new Float32Array(total)
  let at = 0
  for (const { file, metadata } of files) {
    for (let group = 0; group < metadata.row_groups.length; group++) {
      const rows = Number(metadata.row_groups[group]!.num_rows)
      for (const [name, into] of [
        ['user', u],
        ['item', i],
        ['rating', r],
      ] as const) {
        let n = 0
        for await (const { values } of columnPages(parquet, file, metadata, group, name, WHOLE_CHUNK))
          for (let k = 0; k < values.length && n < rows; k++) into[at + n++] = Number(values[k])
      }
      at += rows
    }
  }
  return { u, i, r }
}

/** {@link importSparkFactors} as it was with whole-chunk reads; `interactions` must be given. */
export function importSparkFactorsChunks(
  options: ImportOptions & { interactions: StorageLocation },
): Promise<{ model: AlsModel; data: InteractionMatrix }> {
  return importSparkFactorsWith(options, {
    factors: readFactorTableChunks,
    interactions: readInteractionsChunks,
  })
}

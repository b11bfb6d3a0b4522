/**
 * Spark MLlib's factor table schema, written with hyparquet-writer: `id: int` (required INT32) and
 * `features: array<float>` (an optional LIST of required FLOAT), as `ALSModel.save()` writes
 * `userFactors` / `itemFactors`. Used to write fixtures and benchmark inputs that are byte-for-byte
 * what Spark's reader and edgerec's importer see.
 *
 * @module
 */
import { parquetWriteBuffer } from 'hyparquet-writer'

/** Row group and page sizes of {@link sparkFactorTableParquet} (hyparquet-writer's defaults when absent). */
export interface FactorTableLayout {
  /** Most rows per row group. */
  rowGroupRows?: number
  /** Target bytes per data page. */
  pageBytes?: number
}

/**
 * One Parquet part file of a Spark factor table: row r is `ids[r]` with
 * `features[r·rank … (r+1)·rank)`.
 */
export function sparkFactorTableParquet(
  ids: Int32Array,
  features: Float32Array,
  rank: number,
  layout: FactorTableLayout = {},
): Uint8Array {
  const lists: number[][] = new Array(ids.length)
  for (let r = 0; r < ids.length; r++) lists[r] = Array.from(features.subarray(r * rank, (r + 1) * rank))
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids },
        { name: 'features', data: lists },
      ],
      schema: [
        { name: 'spark_schema', num_children: 2 },
        { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
      ],
      ...(layout.rowGroupRows === undefined ? {} : { rowGroupSize: layout.rowGroupRows }),
      ...(layout.pageBytes === undefined ? {} : { pageSize: layout.pageBytes }),
    }),
  )
}

/** `metadata/part-00000` of an `ALSModel.save()` (the fields edgerec reads, plus Spark's own). */
export function sparkModelMetadata(rank: number): Uint8Array {
  return new TextEncoder().encode(
    `${JSON.stringify({
      class: 'org.apache.spark.ml.recommendation.ALSModel',
      timestamp: Date.now(),
      sparkVersion: '3.5.1',
      uid: 'ALS_edgerec',
      paramMap: { implicitPrefs: true, rank },
      rank,
    })}\n`,
  )
}

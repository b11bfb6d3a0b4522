/**
 * Where batch recommendations go: NDJSON (one line per user) or Parquet (hyparquet-writer, one row
 * per recommended item — the long format Spark, BigQuery, DuckDB and pandas read directly).
 *
 * Parquet schema (docs/trainer.md, "Batch recommendations"):
 *
 * | column         | type             | meaning                                          |
 * | -------------- | ---------------- | ------------------------------------------------ |
 * | `userId`       | UTF8, required   | the user                                         |
 * | `rank`         | INT32, optional  | 1-based position; null for a user with no items  |
 * | `itemId`       | UTF8, optional   | the recommended item; null as `rank`             |
 * | `score`        | DOUBLE, optional | its score (the NDJSON value)                     |
 * | `source`       | UTF8, required   | `model` or `popular`                             |
 * | `modelVersion` | UTF8, required   | the version that scored it                       |
 *
 * @module
 */
import { createWriteStream } from 'node:fs'

/** One user's recommendations (one NDJSON line). */
export interface BatchLine {
  userId: string
  items: { itemId: string; score: number }[]
  source: 'model' | 'popular'
  modelVersion: string
}

/** A writer of {@link BatchLine}s. */
export interface BatchSink {
  write(line: BatchLine): Promise<void>
  close(): Promise<void>
}

/** NDJSON: one JSON object per line. */
export function ndjsonSink(path: string): BatchSink {
  const out = createWriteStream(path)
  return {
    write: (line) =>
      new Promise<void>((done, fail) => {
        if (out.write(`${JSON.stringify(line)}\n`)) done()
        else out.once('drain', done).once('error', fail)
      }),
    close: () =>
      new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done()))),
  }
}

/** Rows buffered per Parquet row group. */
export const PARQUET_ROW_GROUP = 100_000

const utf8 = { type: 'BYTE_ARRAY', converted_type: 'UTF8' } as const

/** The Parquet schema of batch recommendations. */
export const RECOMMENDATION_PARQUET_SCHEMA = [
  { name: 'root', num_children: 6 },
  { name: 'userId', ...utf8, repetition_type: 'REQUIRED' },
  { name: 'rank', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'itemId', ...utf8, repetition_type: 'OPTIONAL' },
  { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'source', ...utf8, repetition_type: 'REQUIRED' },
  { name: 'modelVersion', ...utf8, repetition_type: 'REQUIRED' },
] as const

/**
 * Parquet, one row per recommended item, written in row groups of {@link PARQUET_ROW_GROUP}.
 * hyparquet-writer is loaded here, not when the trainer starts (the training path never needs it).
 */
export async function parquetSink(path: string): Promise<BatchSink> {
  const { fileWriter, ParquetWriter } = await import('hyparquet-writer')
  const writer = new ParquetWriter({
    writer: fileWriter(path),
    schema: RECOMMENDATION_PARQUET_SCHEMA.map((e) => ({ ...e })),
    createdBy: 'edgerec-train recommend',
  })
  let columns = empty()
  function empty() {
    return {
      userId: [] as string[],
      rank: [] as (number | null)[],
      itemId: [] as (string | null)[],
      score: [] as (number | null)[],
      source: [] as string[],
      modelVersion: [] as string[],
    }
  }
  const flush = (): void => {
    if (columns.userId.length === 0) return
    writer.write({
      columnData: [
        { name: 'userId', data: columns.userId },
        { name: 'rank', data: columns.rank },
        { name: 'itemId', data: columns.itemId },
        { name: 'score', data: columns.score },
        { name: 'source', data: columns.source },
        { name: 'modelVersion', data: columns.modelVersion },
      ],
      rowGroupSize: PARQUET_ROW_GROUP,
    })
    columns = empty()
  }
  const push = (line: BatchLine, rank: number | null, item: BatchLine['items'][number] | null): void => {
    columns.userId.push(line.userId)
    columns.rank.push(rank)
    columns.itemId.push(item?.itemId ?? null)
    columns.score.push(item?.score ?? null)
    columns.source.push(line.source)
    columns.modelVersion.push(line.modelVersion)
  }
  return {
    write: async (line) => {
      if (line.items.length === 0) push(line, null, null)
      line.items.forEach((item, r) => {
        push(line, r + 1, item)
      })
      if (columns.userId.length >= PARQUET_ROW_GROUP) flush()
    },
    close: async () => {
      flush()
      writer.finish()
    },
  }
}

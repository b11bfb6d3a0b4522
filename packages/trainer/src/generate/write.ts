/**
 * Writes generated events (NDJSON or CSV) and the catalog JSON to files, streaming with
 * backpressure so 50M events never sit in memory.
 *
 * @module
 */

import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { TrainerError } from '../errors.js'
import { catalogFor, type GenerateOptions, generateEvents } from './events.js'

/** Output of {@link writeGeneratedData}. */
export interface GeneratedFiles {
  events: number
  eventsPath: string
  catalogPath?: string
  format: 'ndjson' | 'csv'
}

/** Options of {@link writeGeneratedData}. */
export interface WriteGeneratedOptions {
  /** Events file; the format follows the extension (`.csv` or `.ndjson`/`.jsonl`) unless `format` is set. */
  path: string
  format?: 'ndjson' | 'csv'
  /** Where to write the catalog JSON (`{ categories, items }`); omit to skip. */
  catalogPath?: string
  /** Called every 100k events. */
  onProgress?: (written: number) => void
}

/**
 * Generates events into a file and the catalog into a JSON file.
 *
 * @example
 * ```ts
 * await writeGeneratedData({ events: 1_000_000, seed: 1 }, { path: 'events.csv', catalogPath: 'catalog.json' })
 * ```
 */
export async function writeGeneratedData(
  options: GenerateOptions,
  output: WriteGeneratedOptions,
): Promise<GeneratedFiles> {
  const format =
    output.format ??
    (output.path.endsWith('.csv')
      ? 'csv'
      : output.path.match(/\.(ndjson|jsonl|json)$/)
        ? 'ndjson'
        : undefined)
  if (format === undefined) {
    throw new TrainerError(
      'USAGE',
      `Cannot tell the output format of ${output.path}: name it .csv or .ndjson, or pass --format.`,
    )
  }
  await mkdir(dirname(output.path), { recursive: true })
  const stream = createWriteStream(output.path)
  const failed = new Promise<never>((_, reject) => stream.once('error', reject))
  failed.catch(() => {})
  let buffer = format === 'csv' ? 'id,userId,itemId,type,timestamp\n' : ''
  let count = 0
  const flush = async (): Promise<void> => {
    if (!stream.write(buffer)) await Promise.race([once(stream, 'drain'), failed])
    buffer = ''
  }
  for (const e of generateEvents(options)) {
    buffer +=
      format === 'csv'
        ? `${e.id},${e.userId},${e.itemId},${e.type},${e.timestamp}\n`
        : `{"id":"${e.id}","userId":"${e.userId}","itemId":"${e.itemId}","type":"${e.type}","timestamp":${e.timestamp}}\n`
    count++
    if (buffer.length > 1 << 18) await flush()
    if (count % 100_000 === 0) output.onProgress?.(count)
  }
  await flush()
  stream.end()
  await Promise.race([once(stream, 'finish'), failed])
  const result: GeneratedFiles = { events: count, eventsPath: output.path, format }
  if (output.catalogPath) {
    await mkdir(dirname(output.catalogPath), { recursive: true })
    await writeFile(output.catalogPath, `${JSON.stringify(catalogFor(options), null, 1)}\n`)
    result.catalogPath = output.catalogPath
  }
  return result
}

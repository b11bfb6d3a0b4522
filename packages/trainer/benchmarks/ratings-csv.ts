/**
 * The reference's ALS speed-test matrix (shared/REFERENCE.md: 5M power-law draws over 200k users ×
 * 50k items, seed 7 → 4,771,749 distinct pairs, values 1/2/4/8) written once as a
 * `userId,itemId,value` CSV and reused: the file the scale benchmark (`--ratings`) and the
 * same-run comparison with `implicit` (benchmarks/reference/compare.ts) both read.
 *
 * @module
 */
import { once } from 'node:events'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, rename } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePowerLaw } from './generate.js'

/** Draws of the reference speed test: 4,771,749 distinct pairs with seed 7. */
export const REFERENCE_DRAWS = 5_000_000

/** Where the benchmarks cache their generated inputs unless told otherwise. */
export const DEFAULT_DATA_DIR = join(tmpdir(), 'edgerec-scale-bench')

/**
 * Path of the reference matrix as a ratings CSV in `dataDir`, written on the first call
 * (`ratings-4771749.csv`, header `userId,itemId,value`, rows by user).
 */
export async function ensureReferenceRatingsCsv(dataDir: string = DEFAULT_DATA_DIR): Promise<string> {
  const path = join(dataDir, 'ratings-4771749.csv')
  if (existsSync(path)) return path
  console.log(`writing the reference's 4.77M-pair matrix as ${path} (cached for later runs)…`)
  const m = generatePowerLaw(REFERENCE_DRAWS, 200_000, 50_000, 7)
  await mkdir(dataDir, { recursive: true })
  const out = createWriteStream(`${path}.tmp`)
  let buffer = 'userId,itemId,value\n'
  for (let u = 0; u < m.rows; u++) {
    for (let k = m.indptr[u]!; k < m.indptr[u + 1]!; k++) {
      buffer += `${u},${m.indices[k]},${m.values[k]}\n`
      if (buffer.length > 1 << 20) {
        if (!out.write(buffer)) await once(out, 'drain')
        buffer = ''
      }
    }
  }
  out.end(buffer)
  await once(out, 'finish')
  await rename(`${path}.tmp`, path)
  return path
}

/**
 * Where the memory of one ALS training goes, on the reference's speed-test matrix (200k users ×
 * 50k items, 4,771,749 pairs, seed 7; shared/REFERENCE.md): resident memory (RSS) and its peak
 * after each stage, from the built trainer (`dist/`, what `edgerec-train` runs: its worker threads
 * start without tsx). One process, 64 factors, 2 threads, 1 iteration.
 *
 * Stages: Node + modules; the input CSR (`Uint32` indices, `Float32` values); during the first
 * iteration (the shared `WebAssembly.Memory` with both CSR orientations and both factor matrices,
 * plus the worker threads); after the factors are copied out (workers stopped).
 *
 * Usage: npm run build -w @edgerec/trainer && npm run bench:als-memory -w @edgerec/trainer -- [--threads 2] [--scale 1]
 *
 * `-- --reference [--threads 1,2] [--iterations 3] [--rounds 1]` instead measures edgerec and the
 * reference library `implicit` (built from source) in the same run: benchmarks/reference/compare.ts.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import type { AlsOptions } from '../../src/als/options.js'
import type { AlsModel } from '../../src/als/train.js'
import type { CsrMatrix } from '../../src/data/matrix.js'
import { generatePowerLaw } from '../generate.js'

if (process.argv.includes('--reference')) {
  // Same-run comparison with the reference library built from source (benchmarks/reference/).
  const { compareWithImplicit } = await import('../reference/compare.js')
  await compareWithImplicit(process.argv.slice(2))
  process.exit(0)
}
const { values } = parseArgs({
  options: { threads: { type: 'string', default: '2' }, scale: { type: 'string', default: '1' } },
})
const dist = new URL('../../dist/als/index.js', import.meta.url)
if (!existsSync(dist)) throw new Error('Build the trainer first: npm run build -w @edgerec/trainer')
const { trainAls } = (await import(dist.href)) as {
  trainAls: (data: CsrMatrix, options: Partial<AlsOptions>) => Promise<AlsModel>
}
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`
const stage = (name: string): void => {
  const m = process.memoryUsage()
  console.log(
    `${name.padEnd(44)} RSS ${mib(m.rss).padStart(8)}, peak ${mib(process.resourceUsage().maxRSS * 1024).padStart(8)}, array buffers ${mib(m.arrayBuffers).padStart(8)}`,
  )
}

const scale = Number(values.scale)
console.log(`load average at start ${loadavg()[0]!.toFixed(2)}`)
stage('node + modules')
const data = generatePowerLaw(
  Math.round(5_000_000 * scale),
  Math.round(200_000 * scale),
  Math.round(50_000 * scale),
  7,
)
const pairs = data.indptr[data.rows]!
stage(`input CSR (${pairs.toLocaleString('en-US')} pairs)`)
const model = await trainAls(data, {
  factors: 64,
  regularization: 0.05,
  alpha: 1,
  cgSteps: 3,
  iterations: 1,
  threads: Number(values.threads),
  seed: 1,
  onIteration: () => stage(`first iteration (${values.threads} threads)`),
})
stage('factors copied out, workers stopped')
console.log(
  `factors ${mib(model.userFactors.byteLength + model.itemFactors.byteLength)}; load average at end ${loadavg()[0]!.toFixed(2)}`,
)

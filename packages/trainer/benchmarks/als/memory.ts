/**
 * Where the memory of one ALS training goes, on the reference's speed-test matrix (200k users ×
 * 50k items, 4,771,749 pairs, seed 7; shared/REFERENCE.md): resident memory (RSS) and its peak
 * after each stage, from the built trainer (`dist/`, what `edgerec-train` runs). 64 factors,
 * `--iterations` (default 1; the memory does not grow after the first), median s/iteration.
 *
 * This process (tsx) generates the matrix once and writes it to a temporary file; every
 * measurement runs in its own plain `node` process (`memory-child.mjs`, no tsx loader: tsx alone
 * costs about 17 MiB on Node 24, which `edgerec-train` never loads) that reads the file
 * and trains, alternating the variants `--runs` times per thread count:
 * - `copy`: the matrix in the caller's own typed arrays, copied into the ALS memory by `trainAls`;
 * - `als-memory`: the matrix read straight into the ALS memory (`allocateAlsMatrix`), no copy;
 * - `baseline` (with `--baseline-dist`): `copy` with another build of the trainer, e.g. main's,
 *   for a same-run A/B.
 *
 * Stages: Node + trainer modules; the input CSR (`Uint32` indices, `Float32` values); during the
 * first iteration (the shared `WebAssembly.Memory` with both CSR orientations and both factor
 * matrices, plus the worker threads); after training (workers stopped; the factors are views
 * onto the ALS memory, not a copy out of it).
 *
 * Usage: npm run build -w @edgerec/trainer && npm run bench:als-memory -w @edgerec/trainer -- [--threads 1,2]
 *        [--runs 2] [--iterations 1] [--scale 1] [--baseline-dist /tmp/main/packages/trainer/dist]
 *
 * `-- --reference [--threads 1,2] [--iterations 3] [--rounds 1]` instead measures edgerec and the
 * reference library `implicit` (built from source) in the same run: benchmarks/reference/compare.ts.
 *
 * @module
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generatePowerLaw } from '../generate.js'

if (process.argv.includes('--reference')) {
  // Same-run comparison with the reference library built from source (benchmarks/reference/).
  const { compareWithImplicit } = await import('../reference/compare.js')
  await compareWithImplicit(process.argv.slice(2))
  process.exit(0)
}
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    scale: { type: 'string', default: '1' },
    runs: { type: 'string', default: '2' },
    iterations: { type: 'string', default: '1' },
    'baseline-dist': { type: 'string' },
  },
})
const dist = fileURLToPath(new URL('../../dist', import.meta.url))
if (!existsSync(join(dist, 'als/index.js')))
  throw new Error('Build the trainer first: npm run build -w @edgerec/trainer')
const baselineDist = values['baseline-dist']
  ? resolve(process.env.INIT_CWD ?? '.', values['baseline-dist'])
  : undefined
if (baselineDist && !existsSync(join(baselineDist, 'als/index.js')))
  throw new Error(`--baseline-dist ${baselineDist} holds no built trainer (als/index.js).`)
const child = fileURLToPath(new URL('./memory-child.mjs', import.meta.url))

interface Stage {
  name: string
  rssMiB: number
  peakMiB: number
}
interface Measured {
  input: string
  threads: number
  pairs: number
  factorsMiB: number
  secondsPerIteration: number
  stages: Stage[]
}

const scale = Number(values.scale)
const data = generatePowerLaw(
  Math.round(5_000_000 * scale),
  Math.round(200_000 * scale),
  Math.round(50_000 * scale),
  7,
)
const pairs = data.indptr[data.rows]!
const dir = mkdtempSync(join(tmpdir(), 'edgerec-als-memory-'))
const file = join(dir, 'matrix.bin')
const bytes = (a: Uint32Array | Float32Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
writeFileSync(
  file,
  Buffer.concat([
    bytes(Uint32Array.of(data.rows, data.cols, pairs)),
    bytes(data.indptr),
    bytes(data.indices.subarray(0, pairs)),
    bytes(data.values.subarray(0, pairs)),
  ]),
)

const variants: { label: string; dist: string; input: string }[] = [
  ...(baselineDist ? [{ label: 'baseline (copy)', dist: baselineDist, input: 'copy' }] : []),
  { label: 'copy', dist, input: 'copy' },
  { label: 'als-memory', dist, input: 'als-memory' },
]
const env = { ...process.env }
delete env.NODE_OPTIONS
console.log(
  `${pairs.toLocaleString('en-US')} pairs, ${data.rows.toLocaleString('en-US')} users × ${data.cols.toLocaleString('en-US')} items, 64 factors, ${values.iterations} iteration(s); load average at start ${loadavg()[0]!.toFixed(2)}`,
)
console.log(
  'MiB RSS after: node + trainer | input CSR | first iteration | after training || peak RSS | s/iteration',
)
try {
  for (let run = 1; run <= Number(values.runs); run++) {
    for (const threads of values.threads.split(',').map(Number)) {
      for (const v of variants) {
        const result = spawnSync(
          process.execPath,
          [
            child,
            ...['--file', file, '--dist', v.dist, '--threads', String(threads), '--input', v.input],
            ...['--iterations', values.iterations],
          ],
          { env, encoding: 'utf8' },
        )
        if (result.status !== 0) throw new Error(`${v.label} failed:\n${result.stderr}`)
        const m = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measured
        const rss = m.stages.map((s) => String(s.rssMiB).padStart(5)).join(' |')
        console.log(
          `run ${run}, ${threads} thread${threads === 1 ? ' ' : 's'}, ${v.label.padEnd(16)} ${rss} || ${String(m.stages.at(-1)!.peakMiB).padStart(5)} | ${m.secondsPerIteration.toFixed(2)}`,
        )
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`load average at end ${loadavg()[0]!.toFixed(2)}`)

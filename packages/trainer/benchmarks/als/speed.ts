/**
 * ALS speed on generated data shaped like the reference's speed test (shared/REFERENCE.md):
 * 200k users, 50k items, ≈ 4.77M distinct (user, item) pairs, item popularity ∝ rank^−0.9,
 * values 1/2/4/8, 64 factors, CG with 3 steps. Prints seconds per iteration of the WebAssembly
 * SIMD kernels at 1 and N threads and of the plain TypeScript kernels (the baseline, same
 * algorithm, same run) at 1 thread, as absolute figures. A ratio to the reference library is
 * printed only when the reference ran in this process tree: `--reference-cmd '<command>'` runs it
 * on the same data (written to a temporary folder, see benchmarks/als/README.md) and parses its
 * `{"threads": n, "secondsPerIteration": s}` lines. No figure measured elsewhere is a denominator.
 *
 * Usage: tsx benchmarks/als/speed.ts [--scale 1] [--iterations 3] [--threads N] [--no-baseline]
 *        [--reference-cmd 'python3 benchmarks/als/reference_implicit.py']
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type AlsOptions, trainAls } from '../../src/als/index.js'
import { type CsrMatrix, nnz } from '../../src/data/matrix.js'
import { generatePowerLaw } from '../generate.js'

/** Draws that give ≈ 4.77M distinct pairs for 200k users × 50k items (seed 7: 4,771,749). */
export const REFERENCE_DRAWS = 5_000_000

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '3' },
    threads: { type: 'string' },
    'no-baseline': { type: 'boolean' },
    'reference-cmd': { type: 'string' },
  },
})
const scale = Number(values.scale)
const iterations = Number(values.iterations)
const maxThreads = Number(values.threads ?? availableParallelism())
if (!(scale > 0) || !(iterations >= 1)) throw new Error('--scale must be > 0 and --iterations ≥ 1')

const rssMiB = (): number => process.resourceUsage().maxRSS / 1024

interface Timing {
  label: string
  threads: number
  secondsPerIteration: number
  /** CPU seconds of the whole process (all threads) per iteration, median of iterations 2..n. */
  cpuPerIteration: number | undefined
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function time(data: CsrMatrix, label: string, options: Partial<AlsOptions>): Promise<Timing> {
  const seconds: number[] = []
  const cpuAt: number[] = []
  const cpu = (): number => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  await trainAls(data, {
    factors: 64,
    regularization: 0.05,
    alpha: 1,
    cgSteps: 3,
    iterations,
    seed: 1,
    ...options,
    onIteration: (p) => {
      seconds.push(p.seconds)
      cpuAt.push(cpu())
    },
  })
  // NOTE: CPU time between two progress callbacks is one iteration's work on every thread; it is
  // much less sensitive than wall time to other processes sharing the machine.
  const cpuDiffs = cpuAt.slice(1).map((c, j) => c - cpuAt[j]!)
  const cpuPerIteration = cpuDiffs.length > 0 ? median(cpuDiffs) : undefined
  const wall = median(seconds)
  const threads = options.threads ?? 1
  console.log(
    `  ${label.padEnd(34)} threads ${threads}: ${wall.toFixed(3)} s/iteration (median of ${seconds.length})` +
      `${cpuPerIteration === undefined ? '' : `, ${cpuPerIteration.toFixed(3)} CPU s/iteration`}, peak RSS ${rssMiB().toFixed(0)} MiB`,
  )
  return { label, threads, secondsPerIteration: wall, cpuPerIteration }
}

const users = Math.round(200_000 * scale)
const items = Math.round(50_000 * scale)
const started = performance.now()
const data = generatePowerLaw(Math.round(REFERENCE_DRAWS * scale), users, items, 7)
const pairs = nnz(data)
console.log(
  `ALS speed: ${users.toLocaleString('en-US')} users × ${items.toLocaleString('en-US')} items, ${pairs.toLocaleString('en-US')} pairs ` +
    `(generated in ${((performance.now() - started) / 1000).toFixed(1)} s), 64 factors, CG 3 steps, ${iterations} iterations per run`,
)
console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load average at start ${loadavg()[0]!.toFixed(2)} (other processes compete for the cores when it is above 0)`,
)

const results: Timing[] = []
for (let threads = 1; threads <= maxThreads; threads *= 2) {
  results.push(await time(data, 'wasm simd kernels', { threads, backend: 'wasm' }))
}
if (maxThreads > 1 && (maxThreads & (maxThreads - 1)) !== 0)
  results.push(await time(data, 'wasm simd kernels', { threads: maxThreads, backend: 'wasm' }))
const baseline = values['no-baseline']
  ? undefined
  : await time(data, 'baseline: TypeScript kernels', { threads: 1, backend: 'js' })

/**
 * Runs the reference command on the same data: users.i32, items.i32, values.f32 (little-endian,
 * one entry per stored pair, row-major by user) in EDGEREC_BENCH_DIR, with the shape and settings
 * in the environment. Returns seconds per iteration by thread count.
 */
async function runReference(command: string, threads: number[]): Promise<Map<number, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-bench-reference-'))
  try {
    const rows = new Int32Array(pairs)
    for (let u = 0; u < data.rows; u++) rows.fill(u, data.indptr[u]!, data.indptr[u + 1]!)
    await writeFile(join(dir, 'users.i32'), new Uint8Array(rows.buffer))
    await writeFile(join(dir, 'items.i32'), new Uint8Array(new Int32Array(data.indices).buffer))
    await writeFile(join(dir, 'values.f32'), new Uint8Array(new Float32Array(data.values).buffer))
    const env = {
      ...process.env,
      EDGEREC_BENCH_DIR: dir,
      EDGEREC_BENCH_USERS: String(data.rows),
      EDGEREC_BENCH_ITEMS: String(data.cols),
      EDGEREC_BENCH_FACTORS: '64',
      EDGEREC_BENCH_ITERATIONS: String(iterations),
      EDGEREC_BENCH_THREADS: threads.join(','),
    }
    console.log(`  reference: ${command} (same data, same process tree)`)
    const out: string[] = []
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { env, stdio: ['ignore', 'pipe', 'inherit'] })
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()))
      child.on('error', reject)
      child.on('close', (c) => resolve(c ?? 1))
    })
    if (code !== 0) throw new Error(`--reference-cmd exited with ${code}; no reference figures.`)
    const result = new Map<number, number>()
    for (const line of out.join('').split('\n')) {
      if (!line.trim().startsWith('{')) continue
      const r = JSON.parse(line) as { threads?: unknown; secondsPerIteration?: unknown }
      if (typeof r.threads === 'number' && typeof r.secondsPerIteration === 'number') {
        result.set(r.threads, r.secondsPerIteration)
        console.log(
          `  reference threads ${r.threads}: ${r.secondsPerIteration.toFixed(3)} s/iteration (measured now)`,
        )
      }
    }
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const reference = values['reference-cmd']
  ? await runReference(values['reference-cmd'], [...new Set(results.map((r) => r.threads))])
  : new Map<number, number>()

console.log('\nsummary')
console.log(
  '| kernels | threads | s / iteration (wall) | CPU s / iteration (all threads) | interactions / s (wall) | vs TypeScript baseline (1 thread, wall) | vs reference (same run, wall) |',
)
console.log('|---|---|---|---|---|---|---|')
for (const r of [...results, ...(baseline ? [baseline] : [])]) {
  const ref = reference.get(r.threads)
  const refText =
    ref !== undefined ? `${(ref / r.secondsPerIteration).toFixed(2)}× (${ref.toFixed(3)} s)` : '–'
  const baseText = baseline ? `${(baseline.secondsPerIteration / r.secondsPerIteration).toFixed(2)}×` : '–'
  const cpuText = r.cpuPerIteration === undefined ? '–' : r.cpuPerIteration.toFixed(3)
  console.log(
    `| ${r.label} | ${r.threads} | ${r.secondsPerIteration.toFixed(3)} | ${cpuText} | ${Math.round(pairs / r.secondsPerIteration).toLocaleString('en-US')} | ${baseText} | ${refText} |`,
  )
}
if (reference.size === 0)
  console.log(
    '(no reference ran: add --reference-cmd to print ratios to it; figures from other machines are not used)',
  )
const one = results.find((r) => r.threads === 1)
const most = results.at(-1)
if (one && most && most.threads > 1) {
  const cpu =
    one.cpuPerIteration !== undefined && most.cpuPerIteration !== undefined
      ? `; CPU per iteration ${one.cpuPerIteration.toFixed(3)} s on 1 thread vs ${most.cpuPerIteration.toFixed(3)} s summed over ${most.threads} (equal CPU means the threads add no overhead, and the wall-time speed-up is what the machine's free cores allow)`
      : ''
  console.log(
    `\nwall-time speed-up of ${most.threads} threads over 1: ${(one.secondsPerIteration / most.secondsPerIteration).toFixed(2)}×${cpu}`,
  )
}
console.log(
  `peak RSS of the whole run: ${rssMiB().toFixed(0)} MiB; load average at the end ${loadavg()[0]!.toFixed(2)}`,
)
console.log('(ratios > 1 mean edgerec is faster)')

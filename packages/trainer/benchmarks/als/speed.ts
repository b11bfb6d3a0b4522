/**
 * ALS speed on generated data shaped like the reference's speed test (shared/REFERENCE.md):
 * 200k users, 50k items, ≈ 4.77M distinct (user, item) pairs, item popularity ∝ rank^−0.9,
 * values 1/2/4/8, 64 factors, CG with 3 steps. Prints seconds per iteration of the WebAssembly
 * SIMD kernels at 1 and N threads, of the plain TypeScript kernels (the baseline, same algorithm,
 * same run) at 1 thread, the ratios, and the ratio to the reference's 2.08 s / 1.04 s per iteration.
 *
 * Usage: tsx benchmarks/als/speed.ts [--scale 1] [--iterations 3] [--threads N] [--no-baseline]
 *
 * @module
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { type AlsOptions, trainAls } from '../../src/als/index.js'
import { type CsrMatrix, nnz } from '../../src/data/matrix.js'
import { generatePowerLaw } from '../generate.js'

/** Draws that give ≈ 4.77M distinct pairs for 200k users × 50k items (seed 7: 4,771,749). */
export const REFERENCE_DRAWS = 5_000_000
const REFERENCE_SECONDS = { 1: 2.08, 2: 1.04 } as Record<number, number>

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '3' },
    threads: { type: 'string' },
    'no-baseline': { type: 'boolean' },
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

console.log('\nsummary')
console.log(
  '| kernels | threads | s / iteration (wall) | CPU s / iteration (all threads) | interactions / s (wall) | vs TypeScript baseline (1 thread, wall) | vs reference (implicit, same size, wall) | vs reference, 1 thread, from CPU time |',
)
console.log('|---|---|---|---|---|---|---|---|')
for (const r of [...results, ...(baseline ? [baseline] : [])]) {
  const ref = REFERENCE_SECONDS[r.threads]
  const refText =
    ref !== undefined && scale === 1
      ? `${(ref / r.secondsPerIteration).toFixed(2)}× (${ref} s)`
      : scale === 1
        ? '–'
        : `n/a (scale ${scale})`
  const baseText = baseline ? `${(baseline.secondsPerIteration / r.secondsPerIteration).toFixed(2)}×` : '–'
  const cpuText = r.cpuPerIteration === undefined ? '–' : r.cpuPerIteration.toFixed(3)
  const cpuRef =
    r.threads === 1 && r.cpuPerIteration !== undefined && scale === 1
      ? `${(2.08 / r.cpuPerIteration).toFixed(2)}×`
      : '–'
  console.log(
    `| ${r.label} | ${r.threads} | ${r.secondsPerIteration.toFixed(3)} | ${cpuText} | ${Math.round(pairs / r.secondsPerIteration).toLocaleString('en-US')} | ${baseText} | ${refText} | ${cpuRef} |`,
  )
}
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

/**
 * The edgerec side of the same-run comparison (benchmarks/reference/compare.ts): one process that
 * loads a ratings CSV the way `edgerec-train train --input` does (`loadFromConfig` with
 * `loadedMatrixAllocator`: the matrix is built straight in the memory of its ALS training) and
 * trains ALS on it with the settings of shared/REFERENCE.md's speed test (64 factors, λ 0.05,
 * alpha 1, CG 3 steps). Plain JavaScript on the built trainer (`dist/`), so the process is what
 * `edgerec-train` runs: no TypeScript loader in its memory.
 *
 * Usage: node benchmarks/reference/edgerec-als.mjs RATINGS_CSV --threads 1 [--iterations 3] [--copy]
 *
 * `--copy`: the matrix in ordinary arrays, copied into the ALS memory by `trainAls` (what
 * `edgerec-train` did before the loader allocated it there): the same-run baseline of that change.
 * `--gc-before-fit` (diagnostic, needs `node --expose-gc`): a full garbage collection between the
 * load and the fit, to tell the load's uncollected garbage from what the fit itself holds; also
 * prints `process.memoryUsage()` before and after it on stderr. (`loadInteractions` itself ends
 * with V8's memory-reducing collection, `reduceHeap`, when the heap or its scratch arrays hold
 * enough to give back: this one is an extra, ordinary full collection.)
 *
 * Prints one JSON line, the same fields as implicit_als.py: resident memory from Linux's
 * /proc/self/status (VmHWM after the load, then reset through /proc/self/clear_refs and read again
 * after the fit).
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cpuUsage } from 'node:process'
import { parseArgs } from 'node:util'

const statusMiB = (field) => {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  if (!line) throw new Error(`${field} not in /proc/self/status`)
  return Number(line.split(/\s+/)[1]) / 1024
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const cpuSeconds = () => {
  const u = cpuUsage()
  return (u.user + u.system) / 1e6
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '1' },
    iterations: { type: 'string', default: '3' },
    factors: { type: 'string', default: '64' },
    copy: { type: 'boolean', default: false },
    'gc-before-fit': { type: 'boolean', default: false },
  },
})
const [input] = positionals
if (!input) throw new Error('usage: edgerec-als.mjs RATINGS_CSV --threads N')

const { loadFromConfig, loadedMatrixAllocator } = await import('../../dist/train.js')
const { resolveAlsOptions, trainAls } = await import('../../dist/als/index.js')
const modulesMiB = statusMiB('VmRSS')

const config = {
  events: { kind: 'file', path: input },
  als: {
    factors: Number(values.factors),
    regularization: 0.05,
    alpha: 1,
    cgSteps: 3,
    iterations: Number(values.iterations),
    threads: Number(values.threads),
    seed: 1,
  },
}
const started = performance.now()
// What train() does before its final training (no evaluation here: the fit is what is compared).
const loaded = await loadFromConfig(
  config,
  {},
  values.copy ? {} : { allocateMatrix: loadedMatrixAllocator(config) },
)
const loadSeconds = (performance.now() - started) / 1000
const loadPeakMiB = statusMiB('VmHWM')
const matrix = loaded.data.matrix

if (values['gc-before-fit']) {
  if (typeof globalThis.gc !== 'function') throw new Error('--gc-before-fit needs node --expose-gc')
  const usage = () =>
    Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1048576)]))
  const before = usage()
  globalThis.gc()
  console.error(JSON.stringify({ beforeGcMiB: before, afterGcMiB: usage() }))
}
writeFileSync('/proc/self/clear_refs', '5')
const fitStartMiB = statusMiB('VmRSS')
const seconds = []
const cpuAt = [cpuSeconds()]
await trainAls(matrix, {
  ...resolveAlsOptions(config.als),
  onIteration: (p) => {
    seconds.push(p.seconds)
    cpuAt.push(cpuSeconds())
  },
})
const fitPeakMiB = statusMiB('VmHWM')
console.log(
  JSON.stringify({
    library: `edgerec${values.copy ? ' (matrix copied)' : ''} (Node ${process.version}, WebAssembly SIMD kernels)`,
    threads: Number(values.threads),
    pairs: matrix.indices.length,
    modulesMiB,
    loadSeconds,
    loadPeakMiB,
    secondsPerIteration: median(seconds),
    // CPU seconds of the whole process (every thread) per iteration, as implicit_als.py reports.
    cpuSecondsPerIteration: median(cpuAt.slice(1).map((c, i) => c - cpuAt[i])),
    iterations: seconds.length,
    fitStartMiB,
    fitPeakMiB,
    peakMiB: Math.max(loadPeakMiB, fitPeakMiB),
  }),
)

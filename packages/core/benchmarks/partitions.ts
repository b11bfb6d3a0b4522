/**
 * Partitioned (IVF) retrieval (issue 16 item 3): per query, the exact int8 scan vs probing
 * `nprobe` of ⌈√n⌉ k-means partitions and re-ranking their items exactly, both on the relaxed-SIMD
 * Wasm kernel, interleaved in the same run; recall@10 of the probed top-10 against the exact one.
 * Synthetic clustered items (200 centres, 64 dims) and users near an item, fixed seeds.
 *
 *   npm run bench:partitions -w @edgerec/core [-- --items 1000000]
 *
 * @module
 */
import {
  blockFromQuantized,
  buildPartitions,
  bundledInt8KernelBytes,
  createInt8Kernel,
  quantizeRows,
  quantizeVector,
  recallAtK,
  recommendTopK,
  recommendTopKPartitioned,
  WasmInt8Kernel,
} from '../src/index.js'
import { mulberry32 } from '../src/random.test-support.js'

const args = process.argv.slice(2)
const ITEMS = Number(args[args.indexOf('--items') + 1] ?? 0) || 100_000
const DIMS = 64
const K = 10
const QUERIES = 100
const random = mulberry32(23)
const centres = Float32Array.from({ length: 200 * DIMS }, () => random() * 2 - 1)
const factors = new Float32Array(ITEMS * DIMS)
for (let i = 0; i < ITEMS; i++) {
  const c = Math.floor(random() * 200)
  for (let d = 0; d < DIMS; d++) factors[i * DIMS + d] = centres[c * DIMS + d]! + (random() - 0.5) * 0.6
}
const q = quantizeRows(factors, ITEMS, DIMS)
const kernel = createInt8Kernel(
  { relaxed: bundledInt8KernelBytes().relaxed },
  { dims: DIMS, residentRows: ITEMS },
)
if (!(kernel instanceof WasmInt8Kernel)) throw new Error('This runtime does not run the Wasm kernels.')
kernel.resident.set(q.values, 0)
const blocks = [{ ...blockFromQuantized(q, 0), factors: kernel.resident.subarray(0, ITEMS * DIMS) }]
const lists = Math.ceil(Math.sqrt(ITEMS))
let started = performance.now()
const index = buildPartitions(factors, ITEMS, DIMS, { lists, seed: 1 })
const buildSeconds = (performance.now() - started) / 1000
const users = Array.from({ length: QUERIES }, () => {
  const near = Math.floor(random() * ITEMS)
  return quantizeVector(
    Array.from({ length: DIMS }, (_, d) => factors[near * DIMS + d]! + (random() - 0.5) * 0.4),
  )
})
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

console.log(
  `${ITEMS.toLocaleString('en-US')} items × ${DIMS}, ${lists} partitions (k-means ${buildSeconds.toFixed(1)} s), ${QUERIES} queries, K = ${K}, relaxed-SIMD kernel, Node ${process.version}\n`,
)
console.log(
  '| nprobe | recall@10 vs exact | probed ms/query p50 | exact scan ms/query p50 (same run) | exact / probed |',
)
console.log('|---:|---:|---:|---:|---:|')
for (const nprobe of [4, 8, 16, 32]) {
  const exactTimes: number[] = []
  const probedTimes: number[] = []
  let recall = 0
  for (const user of users) {
    started = performance.now()
    const exact = recommendTopK(user, blocks, K, undefined, kernel)
    exactTimes.push(performance.now() - started)
    started = performance.now()
    const probed = recommendTopKPartitioned(user, blocks, index, nprobe, K, undefined, kernel)
    probedTimes.push(performance.now() - started)
    recall += recallAtK(exact.indices, probed.indices)
  }
  const e = p50(exactTimes)
  const p = p50(probedTimes)
  console.log(
    `| ${nprobe} | ${(recall / QUERIES).toFixed(3)} | ${p.toFixed(3)} | ${e.toFixed(3)} | ${(e / p).toFixed(1)}× |`,
  )
}

/**
 * Partitioned (IVF) retrieval (issue 16): per query, the exact int8 scan vs probing `nprobe` of
 * ⌈√n⌉ k-means partitions and re-ranking their items exactly, both on the relaxed-SIMD Wasm kernel,
 * interleaved in the same run; recall@10 of the probed top-10 against the exact one. The probed
 * items are the partitions' contiguous lists (as the worker fetches them from R2), one kernel call
 * per list. Synthetic clustered items (200 centres, 64 dims) and users near an item, fixed seeds.
 *
 *   npm run bench:partitions -w @edgerec/core [-- --items 1000000]
 *
 * `npm run bench -w @edgerec/core` runs the same rows at 100k and 1M items, and
 * {@link kmeansSampleBenchmark} at 100k (`npm run bench:partitions -w @edgerec/core -- --kmeans
 * [--items n]` alone): k-means on a sample of 64 or 256 items per partition vs on every item.
 *
 * @module
 */
import {
  blockFromQuantized,
  buildPartitions,
  bundledInt8KernelBytes,
  chooseNprobe,
  createInt8Kernel,
  layoutPartitionLists,
  quantizeRows,
  quantizeVector,
  recallAtK,
  recommendTopK,
  recommendTopKProbed,
  WasmInt8Kernel,
} from '../src/index.js'
import { mulberry32 } from '../src/random.test-support.js'

const DIMS = 64
const K = 10
const QUERIES = 100

/**
 * `items` × 64 float factors around `count` random centres in [−spread/2, spread/2]^64, noise
 * uniform in ±noise/2 (fixed by `random`). Default: 200 well-separated centres.
 */
function clusteredItems(
  items: number,
  random: () => number,
  { count = 200, spread = 2, noise = 0.6 } = {},
): Float32Array {
  const centres = Float32Array.from({ length: count * DIMS }, () => (random() - 0.5) * spread)
  const factors = new Float32Array(items * DIMS)
  for (let i = 0; i < items; i++) {
    const c = Math.floor(random() * count)
    for (let d = 0; d < DIMS; d++) factors[i * DIMS + d] = centres[c * DIMS + d]! + (random() - 0.5) * noise
  }
  return factors
}

/**
 * k-means on a sample (what the trainer runs: 256 items per partition by default) vs k-means on
 * every item, same data, seed and iterations: seconds, recall@10 at nprobe 8 and 16, and the nprobe
 * the trainer's rule picks for recall@10 ≥ 0.95 (100 users near an item). Markdown rows.
 */
export function kmeansSampleBenchmark(items: number): string[] {
  const random = mulberry32(23)
  // The worker benchmark's data: ⌈√items⌉ heavily overlapping clusters (noise wider than the
  // spread of the centres), where k-means is hard and the sample matters.
  const factors = clusteredItems(items, random, {
    count: Math.ceil(Math.sqrt(items)),
    spread: 0.4,
    noise: 0.5,
  })
  const q = quantizeRows(factors, items, DIMS)
  const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: DIMS })
  const blocks = [blockFromQuantized(q, 0)]
  const users = Array.from({ length: QUERIES }, () => {
    const near = Math.floor(random() * items)
    return quantizeVector(
      Array.from({ length: DIMS }, (_, d) => factors[near * DIMS + d]! + (random() - 0.5) * 0.3),
    )
  })
  const lists = Math.ceil(Math.sqrt(items))
  const rows = [
    '| items | partitions | k-means trained on | k-means s | recall@10 nprobe 8 | recall@10 nprobe 16 | nprobe for recall@10 ≥ 0.95 |',
    '|---:|---:|---|---:|---:|---:|---:|',
  ]
  for (const [label, sample] of [
    ['64 items per partition', 64 * lists],
    ['256 items per partition (default)', 256 * lists],
    ['every item (full k-means)', items],
  ] as const) {
    const started = performance.now()
    const index = buildPartitions(factors, items, DIMS, { lists, seed: 1, sample })
    const seconds = (performance.now() - started) / 1000
    const lay = layoutPartitionLists(index, blocks)
    const at = (nprobe: number) => chooseNprobe(index, lay, blocks, users, { nprobe, kernel }).recall
    const chosen = chooseNprobe(index, lay, blocks, users, { kernel })
    rows.push(
      `| ${items.toLocaleString('en-US')} | ${lists} | ${label} (${Math.min(sample, items).toLocaleString('en-US')}) | ${seconds.toFixed(1)} | ${at(8).toFixed(3)} | ${at(16).toFixed(3)} | ${chosen.nprobe} (${chosen.recall.toFixed(3)}) |`,
    )
  }
  return rows
}

/** Options of {@link partitionBenchmark}. */
export interface PartitionBenchmarkOptions {
  items: number
  nprobes: readonly number[]
  /** k-means sample per partition (default 256, as the trainer). */
  samplePerList?: number
}

/**
 * Builds clustered items, their partitions and contiguous lists, and returns Markdown rows: per
 * nprobe, recall@10 and the median ms per query of the probed and the exact scan (same run).
 */
export async function partitionBenchmark(options: PartitionBenchmarkOptions): Promise<string[]> {
  const items = options.items
  const random = mulberry32(23)
  const factors = clusteredItems(items, random)
  const q = quantizeRows(factors, items, DIMS)
  const kernel = createInt8Kernel(
    { relaxed: bundledInt8KernelBytes().relaxed },
    { dims: DIMS, residentRows: items },
  )
  if (!(kernel instanceof WasmInt8Kernel)) throw new Error('This runtime does not run the Wasm kernels.')
  kernel.resident.set(q.values, 0)
  const blocks = [{ ...blockFromQuantized(q, 0), factors: kernel.resident.subarray(0, items * DIMS) }]
  const lists = Math.ceil(Math.sqrt(items))
  let started = performance.now()
  const index = buildPartitions(factors, items, DIMS, {
    lists,
    seed: 1,
    sample: (options.samplePerList ?? 256) * lists,
  })
  const buildSeconds = (performance.now() - started) / 1000
  const partitionLists = layoutPartitionLists(index, blocks)
  const users = Array.from({ length: QUERIES }, () => {
    const near = Math.floor(random() * items)
    return quantizeVector(
      Array.from({ length: DIMS }, (_, d) => factors[near * DIMS + d]! + (random() - 0.5) * 0.4),
    )
  })
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const rows: string[] = []
  for (const nprobe of options.nprobes) {
    const exactTimes: number[] = []
    const probedTimes: number[] = []
    let recall = 0
    for (const user of users) {
      started = performance.now()
      const exact = recommendTopK(user, blocks, K, undefined, kernel)
      exactTimes.push(performance.now() - started)
      started = performance.now()
      const probed = recommendTopKProbed(user, index, partitionLists, nprobe, K, undefined, kernel)
      probedTimes.push(performance.now() - started)
      recall += recallAtK(exact.indices, probed.indices)
    }
    const e = p50(exactTimes)
    const p = p50(probedTimes)
    rows.push(
      `| ${items.toLocaleString('en-US')} | ${lists} (k-means ${buildSeconds.toFixed(1)} s) | ${nprobe} | ${(recall / QUERIES).toFixed(3)} | ${p.toFixed(3)} | ${e.toFixed(3)} | ${(e / p).toFixed(1)}× |`,
    )
  }
  return rows
}

/** Header of the rows {@link partitionBenchmark} returns. */
export const PARTITION_BENCHMARK_HEADER = [
  '| items | partitions | nprobe | recall@10 vs exact | probed ms/query p50 (contiguous lists) | exact scan ms/query p50 (same run) | exact / probed |',
  '|---:|---:|---:|---:|---:|---:|---:|',
]

const argv = process.argv
if (argv[1]?.endsWith('partitions.ts')) {
  const at = argv.indexOf('--items')
  const items = at >= 0 ? Number(argv[at + 1]) : 100_000
  console.log(
    `${QUERIES} queries, K = ${K}, ${DIMS} dims, relaxed-SIMD kernel, Node ${process.version}, ${new Date().toISOString()}\n`,
  )
  if (argv.includes('--kmeans')) console.log(kmeansSampleBenchmark(items).join('\n'))
  else
    console.log(
      [...PARTITION_BENCHMARK_HEADER, ...(await partitionBenchmark({ items, nprobes: [4, 8, 16, 32] }))].join(
        '\n',
      ),
    )
}

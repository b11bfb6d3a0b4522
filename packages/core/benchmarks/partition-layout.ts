/**
 * Ranged reads per query of partitioned retrieval (issue 16), without `wrangler dev`: for the worker
 * benchmark's data (⌈√items⌉ heavily overlapping clusters × 64 dims, users near an item, same
 * generator and seeds as `npm run bench -w @edgerec/edge-worker -- --partitions`), each
 * partitioning — the generating clusters (random numbering), the trainer's k-means with and
 * without the bisection order, and fewer larger lists — gets its default nprobe by the trainer's
 * rule (recall@10 ≥ 0.95 measured on 200 users), then per query: the ranged reads and bytes the
 * worker issues with a cold cache for several `PARTITION_READ_GAP_KIB`, and per request with an
 * 8 MiB LRU list cache over 2,000 distinct users (gap 256 KiB). List sizes are the encoded lists'.
 *
 * `--spill 0.1,0.2` adds rows of the trainer's k-means with spilling (border items also in their
 * second-nearest list; 0.2 is the trainer's default since issue 16's p50 work; the other rows are
 * without it, as `buildPartitions` defaults).
 *
 *   npm run bench:partition-layout -w @edgerec/core [-- --items 1000000] [--lists 250,500] [--spill 0.1,0.2]
 *
 * @module
 */
import {
  blockFromQuantized,
  buildPartitions,
  bundledInt8KernelBytes,
  chooseNprobe,
  createInt8Kernel,
  dequantized,
  encodePartitionLists,
  layoutPartitionLists,
  type PartitionIndex,
  probePartitions,
  quantizeRows,
  quantizeVector,
  WasmInt8Kernel,
} from '../src/index.js'
import { mulberry32 } from '../src/random.test-support.js'

const argv = process.argv
const flag = (name: string): string | undefined =>
  argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined
const ITEMS = Number(flag('items') ?? 100_000)
const EXTRA_LISTS = (flag('lists') ?? '')
  .split(',')
  .filter((x) => x !== '')
  .map(Number)
const SPILLS = (flag('spill') ?? '')
  .split(',')
  .filter((x) => x !== '')
  .map(Number)
const DIMS = 64
const CLUSTERS = Math.ceil(Math.sqrt(ITEMS))
const GAPS_KIB = [0, 64, 256, 1024]
const WORKER_GAP = 256 * 1024
const CACHE_BYTES = 8 << 20
const STREAM = 2000

// The worker benchmark's generator (benchmarks/run.ts `clusteredFactors`, `usersNear`).
const random = mulberry32(2026)
const centres = Float32Array.from({ length: CLUSTERS * DIMS }, () => (random() - 0.5) * 0.4)
const factors = new Float32Array(ITEMS * DIMS)
const clusterOf = new Uint32Array(ITEMS)
for (let i = 0; i < ITEMS; i++) {
  const c = Math.floor(random() * CLUSTERS)
  clusterOf[i] = c
  for (let d = 0; d < DIMS; d++) factors[i * DIMS + d] = centres[c * DIMS + d]! + (random() - 0.5) * 0.5
}
const userNear = (r: () => number) => {
  const near = Math.floor(r() * ITEMS)
  return quantizeVector(Array.from({ length: DIMS }, (_, d) => factors[near * DIMS + d]! + (r() - 0.5) * 0.3))
}
const q = quantizeRows(factors, ITEMS, DIMS)
const kernel = createInt8Kernel(bundledInt8KernelBytes(), { dims: DIMS, residentRows: ITEMS })
if (!(kernel instanceof WasmInt8Kernel)) throw new Error('This runtime does not run the Wasm kernels.')
kernel.resident.set(q.values, 0)
const blocks = [{ ...blockFromQuantized(q, 0), factors: kernel.resident.subarray(0, ITEMS * DIMS) }]
const queryRandom = mulberry32(77)
const queries = Array.from({ length: 200 }, () => userNear(queryRandom))

function generatorIndex(): PartitionIndex {
  const sizes = new Uint32Array(CLUSTERS)
  const sums = new Float64Array(CLUSTERS * DIMS)
  for (let i = 0; i < ITEMS; i++) {
    sizes[clusterOf[i]!]!++
    for (let d = 0; d < DIMS; d++) sums[clusterOf[i]! * DIMS + d]! += factors[i * DIMS + d]!
  }
  const listOffsets = new Uint32Array(CLUSTERS + 1)
  for (let c = 0; c < CLUSTERS; c++) listOffsets[c + 1] = listOffsets[c]! + sizes[c]!
  const cursor = listOffsets.slice(0, CLUSTERS)
  const itemIndexes = new Uint32Array(ITEMS)
  for (let i = 0; i < ITEMS; i++) itemIndexes[cursor[clusterOf[i]!]!++] = i
  const centroids = Float32Array.from(sums, (v, j) => v / Math.max(1, sizes[Math.floor(j / DIMS)]!))
  return { lists: CLUSTERS, dims: DIMS, centroids, listOffsets, itemIndexes }
}

/** Reads and bytes of one query's missing lists, spans at most `gap` bytes apart. */
function reads(missing: number[], listBytes: Uint32Array, gap: number): { reads: number; bytes: number } {
  let count = 0
  let bytes = 0
  let end = -1
  for (const p of [...missing].sort((a, b) => a - b)) {
    if (end >= 0 && listBytes[p]! - end <= gap) bytes += listBytes[p + 1]! - end
    else {
      count++
      bytes += listBytes[p + 1]! - listBytes[p]!
    }
    end = listBytes[p + 1]!
  }
  return { reads: count, bytes }
}

async function row(name: string, index: PartitionIndex, seconds: number): Promise<string> {
  const lists = layoutPartitionLists(index, blocks)
  const { listBytes } = await encodePartitionLists(lists, DIMS)
  const { nprobe, recall } = chooseNprobe(index, lists, blocks, queries, { kernel })
  const cold = GAPS_KIB.map((kib) => {
    let r = 0
    let b = 0
    for (const u of queries) {
      const one = reads([...probePartitions(index, dequantized(u), nprobe)], listBytes, kib * 1024)
      r += one.reads
      b += one.bytes
    }
    return `${(r / queries.length).toFixed(1)} / ${(b / queries.length / 2 ** 20).toFixed(2)}`
  })
  // 8 MiB LRU over a stream of distinct users (Map order = recency).
  const lru = new Map<number, number>()
  let held = 0
  let streamReads = 0
  let streamBytes = 0
  const streamRandom = mulberry32(5)
  for (let k = 0; k < STREAM; k++) {
    const probes = [...probePartitions(index, dequantized(userNear(streamRandom)), nprobe)]
    const missing: number[] = []
    for (const p of probes) {
      const size = lru.get(p)
      if (size === undefined) missing.push(p)
      else {
        lru.delete(p)
        lru.set(p, size)
      }
    }
    const one = reads(missing, listBytes, WORKER_GAP)
    streamReads += one.reads
    streamBytes += one.bytes
    for (const p of missing) {
      const size = listBytes[p + 1]! - listBytes[p]!
      lru.set(p, size)
      held += size
      while (held > CACHE_BYTES) {
        const [oldest, bytes] = lru.entries().next().value!
        lru.delete(oldest)
        held -= bytes
      }
    }
  }
  return `| ${name} | ${index.lists} | ${seconds.toFixed(1)} | ${nprobe} | ${recall.toFixed(3)} | ${cold.join(' | ')} | ${(streamReads / STREAM).toFixed(1)} / ${(streamBytes / STREAM / 2 ** 20).toFixed(2)} |`
}

console.log(
  `${ITEMS.toLocaleString('en-US')} items × ${DIMS}, ${CLUSTERS} generating clusters, Node ${process.version}, ${new Date().toISOString()}\n`,
)
console.log(
  `| partitioning | lists | build s | default nprobe | recall@10 | ${GAPS_KIB.map((g) => `cold reads / MiB, gap ${g} KiB`).join(' | ')} | 8 MiB cache, 2,000 users: reads / MiB per request |`,
)
console.log(`|---|---:|---:|---:|---:|${GAPS_KIB.map(() => '---:|').join('')}---:|`)
console.log(await row('generating clusters (random numbering)', generatorIndex(), 0))
for (const [name, lists, order] of [
  ['trainer k-means, bisection order (default)', CLUSTERS, true],
  ['trainer k-means, k-means order', CLUSTERS, false],
  ...EXTRA_LISTS.map((n) => [`trainer k-means, ${n} lists`, n, true] as const),
] as const) {
  const started = performance.now()
  const index = buildPartitions(factors, ITEMS, DIMS, { lists, order })
  console.log(await row(name, index, (performance.now() - started) / 1000))
}
for (const spill of SPILLS) {
  const started = performance.now()
  const index = buildPartitions(factors, ITEMS, DIMS, { lists: CLUSTERS, spill })
  const entries = index.listOffsets[index.lists]! / ITEMS
  console.log(
    await row(
      `trainer k-means, bisection order, spill ${spill} (${entries.toFixed(2)} entries per item)`,
      index,
      (performance.now() - started) / 1000,
    ),
  )
}

/**
 * Benchmarks of `@edgerec/core`: int8 scoring + top-10 against a float32 baseline measured in the
 * same run, partitioned (probed) vs exact top-10 in the same run, shard decode/encode, and event
 * validation throughput.
 *
 *   npm run bench -w @edgerec/core            # all sizes (10k, 100k, 1M items × 64 dims)
 *   npm run bench -w @edgerec/core -- --quick # 10k and 100k only
 *   npm run bench -w @edgerec/core -- --float32 # only the float32 kernel section (100k × 64)
 *
 * Prints a Markdown report to stdout. Synthetic data, fixed seeds.
 *
 * @module
 */
import {
  blockFromQuantized,
  bundledFloat32KernelBytes,
  bundledInt8KernelBytes,
  createFloat32Kernel,
  createInt8Kernel,
  decodeShard,
  encodeShard,
  type Int8DotKernel,
  type ItemBlock,
  jsFloat32Kernel,
  planItemShards,
  quantizeRows,
  quantizeVector,
  recommendTopK,
  recommendTopKFloat32,
  topKFloat32,
  validateBatch,
  validateEvent,
  WasmFloat32Kernel,
  WasmInt8Kernel,
} from '../src/index.js'
import { mulberry32 } from '../src/random.test-support.js'
import { kmeansSampleBenchmark, PARTITION_BENCHMARK_HEADER, partitionBenchmark } from './partitions.js'

const DIMS = 64
const K = 10
const argv: readonly string[] = (globalThis as { process?: { argv: string[] } }).process?.argv ?? []
const quick = argv.includes('--quick')
const float32Only = argv.includes('--float32')

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns the per-run times in ms. */
async function time(fn: () => unknown, runs: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  return times
}

const fmt = (x: number, digits = 2) => x.toFixed(digits)
const fmtRate = (perSecond: number) =>
  perSecond >= 1e9
    ? `${fmt(perSecond / 1e9)} G`
    : perSecond >= 1e6
      ? `${fmt(perSecond / 1e6)} M`
      : `${fmt(perSecond / 1e3)} k`

/** Item factors like ALS output: Gaussian-ish, a few popular directions. */
function itemFactors(rows: number, seed: number): Float32Array {
  const random = mulberry32(seed)
  const out = new Float32Array(rows * DIMS)
  for (let i = 0; i < out.length; i++) out[i] = (random() + random() + random() - 1.5) * 0.2
  return out
}

/** Splits rows into item blocks the way the publisher splits shards (≤ 24 MiB each). */
function shardBlocks(factors: Float32Array, rows: number): ItemBlock[] {
  const ids = Array.from({ length: rows }, (_, i) => `item-${i}`)
  return planItemShards(ids, DIMS).map(({ start, end }) =>
    blockFromQuantized(quantizeRows(factors.subarray(start * DIMS, end * DIMS), end - start, DIMS), start),
  )
}

/**
 * The item blocks moved into a Wasm kernel's own memory (as the edge worker holds them): same
 * scales, factors as views into the kernel's resident rows.
 */
function residentBlocks(kernel: WasmInt8Kernel, blocks: readonly ItemBlock[]): ItemBlock[] {
  return blocks.map((block) => {
    const at = block.rowOffset * block.dims
    kernel.resident.set(block.factors.subarray(0, block.rowCount * block.dims), at)
    return { ...block, factors: kernel.resident.subarray(at, at + block.rowCount * block.dims) }
  })
}

async function scoringBenchmarks(): Promise<string[]> {
  const bytes = bundledInt8KernelBytes()
  const lines = [
    '| items | int8 Wasm relaxed-SIMD ms/query | int8 Wasm SIMD128 ms/query | int8 JS ms/query | float32 JS ms/query | relaxed items/s | float32 / relaxed time | int8 JS / relaxed time | same top-10 as int8 JS | top-10 agreement int8 vs float32 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]
  for (const rows of sizes) {
    const factors = itemFactors(rows, rows)
    const blocks = shardBlocks(factors, rows)
    const random = mulberry32(7)
    const queries = Array.from({ length: 8 }, () => Float32Array.from({ length: DIMS }, () => random() - 0.5))
    const quantized = queries.map((q) => quantizeVector(q))
    const exclude = new Set(Array.from({ length: 50 }, (_, i) => i * 7))
    const runs = rows >= 1_000_000 ? 7 : rows >= 100_000 ? 21 : 61
    const kernels: { kernel: Int8DotKernel; blocks: ItemBlock[] }[] = []
    for (const source of [{ relaxed: bytes.relaxed }, { simd: bytes.simd }]) {
      const kernel = createInt8Kernel(source, { dims: DIMS, residentRows: rows })
      if (!(kernel instanceof WasmInt8Kernel)) throw new Error('This runtime does not run the Wasm kernels.')
      kernels.push({ kernel, blocks: residentBlocks(kernel, blocks) })
    }
    // Interleaved rounds so that load from other processes hits every variant alike.
    const times: number[][] = [[], [], [], []]
    const fns = [
      (i: number) => recommendTopK(quantized[i % 8]!, kernels[0]!.blocks, K, exclude, kernels[0]!.kernel),
      (i: number) => recommendTopK(quantized[i % 8]!, kernels[1]!.blocks, K, exclude, kernels[1]!.kernel),
      (i: number) => recommendTopK(quantized[i % 8]!, blocks, K, exclude),
      (i: number) => recommendTopKFloat32(queries[i % 8]!, factors, rows, DIMS, K, exclude),
    ]
    for (let warm = 0; warm < 3; warm++) for (const fn of fns) fn(warm)
    for (let run = 0; run < runs; run++) {
      fns.forEach((fn, v) => {
        const start = performance.now()
        fn(run)
        times[v]!.push(performance.now() - start)
      })
    }
    let same = 0
    let agree = 0
    for (let i = 0; i < queries.length; i++) {
      const js = recommendTopK(quantized[i]!, blocks, K, exclude)
      const wasm = recommendTopK(quantized[i]!, kernels[0]!.blocks, K, exclude, kernels[0]!.kernel)
      if (js.indices.every((x, r) => wasm.indices[r] === x && js.scores[r] === wasm.scores[r])) same++
      const b = new Set(recommendTopKFloat32(queries[i]!, factors, rows, DIMS, K, exclude).indices)
      for (const x of js.indices) if (b.has(x)) agree++
    }
    const [relaxed, simd, js, f32] = times.map(median) as [number, number, number, number]
    lines.push(
      `| ${rows.toLocaleString('en-US')} | ${fmt(relaxed, 3)} | ${fmt(simd, 3)} | ${fmt(js, 3)} | ${fmt(f32, 3)} | ${fmtRate((rows / relaxed) * 1000)} | ${fmt(f32 / relaxed)}× | ${fmt(js / relaxed)}× | ${same}/${queries.length} |  ${fmt((100 * agree) / (queries.length * K), 1)} % |`,
    )
  }
  return lines
}

/**
 * Float32 top-K over resident items (what the trainer's evaluation ranks): the Wasm SIMD128 float32
 * kernel vs the JS float32 kernel (the scalar loop evaluation ran before), both through
 * `topKFloat32`, interleaved in the same run; agreement = share of the JS top-10 the Wasm top-10 holds.
 */
async function float32KernelBenchmarks(): Promise<string[]> {
  const lines = [
    '| items × dims | float32 Wasm SIMD ms/query | float32 JS ms/query | JS / Wasm time | Wasm items/s | top-10 overlap Wasm vs JS | load average (1 min) |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ]
  const os = (await import('node:os').catch(() => undefined)) as { loadavg(): number[] } | undefined
  const load = () => (os ? os.loadavg()[0]!.toFixed(1) : 'n/a')
  const rows = 100_000
  const loadBefore = load()
  const factors = itemFactors(rows, rows)
  const wasm = createFloat32Kernel(bundledFloat32KernelBytes(), { dims: DIMS, residentRows: rows })
  if (!(wasm instanceof WasmFloat32Kernel))
    throw new Error('This runtime does not run the float32 Wasm kernel.')
  wasm.resident.set(factors)
  const js = jsFloat32Kernel()
  const random = mulberry32(9)
  const queries = Array.from({ length: 8 }, () => Float32Array.from({ length: DIMS }, () => random() - 0.5))
  const exclude = new Set(Array.from({ length: 50 }, (_, i) => i * 7))
  const fns = [
    (i: number) => topKFloat32(wasm, queries[i % 8]!, wasm.resident, rows, DIMS, K, exclude),
    (i: number) => topKFloat32(js, queries[i % 8]!, factors, rows, DIMS, K, exclude),
  ]
  const times: number[][] = [[], []]
  for (let warm = 0; warm < 3; warm++) for (const fn of fns) fn(warm)
  for (let run = 0; run < 31; run++) {
    fns.forEach((fn, v) => {
      const start = performance.now()
      fn(run)
      times[v]!.push(performance.now() - start)
    })
  }
  let agree = 0
  for (let i = 0; i < queries.length; i++) {
    const b = new Set(fns[1]!(i).indices)
    for (const x of fns[0]!(i).indices) if (b.has(x)) agree++
  }
  const [w, j] = times.map(median) as [number, number]
  lines.push(
    `| ${rows.toLocaleString('en-US')} × ${DIMS} | ${fmt(w, 3)} | ${fmt(j, 3)} | ${fmt(j / w)}× | ${fmtRate((rows / w) * 1000)} | ${fmt((100 * agree) / (queries.length * K), 1)} % | ${loadBefore} → ${load()} |`,
  )
  return lines
}

async function shardBenchmarks(): Promise<string[]> {
  const rows = 100_000
  const factors = quantizeRows(itemFactors(rows, 3), rows, DIMS)
  const ids = Array.from({ length: rows }, (_, i) => `item-${i}`)
  const input = { kind: 'items' as const, factors, ids }
  const encodeTimes = await time(() => encodeShard(input), 9, 1)
  const { bytes } = await encodeShard(input)
  const verified = await time(() => decodeShard(bytes), 15)
  const unverified = await time(() => decodeShard(bytes, { verifyChecksum: false }), 15)
  const hashOnly = await time(
    () => crypto.subtle.digest('SHA-256', bytes.subarray(0, bytes.length - 32) as Uint8Array<ArrayBuffer>),
    15,
  )
  const mib = bytes.length / 2 ** 20
  return [
    `Item shard: ${rows.toLocaleString('en-US')} rows × ${DIMS} dims, ${fmt(mib)} MiB.`,
    '',
    '| operation | median ms | throughput |',
    '|---|---:|---:|',
    `| encode (incl. norms, id table, SHA-256) | ${fmt(median(encodeTimes))} | ${fmt(mib / (median(encodeTimes) / 1000))} MiB/s |`,
    `| decode, checksum verified | ${fmt(median(verified))} | ${fmt(mib / (median(verified) / 1000))} MiB/s |`,
    `| decode, checksum skipped | ${fmt(median(unverified), 3)} | ${fmt(mib / (median(unverified) / 1000))} MiB/s |`,
    `| SHA-256 alone (crypto.subtle) | ${fmt(median(hashOnly))} | ${fmt(mib / (median(hashOnly) / 1000))} MiB/s |`,
  ]
}

async function validationBenchmarks(): Promise<string[]> {
  const now = Date.now()
  const random = mulberry32(5)
  const valid = Array.from({ length: 10_000 }, (_, i) => ({
    id: `6f1c2a4e-0b1d-4c7e-9a51-${String(i).padStart(12, '0')}`,
    userId: `user-${Math.floor(random() * 1e6)}`,
    itemId: `sku:${Math.floor(random() * 1e5)}`,
    type: i % 3 === 0 ? 'purchase' : 'view',
    value: i % 5,
    timestamp: i % 2 ? now - 1000 : new Date(now - 1000).toISOString(),
    context: { page: '/products/42', price: 19.99, mobile: true },
  }))
  const invalid = valid.map((e, i) => ({
    ...e,
    id: i % 2 ? 'has space' : e.id,
    itemId: i % 3 ? e.itemId : '',
    timestamp: i % 4 ? 1_700_000_000 : e.timestamp,
    extra: 1,
  }))
  const run = (events: unknown[]) => () => {
    let ok = 0
    for (const e of events) if (validateEvent(e, { now }).ok) ok++
    return ok
  }
  const validTimes = await time(run(valid), 15)
  const invalidTimes = await time(run(invalid), 15)
  const batches = Array.from({ length: 20 }, (_, b) => ({ events: valid.slice(b * 500, b * 500 + 500) }))
  const batchTimes = await time(() => {
    for (const batch of batches) validateBatch(batch, { now })
  }, 15)
  const rate = (ms: number) => `${fmtRate((10_000 / ms) * 1000)} events/s`
  return [
    '| input | median ms per 10,000 events | throughput |',
    '|---|---:|---:|',
    `| valid events (validateEvent) | ${fmt(median(validTimes))} | ${rate(median(validTimes))} |`,
    `| invalid events, 2–4 errors each (validateEvent) | ${fmt(median(invalidTimes))} | ${rate(median(invalidTimes))} |`,
    `| valid events in batches of 500 (validateBatch) | ${fmt(median(batchTimes))} | ${rate(median(batchTimes))} |`,
  ]
}

const nodeVersion = (globalThis as { process?: { version: string } }).process?.version ?? 'unknown'
console.log(`# @edgerec/core benchmarks\n\nnode ${nodeVersion}, ${new Date().toISOString()}\n`)
const FLOAT32_HEADER = `## Float32 top-${K} over resident items (${DIMS} dims, 50 excluded items; topKFloat32 with the Wasm SIMD128 float32 kernel vs the JS float32 kernel, interleaved, median per query)\n`
if (float32Only) {
  console.log(FLOAT32_HEADER)
  console.log((await float32KernelBenchmarks()).join('\n'))
  ;(globalThis as { process?: { exit(code: number): never } }).process?.exit(0)
}
console.log(
  `## Scoring + top-${K} (${DIMS} dims, 50 excluded items; recommendTopK with the Wasm kernels and the JS kernel vs float32 recommendTopKFloat32, interleaved, median per query)\n`,
)
console.log((await scoringBenchmarks()).join('\n'))
console.log(`\n${FLOAT32_HEADER}`)
console.log((await float32KernelBenchmarks()).join('\n'))
console.log('\n## Shard encode / decode\n')
console.log((await shardBenchmarks()).join('\n'))
console.log('\n## Event validation\n')
console.log((await validationBenchmarks()).join('\n'))
console.log(
  `\n## Partitioned retrieval: probed (contiguous lists, one kernel call per list) vs exact scan (${DIMS} dims, clustered items, relaxed-SIMD kernel, median per query)\n`,
)
const partitionRows = [...PARTITION_BENCHMARK_HEADER]
for (const items of quick ? [100_000] : [100_000, 1_000_000])
  partitionRows.push(...(await partitionBenchmark({ items, nprobes: [8, 16, 32] })))
console.log(partitionRows.join('\n'))
console.log('\n## k-means on a sample (the trainer default) vs on every item\n')
console.log(kmeansSampleBenchmark(100_000).join('\n'))

/**
 * Evaluation ranking time (issue 18, "Measured outcomes"): the same model's test users ranked on
 * the main thread (how evaluation ran before) and on worker threads (now), in the same run, on
 * generated data of each size in `--events`. Both rank top-50 float32 and int8 lists (what
 * `evaluate` ranks: K up to 50) and must produce identical lists. A third run ranks on the worker
 * threads with the float32 half on core's JS float32 kernel (the scalar float64-sum loop, with
 * core's threshold check before the top-K push): its time, ndcg@10 and top-K overlap against the
 * Wasm lists.
 *
 * Ranking costs test users × items × factors multiply-adds per list, so at 5M events (≈160k test
 * users × 100k items) a full single-threaded pass takes tens of minutes; `--sample-users N` ranks
 * N test users evenly spaced over all of them (both ways, the same users) and also prints the
 * time scaled to every test user (ranking time is linear in users). `--sample-users 0` ranks all.
 * ALS is trained with `--iterations` (default 3): ranking time does not depend on model quality.
 *
 * Usage: tsx benchmarks/quality/evaluation.ts [--events 1000000,5000000] [--sample-users 4000]
 *        [--threads N] [--iterations 3]
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { trainAls } from '../../src/als/index.js'
import { rankingMetrics, splitTemporal } from '../../src/evaluation/index.js'
import { rankAll } from '../../src/evaluation/rank.js'
import { writeGeneratedData } from '../../src/generate/index.js'
import { loadFromConfig } from '../../src/train.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000,5000000' },
    'sample-users': { type: 'string', default: '4000' },
    threads: { type: 'string' },
    iterations: { type: 'string', default: '3' },
  },
})
const threads = Number(values.threads ?? availableParallelism())
const sample = Number(values['sample-users'])
const K = 50
const load = (): string => loadavg()[0]!.toFixed(1)
const fmt = (n: number): string => n.toLocaleString('en-US')

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load average at start ${load()}`,
)
console.log(
  '\n| events | users × items | test users (ranked) | main thread | ' +
    `${threads} worker threads | speed-up | all test users, main → threads (scaled) | identical lists | ` +
    `${threads} threads, float32 JS kernel | float32 kernel speed-up | float32 ndcg@10 JS → Wasm | float32 top-${K} overlap | load average |`,
)
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|')

const dir = await mkdtemp(join(tmpdir(), 'edgerec-eval-bench-'))
try {
  for (const events of values.events!.split(',').map(Number)) {
    const path = join(dir, `events-${events}.ndjson`)
    await writeGeneratedData({ events, seed: 12 }, { path })
    const data = (await loadFromConfig({ events: { kind: 'ndjson', path } })).data.matrix
    await rm(path, { force: true })
    const { train, test } = splitTemporal(data, 0.2)
    const model = await trainAls(train, { threads, iterations: Number(values.iterations) })
    const testUsers: number[] = []
    for (let u = 0; u < test.rows; u++) if (test.indptr[u + 1]! > test.indptr[u]!) testUsers.push(u)
    const ranked = sample > 0 && sample < testUsers.length ? sample : testUsers.length
    const selected = new Uint8Array(test.rows)
    // Evenly spaced test users, the same ones both ways.
    for (let s = 0; s < ranked; s++) selected[testUsers[Math.floor((s * testUsers.length) / ranked)]!] = 1
    const loadBefore = load()
    const timed = async (n: number, float32Kernel: 'wasm' | 'js' = 'wasm') => {
      const started = performance.now()
      const lists = await rankAll(model, train, selected, K, { threads: n, float32Kernel })
      return { seconds: (performance.now() - started) / 1000, lists }
    }
    const inline = await timed(1)
    const pooled = await timed(threads)
    const scalar = await timed(threads, 'js')
    let identical = true
    for (let u = 0; u < test.rows && identical; u++) {
      if (selected[u] !== 1) continue
      const pairs = [
        [inline.lists.float32(u), pooled.lists.float32(u)],
        [inline.lists.int8(u), pooled.lists.int8(u)],
      ] as const
      for (const [a, b] of pairs) identical &&= a.length === b.length && a.every((v, i) => v === b[i])
    }
    const only = (lists: (u: number) => Uint32Array) => (u: number) =>
      selected[u] === 1 ? lists(u) : new Uint32Array(0)
    identical &&=
      rankingMetrics(test, 10, only(inline.lists.float32)).ndcg ===
      rankingMetrics(test, 10, only(pooled.lists.float32)).ndcg
    // The float32 kernel vs the scalar loop: same metric to 4 decimals, overlap of the top-K lists.
    const ndcgJs = rankingMetrics(test, 10, only(scalar.lists.float32)).ndcg
    const ndcgWasm = rankingMetrics(test, 10, only(pooled.lists.float32)).ndcg
    let shared = 0
    let total = 0
    for (let u = 0; u < test.rows; u++) {
      if (selected[u] !== 1) continue
      const b = new Set(scalar.lists.float32(u))
      for (const i of pooled.lists.float32(u)) if (b.has(i)) shared++
      total += b.size
    }
    const scale = testUsers.length / ranked
    console.log(
      `| ${fmt(events)} | ${fmt(data.rows)} × ${fmt(data.cols)} | ${fmt(testUsers.length)} (${fmt(ranked)}) | ` +
        `${inline.seconds.toFixed(1)} s | ${pooled.seconds.toFixed(1)} s | ${(inline.seconds / pooled.seconds).toFixed(2)}× | ` +
        `${(inline.seconds * scale).toFixed(0)} s → ${(pooled.seconds * scale).toFixed(0)} s | ${identical} | ` +
        `${scalar.seconds.toFixed(1)} s | ${(scalar.seconds / pooled.seconds).toFixed(2)}× | ${ndcgJs.toFixed(4)} → ${ndcgWasm.toFixed(4)} | ` +
        `${total > 0 ? (shared / total).toFixed(4) : 'n/a'} | ${loadBefore} → ${load()} |`,
    )
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(
  `\nALS 64 factors, ${values.iterations} iterations; top-${K} float32 and int8 lists per user, train items excluded. Load average at the end ${load()} (other processes slow every figure down).`,
)

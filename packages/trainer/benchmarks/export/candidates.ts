/**
 * Cost of the precomputed candidates (issue 16, `export.candidates`): the same partitioned model
 * exported in the same run with `candidates: 0` (the baseline) and with the default (50 per user,
 * probed scan at 4 × nprobe) on one thread and on `--threads` (default: every core), through
 * `exportModel` into memory: seconds of each export, the candidates' own seconds
 * (`candidateSeconds`: their recall measurement and every bucket's scans) and µs per user, the
 * user buckets' count and bytes, and the recall@10 both record.
 *
 * Synthetic model with fixed seeds: `--items` × `--dims` float item factors around 200 centres,
 * `--users` users whose vector is the mean of `--tastes` random items' factors plus noise (tastes
 * spanning clusters, so the probe needs several partitions), with `--per-user` interactions: those
 * items and random ones. `--candidates N` sets the per-user count of the other exports.
 *
 * Usage: npm run bench:candidates -w @edgerec/trainer -- [--items 100000] [--users 20000] [--dims 64]
 *        [--per-user 5] [--tastes 3] [--candidates 50] [--threads N]
 *
 * @module
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { mulberry32 } from '@edgerec/core'
import type { AlsModel } from '../../src/als/index.js'
import { csrFromTriples, type InteractionMatrix } from '../../src/data/matrix.js'
import { exportModel, MemoryStorage } from '../../src/export/index.js'
import { itemCounts } from '../../src/popularity/index.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '100000' },
    users: { type: 'string', default: '20000' },
    dims: { type: 'string', default: '64' },
    'per-user': { type: 'string', default: '5' },
    tastes: { type: 'string', default: '3' },
    candidates: { type: 'string', default: '50' },
    threads: { type: 'string', default: String(availableParallelism()) },
  },
})
const items = Number(values.items)
const users = Number(values.users)
const dims = Number(values.dims)
const perUser = Number(values['per-user'])
const tastes = Math.min(perUser, Number(values.tastes))
const candidates = Number(values.candidates)
const threads = Number(values.threads)

/** The synthetic model and the interactions it was "trained" on. */
function syntheticModel(): { model: AlsModel; data: InteractionMatrix } {
  const random = mulberry32(23)
  const centres = Float32Array.from({ length: 200 * dims }, () => (random() - 0.5) * 2)
  const itemFactors = new Float32Array(items * dims)
  for (let i = 0; i < items; i++) {
    const c = Math.floor(random() * 200)
    for (let d = 0; d < dims; d++) itemFactors[i * dims + d] = centres[c * dims + d]! + (random() - 0.5) * 0.6
  }
  const userFactors = new Float32Array(users * dims)
  const rows: number[] = []
  const cols: number[] = []
  for (let u = 0; u < users; u++) {
    // x_u: the mean of `tastes` random items' factors plus noise; the user interacted with them.
    const liked = Array.from({ length: tastes }, () => Math.floor(random() * items))
    for (let d = 0; d < dims; d++) {
      let sum = 0
      for (const i of liked) sum += itemFactors[i * dims + d]!
      userFactors[u * dims + d] = sum / tastes + (random() - 0.5) * 0.4
    }
    for (let k = 0; k < perUser; k++) {
      rows.push(u)
      cols.push(k < tastes ? liked[k]! : Math.floor(random() * items))
    }
  }
  const matrix = csrFromTriples(users, items, rows, cols, new Float32Array(rows.length).fill(1))
  return {
    model: { users, items, factors: dims, userFactors, itemFactors },
    data: {
      matrix,
      userIds: Array.from({ length: users }, (_, u) => `user-${u}`),
      itemIds: Array.from({ length: items }, (_, i) => `item-${i}`),
      trainedUntil: 0,
    },
  }
}

const { model, data } = syntheticModel()
const input = {
  model,
  data,
  als: {
    factors: dims,
    regularization: 0.05,
    alpha: 2,
    iterations: 1,
    cgSteps: 3,
    solver: 'cg' as const,
    seed: 1,
  },
  eventWeights: { view: 1 },
  popularity: itemCounts(data.matrix),
}
console.log(
  `${items.toLocaleString('en-US')} items × ${dims} dims, ${users.toLocaleString('en-US')} users × ${perUser} interactions (${tastes} tastes); ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}, ${new Date().toISOString()}\n`,
)
console.log(
  '| export | seconds | candidates s | µs / user | user buckets | user bytes | nprobe (candidates) | recall@10 (serving / candidates) |',
)
console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
const runs: [number, number][] = [
  [0, 1],
  [candidates, 1],
  ...(threads > 1 ? ([[candidates, threads]] as [number, number][]) : []),
]
for (const [perUserCandidates, runThreads] of runs) {
  const storage = new MemoryStorage()
  const started = performance.now()
  const result = await exportModel(input, {
    storage,
    version: `bench-${perUserCandidates}-${runThreads}`,
    partitions: { minItems: 1 },
    candidates: perUserCandidates,
    threads: runThreads,
  })
  const seconds = (performance.now() - started) / 1000
  const m = result.manifest
  const userBytes = m.shards.users.reduce((sum, ref) => sum + ref.bytes, 0)
  const c = m.candidates
  console.log(
    `| ${perUserCandidates === 0 ? 'candidates: 0 (baseline)' : `candidates: ${perUserCandidates}, ${runThreads} thread${runThreads > 1 ? 's' : ''}`} | ${seconds.toFixed(1)} | ${result.candidateSeconds?.toFixed(1) ?? '—'} | ${result.candidateSeconds !== undefined ? ((result.candidateSeconds * 1e6) / users).toFixed(0) : '—'} | ${m.userBuckets} | ${(userBytes / 1048576).toFixed(1)} MiB | ${m.partitions!.nprobe} (${c?.nprobe ?? '—'}) | ${m.partitions!.recall.value.toFixed(3)} / ${c?.recall?.value.toFixed(3) ?? '—'} |`,
  )
}

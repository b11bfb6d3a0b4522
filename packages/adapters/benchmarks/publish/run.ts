/**
 * Time to publish a 100k-item × 64-dim model end to end into the embedded default target (the local
 * KV/R2 state `wrangler dev` serves), against a baseline measured in the same run: writing the same
 * bytes with `fs.writeFile` to a temp folder, the floor for moving them on this disk.
 *
 *   npx tsx benchmarks/publish/run.ts [--items 100000] [--dims 64] [--users 50000] [--runs 5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { manifestShards } from '@edgerec/core'
import { openLocalPublishTarget } from '../../src/publish/local.js'
import { publishVersion } from '../../src/publish/publisher.js'
import { MemoryStorage } from '../../test/publish/memory-storage.js'
import { writeSyntheticVersion } from '../../test/publish/synthetic-model.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '100000' },
    dims: { type: 'string', default: '64' },
    users: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '5' },
  },
})
const items = Number(values.items)
const dims = Number(values.dims)
const users = Number(values.users)
const runs = Number(values.runs)

const dir = mkdtempSync(join(tmpdir(), 'edgerec-bench-publish-'))
const workerConfig = join(dir, 'wrangler.jsonc')
writeFileSync(
  workerConfig,
  JSON.stringify({
    name: 'edgerec-bench',
    main: resolve(import.meta.dirname, '../../test/publish/fixtures/reader-worker.ts'),
    compatibility_date: '2026-11-01',
    kv_namespaces: [{ binding: 'MODELS_KV', id: 'edgerec-models' }],
    r2_buckets: [{ binding: 'MODELS_R2', bucket_name: 'edgerec-models' }],
  }),
)

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const mib = (bytes: number): number => bytes / 1024 / 1024

try {
  const source = new MemoryStorage()
  const buildStart = performance.now()
  const manifest = await writeSyntheticVersion(source, {
    version: 'bench-1',
    items,
    users,
    dims,
    userBuckets: Math.max(1, Math.ceil(users / 10_000)),
  })
  const buildMs = performance.now() - buildStart
  const refs = manifestShards(manifest)
  const bytes = refs.reduce((sum, ref) => sum + ref.bytes, 0)
  console.log(
    `model: ${items} items × ${dims} dims, ${users} users, ${refs.length} shards, ${mib(bytes).toFixed(1)} MiB (built in ${buildMs.toFixed(0)} ms)`,
  )

  const baseline: number[] = []
  const publish: number[] = []
  const open: number[] = []
  const total: number[] = []
  for (let run = 0; run < runs; run++) {
    const copyDir = join(dir, `copy-${run}`)
    const t0 = performance.now()
    for (const ref of refs) {
      const path = join(copyDir, ref.key)
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, (await source.get(ref.key))!)
    }
    baseline.push(performance.now() - t0)

    const t1 = performance.now()
    const target = await openLocalPublishTarget({ workerConfig, persistTo: join(dir, `state-${run}`) })
    const t2 = performance.now()
    const report = await publishVersion({ source, version: 'bench-1', target })
    const t3 = performance.now()
    await target.close()
    const t4 = performance.now()
    open.push(t2 - t1)
    publish.push(t3 - t2)
    total.push(t4 - t1)
    if (report.pointer.version !== 'bench-1') throw new Error('publish did not flip the pointer')
  }
  const row = (name: string, ms: number[], rate = true) =>
    console.log(
      `${name.padEnd(38)} median ${median(ms).toFixed(0).padStart(6)} ms  (${ms.map((m) => m.toFixed(0)).join(', ')})` +
        (rate ? `  ${(mib(bytes) / (median(ms) / 1000)).toFixed(1)} MiB/s` : ''),
    )
  console.log(`node ${process.version}, ${runs} runs`)
  row('baseline fs.writeFile copy', baseline)
  row('publishVersion (shards+manifest+ptr)', publish)
  row('open target (getPlatformProxy)', open, false)
  row('end to end (open+publish+close)', total)
  console.log(`ratio publish / baseline: ${(median(publish) / median(baseline)).toFixed(1)}×`)
  console.log(`ratio end to end / baseline: ${(median(total) / median(baseline)).toFixed(1)}×`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}

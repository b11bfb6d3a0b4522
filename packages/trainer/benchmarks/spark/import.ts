/**
 * Import of Spark-format ALS factors into int8 shards (issue 14): an `ALSModel.save()` layout with
 * `--items` × `--dims` item factors (default 1M × 64) in 8 Parquet part files of Spark's schema
 * (`id: int`, `features: array<float>`, written with hyparquet-writer), `--users` user factors and a
 * few interactions per user, imported exactly as `edgerec-train import-factors` does
 * (`importSparkFactors`, then `exportModel` into a local registry; partitioned retrieval off, so the
 * figure is the import + int8 export and not the k-means of issue 16).
 *
 * Baselines measured in the same run on the same machine: reading the same factors as one raw
 * float32 file (`fs.readFile` of `items × dims × 4` bytes: the floor of any import), and
 * `exportModel` of the same factors already in memory (the int8 export alone).
 *
 * `--compare` (before/after, same run): after writing the fixture, the import alone (no export) runs
 * in a fresh process per mode on the same files: `old` (the object reader: each part file read
 * whole, `parquetReadObjects`, one JS array per row; `src/spark/import-objects.test-helpers.ts`),
 * `chunk` (the page reader with each column chunk fetched whole, a row group's ids decoded before
 * its features, interactions as triples then `csrFromTriples`;
 * `src/spark/import-chunks.test-helpers.ts`) and `new` (`importSparkFactors`: each chunk streamed
 * in 4 MiB ranged reads, page by page, interactions straight into CSR). Each reports its seconds
 * and the kernel's peak RSS of the process (`process.resourceUsage().maxRSS`), and the factors
 * and interactions of all are checked to be identical. `--repeat 2` runs the modes again in the
 * reverse order. `--modes chunk,new` picks modes.
 *
 * Fixture shape: `--parts` item part files, row groups of `--row-group-rows` rows (Spark writes
 * 128 MB row groups: `--parts 2 --row-group-rows 500000` gives one 128 MB row group per part at
 * 64 dims), `--per-user` interactions per user; `--unordered` writes the interactions shuffled (as
 * another writer may), which the import reads through its out-of-order path.
 *
 * Usage: npm run bench:import -w @edgerec/trainer -- [--items 1000000] [--dims 64] [--users 10000]
 *        [--per-user 5] [--unordered] [--parts 8] [--row-group-rows N] [--dir DIR] [--compare [--repeat 2] [--modes old,chunk,new]]
 *
 * @module
 */

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createStorage } from '@edgerec/adapters'
import { mulberry32 } from '@edgerec/core'
import type { AlsModel } from '../../src/als/index.js'
import { csrFromTriples } from '../../src/data/matrix.js'
import { exportModel } from '../../src/export/index.js'
import { itemCounts, trendingScores } from '../../src/popularity/index.js'
import { importSparkFactors } from '../../src/spark/import.js'
import { importSparkFactorsChunks } from '../../src/spark/import-chunks.test-helpers.js'
import { importSparkFactorsObjects } from '../../src/spark/import-objects.test-helpers.js'
import { writeSparkInputs } from '../../src/spark/inputs.js'
import { sparkFactorTableParquet, sparkModelMetadata } from '../../src/spark/spark-schema.js'

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '1000000' },
    dims: { type: 'string', default: '64' },
    users: { type: 'string', default: '10000' },
    parts: { type: 'string', default: '8' },
    'row-group-rows': { type: 'string' },
    'per-user': { type: 'string', default: '5' },
    modes: { type: 'string', default: 'old,chunk,new' },
    unordered: { type: 'boolean', default: false },
    dir: { type: 'string', default: join(tmpdir(), 'edgerec-spark-import-bench') },
    compare: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '1' },
    /** Internal: run one import of an existing fixture in this process and print its figures. */
    mode: { type: 'string' },
  },
})
const items = Number(values.items)
const dims = Number(values.dims)
const users = Number(values.users)
const parts = Number(values.parts)
const rowGroupRows = values['row-group-rows'] === undefined ? undefined : Number(values['row-group-rows'])
const perUser = Number(values['per-user'])
const modes = values.modes.split(',')
for (const mode of modes)
  if (!['old', 'chunk', 'new'].includes(mode))
    throw new Error(`--modes: unknown mode ${mode} (old, chunk, new)`)
const dir = values.dir

const MiB = 1024 * 1024
const seconds = (t0: number) => (performance.now() - t0) / 1000
let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 50)

async function dirBytes(path: string): Promise<number> {
  const { readdir } = await import('node:fs/promises')
  let total = 0
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}

/** What one `--mode` child prints (one JSON line). */
interface ModeResult {
  mode: string
  seconds: number
  maxRssMiB: number
  /** sha256 of the user and item factors and the CSR arrays: equal means identical imports. */
  digest: string
}

/** `--mode old|chunk|new`: imports the fixture under `dir` once, in this fresh process. */
async function runMode(mode: string): Promise<void> {
  const local = async (sub: string) => createStorage({ provider: 'local', root: join(dir, sub) })
  const factors = { storage: await local('model'), key: '' }
  const idMaps = { storage: await local('inputs'), key: '' }
  const t = performance.now()
  const interactions = { ...idMaps, key: 'interactions/' }
  const imported =
    mode === 'old'
      ? await importSparkFactorsObjects({ factors, idMaps, interactions })
      : mode === 'chunk'
        ? await importSparkFactorsChunks({ factors, idMaps, interactions })
        : await importSparkFactors({ factors, idMaps })
  const elapsed = seconds(t)
  const maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024)
  const hash = createHash('sha256')
  const { model, data } = imported
  for (const a of [
    model.userFactors,
    model.itemFactors,
    data.matrix.indptr,
    data.matrix.indices,
    data.matrix.values,
  ])
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  const result: ModeResult = {
    mode,
    seconds: Number(elapsed.toFixed(2)),
    maxRssMiB,
    digest: hash.digest('hex'),
  }
  console.log(JSON.stringify(result))
}

function child(mode: string): Promise<ModeResult> {
  const script = fileURLToPath(import.meta.url)
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, script, '--mode', mode, '--dir', dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    proc.on('error', reject)
    proc.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      if (code !== 0) reject(new Error(`--mode ${mode} exited with ${code}: ${out}`))
      else resolve(JSON.parse(line) as ModeResult)
    })
  })
}

const cap = (mode: string) => mode[0]!.toUpperCase() + mode.slice(1)

async function compare(): Promise<void> {
  const runs: ModeResult[] = []
  for (let r = 0; r < Number(values.repeat); r++)
    for (const mode of r % 2 === 0 ? modes : [...modes].reverse()) runs.push(await child(mode))
  const digests = new Set(runs.map((x) => x.digest))
  if (digests.size !== 1) throw new Error(`the imports differ: ${JSON.stringify(runs)}`)
  const best = (mode: string, key: 'seconds' | 'maxRssMiB') =>
    Math.min(...runs.filter((x) => x.mode === mode).map((x) => x[key]))
  const report = {
    machine: { cpus: cpus().length, loadavg: loadavg().map((x) => Number(x.toFixed(2))) },
    items,
    dims,
    users,
    parquetParts: parts,
    rowGroupRows: rowGroupRows ?? 'hyparquet-writer default (1,000 then 100,000)',
    interactions: users * perUser,
    interactionsOrder: values.unordered ? 'shuffled' : 'as staged (CSR order)',
    runs,
    identical: true,
    ratios: Object.fromEntries(
      modes
        .filter((mode) => mode !== 'new' && modes.includes('new'))
        .flatMap((mode) => [
          [`newVs${cap(mode)}Seconds`, Number((best('new', 'seconds') / best(mode, 'seconds')).toFixed(3))],
          [
            `newVs${cap(mode)}PeakRss`,
            Number((best('new', 'maxRssMiB') / best(mode, 'maxRssMiB')).toFixed(3)),
          ],
        ]),
    ),
  }
  console.log(JSON.stringify(report, null, 2))
  console.log(
    `\nSpark import of ${items.toLocaleString('en-US')} × ${dims} item factors + ${users.toLocaleString('en-US')} users + ` +
      `${(users * perUser).toLocaleString('en-US')} interactions, read only (no export), fresh process each, best of ${values.repeat}: ` +
      modes
        .map((mode) => `${mode} ${best(mode, 'seconds')} s / peak RSS ${best(mode, 'maxRssMiB')} MiB`)
        .join('; ') +
      ' (identical factors and interactions).',
  )
}

async function main(): Promise<void> {
  if (values.mode !== undefined) {
    await runMode(values.mode)
    clearInterval(sampler)
    return
  }
  await rm(dir, { recursive: true, force: true })
  const save = join(dir, 'model')
  const random = mulberry32(14)
  const gaussian = () => (random() + random() + random() - 1.5) * 0.2

  // --- Fixture (not timed): a Spark save, id maps, params and interactions. ---
  const t0 = performance.now()
  for (const sub of ['metadata', 'userFactors', 'itemFactors'])
    await mkdir(join(save, sub), { recursive: true })
  await writeFile(join(save, 'metadata', 'part-00000'), sparkModelMetadata(dims))
  const itemFactors = new Float32Array(items * dims)
  for (let k = 0; k < itemFactors.length; k++) itemFactors[k] = gaussian()
  const per = Math.ceil(items / parts)
  for (let p = 0; p < parts; p++) {
    const start = p * per
    const end = Math.min(items, start + per)
    const ids = new Int32Array(end - start)
    for (let r = 0; r < ids.length; r++) ids[r] = start + r
    await writeFile(
      join(save, 'itemFactors', `part-${String(p).padStart(5, '0')}-bench.snappy.parquet`),
      sparkFactorTableParquet(
        ids,
        itemFactors.subarray(start * dims, end * dims),
        dims,
        rowGroupRows === undefined ? {} : { rowGroupRows },
      ),
    )
  }
  const userFactors = new Float32Array(users * dims)
  for (let k = 0; k < userFactors.length; k++) userFactors[k] = gaussian()
  await writeFile(
    join(save, 'userFactors', 'part-00000-bench.snappy.parquet'),
    sparkFactorTableParquet(
      Int32Array.from({ length: users }, (_, u) => u),
      userFactors,
      dims,
    ),
  )
  const u = new Int32Array(users * perUser)
  const i = new Int32Array(users * perUser)
  for (let k = 0; k < u.length; k++) {
    u[k] = Math.floor(k / perUser)
    i[k] = Math.floor(random() * items)
  }
  const matrix = csrFromTriples(users, items, u, i, new Float32Array(u.length).fill(1))
  const userIds = Array.from({ length: users }, (_, k) => `u${k}`)
  const itemIds = Array.from({ length: items }, (_, k) => `item-${k}`)
  const trainedUntil = Date.UTC(2026, 11, 1)
  await writeSparkInputs(
    await createStorage({ provider: 'local', root: join(dir, 'inputs') }),
    '',
    { matrix, userIds, itemIds, trainedUntil },
    {
      als: {
        factors: dims,
        regularization: 0.05,
        alpha: 2,
        iterations: 10,
        cgSteps: 3,
        solver: 'cg',
        seed: 42,
      },
      eventWeights: { view: 1 },
      trainedUntil,
    },
  )
  if (values.unordered) {
    // Interactions as another writer may leave them: the generated pairs shuffled (duplicates kept),
    // in part files of 1,000,000 rows; the import then takes its out-of-order path.
    const { parquetWriteBuffer } = await import('hyparquet-writer')
    const interactions = join(dir, 'inputs', 'interactions')
    await rm(interactions, { recursive: true, force: true })
    await mkdir(interactions, { recursive: true })
    const order = Uint32Array.from({ length: u.length }, (_, k) => k)
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1))
      const swap = order[k]!
      order[k] = order[j]!
      order[j] = swap
    }
    for (let start = 0, p = 0; start < order.length; start += 1_000_000, p++) {
      const slice = order.subarray(start, Math.min(order.length, start + 1_000_000))
      await writeFile(
        join(interactions, `part-${String(p).padStart(5, '0')}-c000.snappy.parquet`),
        new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              { name: 'user', data: Int32Array.from(slice, (k) => u[k]!), type: 'INT32', nullable: false },
              { name: 'item', data: Int32Array.from(slice, (k) => i[k]!), type: 'INT32', nullable: false },
              {
                name: 'rating',
                data: new Float32Array(slice.length).fill(1),
                type: 'FLOAT',
                nullable: false,
              },
            ],
          }),
        ),
      )
    }
  }
  const raw = join(dir, 'item-factors.f32')
  await writeFile(raw, new Uint8Array(itemFactors.buffer))
  const fixtureSeconds = seconds(t0)
  const parquetBytes = await dirBytes(join(save, 'itemFactors'))
  if (values.compare) {
    clearInterval(sampler)
    console.log(
      `fixture written in ${fixtureSeconds.toFixed(1)} s (${(parquetBytes / MiB).toFixed(1)} MiB item factors Parquet)`,
    )
    await compare()
    await rm(dir, { recursive: true, force: true })
    return
  }

  // --- Baseline 1: the same item factors as one raw float32 file. ---
  let t = performance.now()
  const rawBytes = (await readFile(raw)).byteLength
  const rawRead = seconds(t)

  // --- The import, as edgerec-train import-factors runs it. ---
  peakRss = process.memoryUsage().rss
  t = performance.now()
  const local = async (sub: string) => createStorage({ provider: 'local', root: join(dir, sub) })
  const imported = await importSparkFactors({
    factors: { storage: await local('model'), key: '' },
    idMaps: { storage: await local('inputs'), key: '' },
  })
  const readSeconds = seconds(t)
  for (let k = 0; k < 1000; k++) {
    const at = Math.floor((k * itemFactors.length) / 1000)
    if (imported.model.itemFactors[at] !== itemFactors[at])
      throw new Error(`factor ${at} differs after import`)
  }
  const exportOnce = async (model: AlsModel, registry: string) => {
    const storage = await createStorage({ provider: 'local', root: join(dir, registry) })
    const start = performance.now()
    const result = await exportModel(
      {
        model,
        data: imported.data,
        als: imported.params.als,
        eventWeights: imported.params.eventWeights,
        popularity: itemCounts(imported.data.matrix),
        trending: trendingScores(imported.data.matrix, { halfLifeDays: 7, now: trainedUntil }),
      },
      { storage, version: '20261201T000000Z-0000beef', partitions: { minItems: Number.MAX_SAFE_INTEGER } },
    )
    return { seconds: seconds(start), result }
  }
  const exported = await exportOnce(imported.model, 'registry')
  const importSeconds = readSeconds + exported.seconds
  const importPeak = peakRss

  // --- Baseline 2: the int8 export of the same factors already in memory. ---
  const inMemory: AlsModel = { users, items, factors: dims, userFactors, itemFactors }
  const baseline = await exportOnce(inMemory, 'registry-baseline')
  clearInterval(sampler)

  const itemShardBytes = exported.result.manifest.shards.items.reduce((sum, s) => sum + s.bytes, 0)
  const report = {
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    },
    items,
    dims,
    users,
    parquetParts: parts,
    fixtureSeconds: Number(fixtureSeconds.toFixed(1)),
    bytes: {
      itemFactorsParquet: parquetBytes,
      itemFactorsFloat32: rawBytes,
      int8ItemShards: itemShardBytes,
      versionTotal: exported.result.bytes,
    },
    seconds: {
      readParquet: Number(readSeconds.toFixed(2)),
      exportInt8: Number(exported.seconds.toFixed(2)),
      importTotal: Number(importSeconds.toFixed(2)),
      baselineRawFloat32Read: Number(rawRead.toFixed(2)),
      baselineExportFromMemory: Number(baseline.seconds.toFixed(2)),
    },
    ratios: {
      importVsExportFromMemory: Number((importSeconds / baseline.seconds).toFixed(2)),
      parquetReadVsRawRead: Number((readSeconds / rawRead).toFixed(1)),
      int8VsParquetBytes: Number((itemShardBytes / parquetBytes).toFixed(3)),
    },
    peakRssMiB: Math.round(importPeak / MiB),
  }
  console.log(JSON.stringify(report, null, 2))
  console.log(
    `\nImport of ${items.toLocaleString('en-US')} × ${dims} Spark-format item factors: ${importSeconds.toFixed(1)} s ` +
      `(Parquet read ${readSeconds.toFixed(1)} s + int8 export ${exported.seconds.toFixed(1)} s); ` +
      `${(parquetBytes / MiB).toFixed(1)} MiB Parquet → ${(itemShardBytes / MiB).toFixed(1)} MiB int8 item shards ` +
      `(${exported.result.manifest.shards.items.length} shards). Baselines, same run: raw float32 read ${rawRead.toFixed(2)} s, ` +
      `export from memory ${baseline.seconds.toFixed(1)} s.`,
  )
  await rm(dir, { recursive: true, force: true })
}

main().catch((error: unknown) => {
  clearInterval(sampler)
  console.error(error)
  process.exitCode = 1
})

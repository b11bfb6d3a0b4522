/**
 * A stand-in for the Spark cluster in the Spark job tests: given the arguments the trainer passed to
 * `edgerec_als.py`, it reads the interactions' Parquet part files from the staging storage (s3rver), trains
 * implicit ALS with the local trainer on exactly the rows Spark would see (as Spark does, only ids
 * that occur get factors), and saves each model in `ALSModel.save()`'s layout and schema (metadata
 * JSON; `userFactors` / `itemFactors` Parquet `id: int, features: array<float>`, two part files
 * each) under `--output`. Everything after that (read-back, evaluation, gate, publish) is the
 * trainer's real code.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createStorage, listAll, type StorageConfig, storageUri } from '@edgerec/adapters'
import { parquetReadObjects } from 'hyparquet'
import { expect } from 'vitest'
import { trainAls } from '../als/index.js'
import { csrFromTriples } from '../data/matrix.js'
import { sparkFactorTableParquet, sparkModelMetadata } from './spark-schema.js'
import { SPARK_JOB_FILE } from './train-on-spark.js'

/**
 * The arguments every Spark platform must pass to `edgerec_als.py` for a run staged under `prefix`
 * (what the EMR Serverless, Dataproc and Databricks tests assert in their requests).
 */
export function sparkJobArgs(prefix: string, params: { rank: number; maxIter: number }): unknown[] {
  return [
    '--interactions',
    `${prefix}input/interactions`,
    '--train',
    `${prefix}input/train`,
    '--output',
    `${prefix}output`,
    '--rank',
    String(params.rank),
    '--reg-param',
    expect.stringMatching(/^\d/),
    '--alpha',
    expect.stringMatching(/^\d/),
    '--max-iter',
    String(params.maxIter),
    '--seed',
    expect.stringMatching(/^\d+$/),
  ]
}

/**
 * What `edgerec_als.py`'s own `parse_args` (run by python3, no Spark needed: pyspark is imported
 * only in `main`) makes of `args`: proves the job accepts exactly the arguments a platform passes.
 */
export async function parseWithJobScript(args: readonly string[]): Promise<Record<string, unknown>> {
  const program = [
    'import importlib.util, json, sys',
    'spec = importlib.util.spec_from_file_location("edgerec_als", sys.argv[1])',
    'job = importlib.util.module_from_spec(spec)',
    'spec.loader.exec_module(job)',
    'print(json.dumps(vars(job.parse_args(sys.argv[2:]))))',
  ].join('\n')
  const { stdout } = await promisify(execFile)(
    'python3',
    ['-c', program, fileURLToPath(SPARK_JOB_FILE), ...args],
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
  )
  return JSON.parse(stdout) as Record<string, unknown>
}

/** Parses `--name value` pairs. */
function parse(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>()
  for (let i = 0; i < args.length; i += 2) out.set(args[i]!.replace(/^--/, ''), args[i + 1]!)
  return out
}

/** Rows of a factor matrix whose ids occur, split into two part files. */
function parts(factors: Float32Array, present: Uint8Array, rank: number): Uint8Array[] {
  const ids: number[] = []
  for (let id = 0; id < present.length; id++) if (present[id]) ids.push(id)
  const half = Math.ceil(ids.length / 2)
  return [ids.slice(0, half), ids.slice(half)].map((chunk) => {
    const rows = new Float32Array(chunk.length * rank)
    for (const [r, id] of chunk.entries()) rows.set(factors.subarray(id * rank, (id + 1) * rank), r * rank)
    return sparkFactorTableParquet(Int32Array.from(chunk), rows, rank)
  })
}

/** Runs what `edgerec_als.py` would, against the staging storage. Returns the output prefix keys written. */
export async function runSparkJobHere(staging: StorageConfig, args: readonly string[]): Promise<string[]> {
  const storage = await createStorage(staging)
  const root = storageUri(staging)
  const key = (uri: string) => {
    if (!uri.startsWith(root)) throw new Error(`${uri} is not in the staging storage ${root}`)
    return uri.slice(root.length)
  }
  const a = parse(args)
  const rank = Number(a.get('rank'))
  const written: string[] = []
  const jobs: Array<[string, string]> = []
  if (a.has('train')) jobs.push([a.get('train')!, `${a.get('output')}/evaluate`])
  jobs.push([a.get('interactions')!, `${a.get('output')}/all`])
  for (const [input, output] of jobs) {
    // As spark.read.parquet(dir): every part file of the directory is one table.
    const files = (await listAll(storage, `${key(input)}/`)).filter((o) => o.key.endsWith('.parquet'))
    if (files.length === 0) throw new Error(`no Parquet part file under ${input}`)
    const rows: Record<string, unknown>[] = []
    for (const file of files) {
      const bytes = (await storage.get(file.key))!
      rows.push(...(await parquetReadObjects({ file: bytes.slice().buffer as ArrayBuffer })))
    }
    const u = Int32Array.from(rows, (r) => Number(r.user))
    const i = Int32Array.from(rows, (r) => Number(r.item))
    const v = Float32Array.from(rows, (r) => Number(r.rating))
    const users = Math.max(...u) + 1
    const items = Math.max(...i) + 1
    const model = await trainAls(csrFromTriples(users, items, u, i, v), {
      factors: rank,
      regularization: Number(a.get('reg-param')),
      alpha: Number(a.get('alpha')),
      iterations: Number(a.get('max-iter')),
      seed: Number(a.get('seed')),
      threads: 1,
    })
    const seenUsers = new Uint8Array(users)
    const seenItems = new Uint8Array(items)
    for (const x of u) seenUsers[x] = 1
    for (const x of i) seenItems[x] = 1
    const out = key(output)
    await storage.put(`${out}/metadata/part-00000`, sparkModelMetadata(rank))
    await storage.put(`${out}/metadata/_SUCCESS`, new Uint8Array())
    for (const [table, factors, seen] of [
      ['userFactors', model.userFactors, seenUsers],
      ['itemFactors', model.itemFactors, seenItems],
    ] as const) {
      for (const [p, part] of parts(factors, seen, rank).entries()) {
        const name = `${out}/${table}/part-0000${p}-4f1c9a2e-c000.snappy.parquet`
        await storage.put(name, part)
        written.push(name)
      }
      await storage.put(`${out}/${table}/_SUCCESS`, new Uint8Array())
    }
  }
  return written
}

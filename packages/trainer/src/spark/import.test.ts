/**
 * `edgerec-train import-factors` on Parquet written with exactly Spark's schema (hyparquet-writer:
 * `id` required INT32, `features` optional LIST of required FLOAT, as `ALSModel.save()` writes).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage } from '@edgerec/adapters'
import type { ModelManifest } from '@edgerec/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../cli/run.js'
import { csrFromTriples } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { importSparkFactors } from './import.js'
import { interactionsParquet, writeSparkInputs } from './inputs.js'
import { sparkFactorTableParquet, sparkModelMetadata } from './spark-schema.js'

const rank = 4
/** Feature f of id: distinct, exactly representable values. */
const feature = (id: number, f: number) => (id + 1) * 0.5 + f * 0.125

function table(ids: number[], width = rank): Uint8Array {
  const features = new Float32Array(ids.length * width)
  ids.forEach((id, r) => {
    for (let f = 0; f < width; f++) features[r * width + f] = feature(id, f)
  })
  return sparkFactorTableParquet(Int32Array.from(ids), features, width)
}

describe('import-factors', () => {
  let dir: string
  let out: string
  let err: string
  const cli = (argv: string[]) =>
    runCli(argv, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      cwd: dir,
    })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-'))
    out = ''
    err = ''
    const matrix = csrFromTriples(3, 5, [0, 0, 1, 2, 2], [0, 1, 2, 3, 4], [1, 2, 1, 3, 1])
    await writeSparkInputs(
      await createStorage({ provider: 'local', root: join(dir, 'inputs') }),
      '',
      {
        matrix,
        userIds: ['u0', 'u1', 'u2'],
        itemIds: ['a', 'b', 'c', 'd', 'e'],
        trainedUntil: 1_700_000_000_000,
      },
      {
        als: {
          factors: rank,
          regularization: 0.05,
          alpha: 2,
          iterations: 10,
          cgSteps: 3,
          solver: 'cg',
          seed: 42,
        },
        eventWeights: { view: 1 },
        trainedUntil: 1_700_000_000_000,
      },
    )
    const model = join(dir, 'model')
    for (const part of ['userFactors', 'itemFactors', 'metadata'])
      await mkdir(join(model, part), { recursive: true })
    await writeFile(join(model, 'metadata', 'part-00000'), sparkModelMetadata(rank))
    await writeFile(join(model, 'metadata', '_SUCCESS'), '')
    // Spark's local writer also leaves checksum files next to the part files.
    await writeFile(join(model, 'userFactors', '.part-00000.snappy.parquet.crc'), 'crc')
    await writeFile(join(model, 'userFactors', 'part-00000.snappy.parquet'), table([0, 1]))
    await writeFile(join(model, 'userFactors', 'part-00001.snappy.parquet'), table([2]))
    await writeFile(join(model, 'itemFactors', 'part-00000.snappy.parquet'), table([0, 1, 2]))
    // Item 4 never appears in Spark's output (e.g. no ratings in its input): it gets zero factors.
    await writeFile(join(model, 'itemFactors', 'part-00001.snappy.parquet'), table([3]))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('should read the factors exactly, row = Spark id, with zeros for ids Spark left out', async () => {
    const local = async (sub: string) => createStorage({ provider: 'local', root: join(dir, sub) })
    const { model, data, params } = await importSparkFactors({
      factors: { storage: await local('model'), key: '' },
      idMaps: { storage: await local('inputs'), key: '' },
    })
    expect(model.factors).toBe(rank)
    expect(Array.from(model.userFactors.subarray(2 * rank, 3 * rank))).toEqual(
      [0, 1, 2, 3].map((f) => feature(2, f)),
    )
    expect(Array.from(model.itemFactors.subarray(3 * rank, 4 * rank))).toEqual(
      [0, 1, 2, 3].map((f) => feature(3, f)),
    )
    expect(Array.from(model.itemFactors.subarray(4 * rank, 5 * rank))).toEqual([0, 0, 0, 0])
    expect(data.userIds).toEqual(['u0', 'u1', 'u2'])
    expect(data.matrix.indices.length).toBe(5)
    expect(params.als.alpha).toBe(2)
  })

  it('should read the single interactions.parquet of inputs written before the part files', async () => {
    const inputs = join(dir, 'inputs')
    const matrix = csrFromTriples(3, 5, [0, 1, 2], [4, 3, 2], [5, 6, 7])
    await rm(join(inputs, 'interactions'), { recursive: true })
    await writeFile(join(inputs, 'interactions.parquet'), interactionsParquet(matrix))
    const local = async (sub: string) => createStorage({ provider: 'local', root: join(dir, sub) })
    const { data } = await importSparkFactors({
      factors: { storage: await local('model'), key: '' },
      idMaps: { storage: await local('inputs'), key: '' },
    })
    expect(Array.from(data.matrix.indices)).toEqual([4, 3, 2])
    expect(Array.from(data.matrix.values)).toEqual([5, 6, 7])
  })

  it('should turn a Spark ALSModel save into an int8 model version through the CLI', async () => {
    const code = await cli([
      'import-factors',
      '--factors',
      'model',
      '--id-maps',
      'inputs',
      '--output',
      'registry',
      '--json',
      '--version-id',
      '20260101T000000Z-abcdef01',
    ])
    expect(err).not.toContain('error')
    expect(code).toBe(0)
    const result = JSON.parse(out) as { version: string }
    expect(result.version).toBe('20260101T000000Z-abcdef01')
    const manifest = JSON.parse(
      await readFile(join(dir, 'registry', 'models', result.version, 'manifest.json'), 'utf8'),
    ) as ModelManifest
    expect(manifest.dims).toBe(rank)
    expect(manifest.counts).toEqual({ users: 3, items: 5, interactions: 5 })
    expect(manifest.als.alpha).toBe(2)
    expect(manifest.trainedUntil).toBe(1_700_000_000_000)
    expect(manifest.gate).toBeUndefined()
  })

  it('should refuse --publish without --force (imported factors have no gate verdict)', async () => {
    const code = await cli(['import-factors', '--factors', 'model', '--id-maps', 'inputs', '--publish'])
    expect(code).toBe(2)
    expect(err).toContain('--publish needs --force')
  })

  it('should name the file and the fix when features do not match the rank', async () => {
    await writeFile(join(dir, 'model', 'itemFactors', 'part-00001.snappy.parquet'), table([3], rank + 1))
    const code = await cli(['import-factors', '--factors', 'model', '--id-maps', 'inputs', '--output', 'r'])
    expect(code).toBe(1)
    expect(err).toMatch(
      /error IMPORT_INVALID: local:.*part-00001\.snappy\.parquet: item 3 has 5 features, the metadata says rank 4/,
    )
  })

  it('should refuse ids outside the id maps', async () => {
    await writeFile(join(dir, 'model', 'userFactors', 'part-00001.snappy.parquet'), table([7]))
    const code = await cli(['import-factors', '--factors', 'model', '--id-maps', 'inputs', '--output', 'r'])
    expect(code).toBe(1)
    expect(err).toMatch(/error IMPORT_INVALID: .*user id 7 is not in the id map \(0\.\.2\)/)
  })

  it('should say where the save is missing its metadata', async () => {
    await rm(join(dir, 'model', 'metadata'), { recursive: true })
    const error = await importSparkFactors({
      factors: { storage: await createStorage({ provider: 'local', root: join(dir, 'model') }), key: '' },
      idMaps: { storage: await createStorage({ provider: 'local', root: join(dir, 'inputs') }), key: '' },
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TrainerError)
    expect(error).toMatchObject({
      code: 'IMPORT_INVALID',
      message: expect.stringContaining('ALSModel.save()'),
    })
  })
})

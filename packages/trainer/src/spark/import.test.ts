import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createStorage } from '@edgerec/adapters'
import type { ModelManifest } from '@edgerec/core'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { describe, expect, it } from 'vitest'
import { runCli } from '../cli/run.js'
import { csrFromTriples } from '../data/matrix.js'
import { writeSparkInputs } from './inputs.js'

/** A Spark factor table part file: `id: int` (required), `features: array<float>` (LIST of required float). */
function sparkFactors(ids: number[], rank: number): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Int32Array.from(ids) },
        {
          name: 'features',
          data: ids.map((id) => Array.from({ length: rank }, (_, f) => (id + 1) * 0.1 + f * 0.01)),
        },
      ],
      schema: [
        { name: 'spark_schema', num_children: 2 },
        { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
        { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
      ],
    }),
  )
}

describe('import-factors', () => {
  it('should turn a Spark ALSModel save (two part files per table) into an int8 model version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgerec-spark-'))
    try {
      const rank = 4
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
      for (const table of ['userFactors', 'itemFactors']) await mkdir(join(model, table), { recursive: true })
      await mkdir(join(model, 'metadata'), { recursive: true })
      await writeFile(
        join(model, 'metadata', 'part-00000'),
        `${JSON.stringify({ class: 'org.apache.spark.ml.recommendation.ALSModel', rank })}\n`,
      )
      await writeFile(join(model, 'userFactors', 'part-00000.snappy.parquet'), sparkFactors([0, 1], rank))
      await writeFile(join(model, 'userFactors', 'part-00001.snappy.parquet'), sparkFactors([2], rank))
      await writeFile(join(model, 'itemFactors', 'part-00000.snappy.parquet'), sparkFactors([0, 1, 2], rank))
      await writeFile(join(model, 'itemFactors', 'part-00001.snappy.parquet'), sparkFactors([3, 4], rank))
      let out = ''
      let err = ''
      const io = {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (err += s) },
        cwd: dir,
      }
      const code = await runCli(
        [
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
        ],
        io,
      )
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

      const refused = await runCli(
        ['import-factors', '--factors', 'model', '--id-maps', 'inputs', '--publish'],
        io,
      )
      expect(refused).toBe(2)
      expect(err).toContain('--publish needs --force')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

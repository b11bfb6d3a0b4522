import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ModelManifest } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'
import { writeGeneratedData } from '../generate/index.js'
import type { TuningReport } from './index.js'

let cwd: string
function io(): CliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd,
    out: () => out,
    err: () => err,
  }
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'edgerec-tune-'))
  await writeGeneratedData({ events: 20_000, seed: 9 }, { path: join(cwd, 'events.ndjson') })
})
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

const flags = ['--input', 'events.ndjson', '--iterations', '6', '--threads', '1', '--tune', '--trials', '5']

describe('tuning in the pipelines', () => {
  it('should tune in evaluate --tune and report base and tuned test metrics, never worse on validation', async () => {
    const run = io()
    expect(await runCli(['evaluate', ...flags, '--tune-strategy', 'random', '--json'], run)).toBe(0)
    const report = JSON.parse(run.out()) as { als: { ndcg: number }; tuning: TuningReport }
    const { tuning } = report
    expect(tuning.strategy).toBe('random')
    expect(tuning.trials).toHaveLength(5)
    expect(tuning.trials[0]!.params).toEqual(tuning.base)
    expect(tuning.base).toMatchObject({ factors: 64, regularization: 0.05, alpha: 1, iterations: 6 })
    expect(tuning.bestMetrics.ndcg).toBeGreaterThanOrEqual(tuning.baseMetrics.ndcg)
    expect(new Set(tuning.trials.map((t) => JSON.stringify(t.params))).size).toBe(5)
    // The printed metrics are the tuned configuration's; both are measured on the test split.
    expect(tuning.test!.tuned.ndcg).toBe(report.als.ndcg)
    expect(tuning.test!.base.ndcg).toBeGreaterThan(0)
    expect(run.err()).toMatch(/Best on validation: .* base [\d.]+; popularity/)

    const table = io()
    expect(await runCli(['evaluate', ...flags], table)).toBe(0)
    // Without --tune-strategy the search is successive halving.
    expect(table.err()).toMatch(/Tuning \(halving, 5 candidates including the base/)
    expect(table.out()).toMatch(/base\s+factors 64, λ 0\.05, α 1, 6 it\s+[\d.]+\s+[\d.]+/)
    expect(table.out()).toMatch(/tuned\s+factors \d+/)
  }, 120_000)

  it('should record the search and the test comparison in the manifest with train --tune', async () => {
    const run = io()
    expect(await runCli(['train', ...flags, '--output', 'registry', '--tune-strategy', 'halving'], run)).toBe(
      0,
    )
    const version = run.out().trim()
    const manifest = JSON.parse(
      await readFile(join(cwd, 'registry', 'models', version, 'manifest.json'), 'utf8'),
    ) as ModelManifest & { tuning: TuningReport }
    expect(manifest.tuning.strategy).toBe('halving')
    expect(manifest.tuning.test!.base.ndcg).toBeGreaterThan(0)
    expect(manifest.tuning.test!.tuned.ndcg).toBe(manifest.evaluation!.models.als!.ndcg)
    expect(manifest.als).toMatchObject({
      factors: manifest.tuning.best.factors,
      regularization: manifest.tuning.best.regularization,
    })
    expect(run.err()).toMatch(/Test ndcg@10: base [\d.]+ → tuned [\d.]+/)
  }, 120_000)
})

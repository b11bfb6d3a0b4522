/**
 * The quality gate through the command users run: `edgerec-train train --publish` against the
 * local publish target (the `wrangler dev` state, written through wrangler's own Miniflare).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPublisher } from '@edgerec/adapters'
import type { ModelManifest } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'

let cwd: string
const publish = () => ({
  provider: 'local' as const,
  workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
  persistTo: join(cwd, 'state'),
})

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

async function live(): Promise<string | undefined> {
  const publisher = await createPublisher(publish())
  try {
    return (await publisher.live())?.version
  } finally {
    await publisher.close()
  }
}

async function manifest(version: string): Promise<ModelManifest> {
  return JSON.parse(await readFile(join(cwd, 'registry', 'models', version, 'manifest.json'), 'utf8'))
}

const als = ['--factors', '16', '--iterations', '6', '--threads', '1', '--output', 'registry']

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'edgerec-gate-cli-'))
  await writeFile(
    join(cwd, 'edgerec.config.mjs'),
    `export default ${JSON.stringify({ publish: publish() })}\n`,
  )
  for (const [out, taste] of [
    ['popular', '0'],
    ['personal', '1'],
  ] as const) {
    const run = io()
    const code = await runCli(
      ['generate', '--events', '30000', '--seed', '5', '--taste', taste, '--out', out],
      run,
    )
    expect(code, run.err()).toBe(0)
  }
})

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

describe('edgerec-train train --publish behind the quality gate', () => {
  it('should keep serving popularity (publish nothing) when ALS loses to popularity, and exit 1 saying what to try', async () => {
    const run = io()
    const code = await runCli(['train', '--input', 'popular/events.ndjson', ...als, '--publish'], run)
    expect(code).toBe(1)
    expect(run.err()).toMatch(
      /error GATE_FAILED: Version \S+ was rejected by the quality gate: ALS ndcg@10 [\d.]+ does not beat popularity/,
    )
    expect(run.err()).toMatch(
      /was not published; the live version stays\. Try a value transform .*fewer factors.*more regularization.*--force/,
    )
    const version = run.out().trim()
    const recorded = await manifest(version)
    expect(recorded.gate).toMatchObject({ passed: false, metric: 'ndcg', k: 10 })
    expect(recorded.gate!.candidate).toBeLessThan(recorded.gate!.popularity)
    expect(await live()).toBeUndefined()
  }, 120_000)

  it('should publish a model that beats popularity, then gate the next one against it', async () => {
    const first = io()
    expect(
      await runCli(['train', '--input', 'personal/events.ndjson', ...als, '--publish', '--json'], first),
    ).toBe(0)
    const v1 = JSON.parse(first.out()) as { version: string; gate: ModelManifest['gate'] }
    expect(v1.gate).toMatchObject({ passed: true, reasons: [] })
    expect(v1.gate!.live).toBeUndefined()
    expect(await live()).toBe(v1.version)

    // A much weaker configuration on the same data: beats popularity at margin 0 but not the live version.
    const worse = io()
    const code = await runCli(
      [
        'train',
        '--input',
        'personal/events.ndjson',
        ...als,
        '--factors',
        '2',
        '--gate-margin',
        '0',
        '--publish',
      ],
      worse,
    )
    expect(code).toBe(1)
    expect(worse.err()).toMatch(new RegExp(`error GATE_FAILED: .*worse than the live version ${v1.version}`))
    const rejected = await manifest(worse.out().trim())
    expect(rejected.gate).toMatchObject({ passed: false, live: { version: v1.version } })
    expect(await live()).toBe(v1.version)

    // --force accepts it, records that, and publishes it.
    const forced = io()
    expect(
      await runCli(
        ['train', '--input', 'personal/events.ndjson', ...als, '--factors', '2', '--publish', '--force'],
        forced,
      ),
    ).toBe(0)
    const version = forced.out().trim()
    expect((await manifest(version)).gate).toMatchObject({ passed: false, forced: true })
    expect(await live()).toBe(version)
  }, 240_000)

  it('should refuse to publish without evaluation unless forced', async () => {
    const run = io()
    expect(
      await runCli(['train', '--input', 'personal/events.ndjson', ...als, '--no-eval', '--publish'], run),
    ).toBe(2)
    expect(run.err()).toMatch(/error USAGE: Publishing without the quality gate .* needs --force/)
  })
})

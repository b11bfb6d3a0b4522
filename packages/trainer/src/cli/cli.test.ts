import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { createPublisher } from '@edgerec/adapters'
import { decodeShard, validateManifest } from '@edgerec/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from './run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgerec-cli-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function io(cwd = dir): CliIo & { out: () => string; err: () => string } {
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

const tiny = ['--factors', '8', '--iterations', '3', '--threads', '1']

describe('edgerec-train generate', () => {
  it('should write events NDJSON and a catalog JSON with readable names and categories', async () => {
    const run = io()
    const code = await runCli(
      ['generate', '--users', '80', '--items', '60', '--categories', '4', '--out', 'data'],
      run,
    )
    expect(code).toBe(0)
    const lines = (await readFile(join(dir, 'data', 'events.ndjson'), 'utf8')).trimEnd().split('\n')
    expect(lines).toHaveLength(80 * 25)
    const first = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(Object.keys(first).sort()).toEqual(['id', 'itemId', 'timestamp', 'type', 'userId'])
    const catalog = JSON.parse(await readFile(join(dir, 'data', 'catalog.json'), 'utf8')) as {
      categories: { name: string }[]
      items: { id: string; name: string; category: string }[]
    }
    expect(catalog.categories).toHaveLength(4)
    expect(catalog.items).toHaveLength(60)
    expect(catalog.items[0]!.name).toMatch(/\w+ \w+/)
    expect(run.out()).toContain('events.ndjson')
  })
})

describe('edgerec-train train', () => {
  it('should record the value transform in the manifest, so the worker folds new events in on the same scale', async () => {
    const run = io()
    const code = await runCli(
      [
        'train',
        '--input',
        'data/events.ndjson',
        '--output',
        'models-log1p',
        '--transform',
        'log1p',
        '--no-gate',
        '--json',
        ...tiny,
      ],
      run,
    )
    expect(code).toBe(0)
    const { version } = JSON.parse(run.out()) as { version: string }
    const manifest = JSON.parse(
      await readFile(join(dir, 'models-log1p', 'models', version, 'manifest.json'), 'utf8'),
    ) as { valueTransform?: string }
    expect(validateManifest(manifest).ok).toBe(true)
    expect(manifest.valueTransform).toBe('log1p')
  })

  it('should train on a file and write a complete model version into --output', async () => {
    const run = io()
    const code = await runCli(
      ['train', '--input', 'data/events.ndjson', '--output', 'models', '--json', ...tiny],
      run,
    )
    expect(run.err()).not.toContain('error')
    expect(code).toBe(0)
    const result = JSON.parse(run.out()) as {
      version: string
      keys: string[]
      evaluation: { models: Record<string, { ndcg: number }> }
    }
    expect(result.evaluation.models.als!.ndcg).toBeGreaterThan(0)
    const manifestPath = join(dir, 'models', 'models', result.version, 'manifest.json')
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      dims: number
      shards: { items: { key: string }[] }
    }
    expect(validateManifest(manifest).ok).toBe(true)
    expect(manifest.dims).toBe(8)
    const items = await decodeShard(
      new Uint8Array(await readFile(join(dir, 'models', manifest.shards.items[0]!.key))),
    )
    expect(items.kind).toBe('items')
    // Progress: one line per iteration when stderr is not a TTY.
    expect(run.err()).toMatch(/train iteration 3\/3 +[\d.]+ s +elapsed/)
  })

  it('should run the embedded default (generated demo data → .edgerec/models) with no input or config', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'edgerec-default-'))
    try {
      const run = io(cwd)
      const code = await runCli(['train', '--demo-events', '3000', ...tiny], run)
      expect(run.err()).toContain('generating 3,000 demo events')
      expect(code).toBe(0)
      const version = run.out().trim()
      expect(existsSync(join(cwd, '.edgerec', 'models', 'models', version, 'manifest.json'))).toBe(true)
      expect(existsSync(join(cwd, '.edgerec', 'demo', 'catalog.json'))).toBe(true)
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('should read edgerec.config.ts and let flags win over it', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'edgerec-config-'))
    try {
      await writeFile(
        join(cwd, 'edgerec.config.ts'),
        `const config: Record<string, unknown> = {
  events: { kind: 'ndjson', path: ${JSON.stringify(join(dir, 'data', 'events.ndjson'))} },
  als: { factors: 4, iterations: 2, threads: 1 },
  evaluation: { enabled: false },
  storage: { provider: 'local', root: 'registry' },
}
export default config
`,
      )
      const run = io(cwd)
      const code = await runCli(['train', '--factors', '6', '--json'], run)
      expect(run.err()).not.toContain('error')
      expect(code).toBe(0)
      const result = JSON.parse(run.out()) as {
        version: string
        manifest: { dims: number; als: { iterations: number } }
      }
      expect(result.manifest.dims).toBe(6)
      expect(result.manifest.als.iterations).toBe(2)
      expect(await readdir(join(cwd, 'registry', 'models'))).toEqual([result.version])
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('should store the precomputed candidates export.candidates asks for and print their line', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'edgerec-candidates-'))
    try {
      await writeFile(
        join(cwd, 'edgerec.config.ts'),
        `export default {
  events: { kind: 'ndjson', path: ${JSON.stringify(join(dir, 'data', 'events.ndjson'))} },
  als: { factors: 4, iterations: 2, threads: 1 },
  export: { candidates: 5 },
  storage: { provider: 'local', root: 'registry' },
}
`,
      )
      const run = io(cwd)
      const code = await runCli(['train', '--json'], run)
      expect(code).toBe(0)
      const result = JSON.parse(run.out()) as {
        manifest: { candidates: unknown; shards: { users: { key: string }[] } }
        candidateSeconds: number
        reportKey: string
      }
      expect(result.manifest.candidates).toEqual({ perUser: 5, nprobe: null, recall: null })
      expect(result.candidateSeconds).toBeGreaterThan(0)
      expect(run.err()).toMatch(/Precomputed candidates: 5 per trained user \(exact scan\) in [\d.]+ s\./)
      // Progress (no TTY: a line at the end): every trained user.
      expect(run.err()).toMatch(/candidates ([\d,]+)\/\1 users \(100%\)/)
      const bucket = await decodeShard(
        new Uint8Array(await readFile(join(cwd, 'registry', result.manifest.shards.users[0]!.key))),
      )
      expect(bucket.kind === 'users' && bucket.candidates?.offsets.length).toBe(bucket.rowCount + 1)
      // The run evaluated, so its HTML report lists the candidates among the version's facts.
      const report = await readFile(join(cwd, 'registry', result.reportKey), 'utf8')
      expect(report).toContain('<li>Precomputed candidates: 5 per trained user (exact scan) in ')
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('should publish the new version with --publish --force without evaluation (local wrangler dev state) and flip models/live', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'edgerec-publish-'))
    try {
      const publish = {
        provider: 'local' as const,
        workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
        persistTo: join(cwd, 'state'),
      }
      await writeFile(join(cwd, 'edgerec.config.mjs'), `export default ${JSON.stringify({ publish })}\n`)
      const run = io(cwd)
      const code = await runCli(
        [
          'train',
          '--input',
          join(dir, 'data', 'events.ndjson'),
          '--no-eval',
          '--json',
          ...tiny,
          '--publish',
          '--force',
        ],
        run,
      )
      expect(run.err()).not.toContain('error')
      expect(code).toBe(0)
      const result = JSON.parse(run.out()) as { version: string; published: { pointer: { version: string } } }
      expect(result.published.pointer.version).toBe(result.version)
      const publisher = await createPublisher(publish)
      try {
        expect((await publisher.live())?.version).toBe(result.version)
      } finally {
        await publisher.close()
      }
    } finally {
      await rm(cwd, { recursive: true, force: true })
    }
  })

  it('should honour EDGEREC_OUTPUT as the model registry', async () => {
    const root = join(dir, 'from-env')
    process.env.EDGEREC_OUTPUT = JSON.stringify({ provider: 'local', root })
    try {
      const run = io()
      const code = await runCli(['train', '--input', 'data/events.ndjson', '--no-eval', ...tiny], run)
      expect(code).toBe(0)
      expect(existsSync(join(root, 'models', run.out().trim(), 'manifest.json'))).toBe(true)
    } finally {
      delete process.env.EDGEREC_OUTPUT
    }
  })
})

describe('edgerec-train evaluate', () => {
  it('should print one JSON object with every metric for als, als_int8 and popularity', async () => {
    const rows = ['userId,movieId,rating,timestamp']
    for (let u = 1; u <= 40; u++)
      for (let j = 0; j < 12; j++)
        rows.push(`${u},${((u * 7 + j * 3) % 50) + 1},${1 + ((u + j) % 5)},${964980000 + u * 100 + j}`)
    await writeFile(join(dir, 'ratings.csv'), `${rows.join('\r\n')}\r\n`)
    const run = io()
    const code = await runCli(
      [
        'evaluate',
        ...[
          '--input',
          'ratings.csv',
          '--user-col',
          'userId',
          '--item-col',
          'movieId',
          '--value-col',
          'rating',
          '--time-col',
          'timestamp',
        ],
        ...[
          '--split',
          'temporal',
          '--test-fraction',
          '0.2',
          '--factors',
          '8',
          '--regularization',
          '0.05',
          '--alpha',
          '1',
        ],
        ...['--iterations', '3', '--cg-steps', '3', '--k', '10', '--seed', '42', '--threads', '1', '--json'],
      ],
      run,
    )
    expect(run.err()).not.toContain('error')
    expect(code).toBe(0)
    const report = JSON.parse(run.out()) as Record<string, Record<string, number>> & {
      config: Record<string, unknown>
    }
    for (const model of ['als', 'als_int8', 'popularity']) {
      expect(Object.keys(report[model]!).sort()).toEqual([
        'auc',
        'coverage',
        'map',
        'ndcg',
        'precision',
        'recall',
      ])
    }
    expect(report.config).toMatchObject({
      factors: 8,
      regularization: 0.05,
      alpha: 1,
      iterations: 3,
      cgSteps: 3,
      k: 10,
      seed: 42,
      split: 'temporal',
    })
    expect(report.input).toMatchObject({ users: 40, rows: 480, badRows: 0 })
  })
})

describe('edgerec-train errors', () => {
  it('should exit 2 with a USAGE error for bad flags and values', async () => {
    for (const argv of [
      ['train', '--factorz', '3'],
      ['train', '--alpha', 'lots'],
      ['frobnicate'],
      ['evaluate', '--publish'],
    ]) {
      const run = io()
      expect(await runCli(argv, run)).toBe(2)
      expect(run.err()).toMatch(/^error USAGE: .+--help/)
    }
  })

  it('should exit 1 naming the code when the input is missing', async () => {
    const run = io()
    expect(await runCli(['train', '--input', 'nope.ndjson', ...tiny], run)).toBe(1)
    expect(run.err()).toMatch(/^error INPUT_NOT_FOUND: .*nope\.ndjson/m)
  })

  it('should work as an executable (help, exit codes)', async () => {
    const exec = promisify(execFile)
    const main = fileURLToPath(new URL('./main.ts', import.meta.url))
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const help = await exec(process.execPath, ['--import', tsx, main, '--help'])
    expect(help.stdout).toContain('edgerec-train train')
    await expect(exec(process.execPath, ['--import', tsx, main, 'train', '--k', '0'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('error USAGE'),
    })
  })
})

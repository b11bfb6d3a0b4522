import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'
import { writeGeneratedData } from '../generate/index.js'
import { checkStaleness } from './staleness.js'

describe('edgerec-train train --if-stale', () => {
  let dir: string
  let configPath: string
  const publish = {
    provider: 'local' as const,
    workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
    persistTo: '',
  }
  const config = () => ({
    events: { kind: 'ndjson' as const, path: join(dir, 'events.ndjson') },
    storage: { provider: 'local' as const, root: join(dir, 'registry') },
    publish,
  })
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-stale-'))
    publish.persistTo = join(dir, 'state')
    await writeGeneratedData(
      { events: 3000, users: 120, items: 40, seed: 5 },
      { path: join(dir, 'events.ndjson'), catalogPath: join(dir, 'catalog.json') },
    )
    configPath = join(dir, 'edgerec.config.mjs')
    await writeFile(configPath, `export default ${JSON.stringify(config())}\n`)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const cli = async (argv: string[]) => {
    let out = ''
    let err = ''
    const io: CliIo = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      cwd: dir,
    }
    const code = await runCli(argv, io)
    return { code, out, err }
  }
  const tiny = ['--factors', '4', '--iterations', '2', '--threads', '1', '--no-eval', '--force']
  const versions = async () => (await readdir(join(dir, 'registry', 'models')).catch(() => [])).sort()

  it('should train and publish when nothing is live', async () => {
    const run = await cli(['train', '--config', configPath, '--if-stale', '--publish', ...tiny])
    expect(run.code).toBe(0)
    expect(run.err).toMatch(/Stale, training \(--if-stale\): nothing is live on /)
    expect(await versions()).toHaveLength(1)
  })

  it('should skip the run when the live version is recent and no event is newer than its cut-off', async () => {
    const run = await cli(['train', '--config', configPath, '--if-stale', '--publish', '--json', ...tiny])
    expect(run.code).toBe(0)
    const result = JSON.parse(run.out) as { skipped: boolean; newEvents: number; live: { version: string } }
    expect(result).toMatchObject({ skipped: true, newEvents: 0 })
    expect(result.live.version).toBe((await versions())[0])
    expect(run.err).toMatch(
      /Not stale, skipping the run \(--if-stale\): the live version \S+ is [\d.]+ h old \(< 168 h\) and 0 events arrived after its cut-off/,
    )
    expect(await versions()).toHaveLength(1)
  })

  it('should retrain once enough events arrived after the cut-off', async () => {
    const last = (await readFile(join(dir, 'events.ndjson'), 'utf8')).trimEnd().split('\n')
    const newest = Math.max(...last.map((l) => (JSON.parse(l) as { timestamp: number }).timestamp))
    const fresh = [1, 2].map((i) =>
      JSON.stringify({
        id: `e-new-${i}`,
        userId: `u-new-${i}`,
        itemId: 'item-1',
        type: 'view',
        timestamp: newest + i * 1000,
      }),
    )
    await appendFile(join(dir, 'events.ndjson'), `${fresh.join('\n')}\n`)
    const skip = await cli(['train', '--config', configPath, '--if-stale', '--min-new-events', '3', ...tiny])
    expect(skip.err).toContain('Not stale')
    expect(await versions()).toHaveLength(1)
    const run = await cli(['train', '--config', configPath, '--if-stale', '--min-new-events', '2', ...tiny])
    expect(run.code).toBe(0)
    expect(run.err).toMatch(
      /Stale, training \(--if-stale\): at least 2 events arrived after the live version's cut-off/,
    )
    expect(await versions()).toHaveLength(2)
  })

  it('should call an old live version stale whatever the events', async () => {
    const result = await checkStaleness(config(), { maxAgeHours: 24, now: Date.now() + 25 * 3_600_000 })
    expect(result.stale).toBe(true)
    expect(result.reason).toMatch(/is 2[5-6](\.\d)? h old \(≥ 24 h\)/)
  })

  it('should refuse thresholds without --if-stale', async () => {
    const run = await cli(['train', '--config', configPath, '--min-new-events', '3'])
    expect(run.code).toBe(2)
    expect(run.err).toContain('add --if-stale')
  })
})

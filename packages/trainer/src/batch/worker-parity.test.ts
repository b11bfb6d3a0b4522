/**
 * Batch recommendations against the edge worker (issue 17): one trained version published into a
 * local `wrangler dev` state, one rules document (boosts, a pin, a per-category cap, MMR diversity)
 * put into the worker through `PUT /v1/admin/rules` and given to `edgerec-train recommend --rules`;
 * the worker's answers and the batch lines must list the same items in the same order with the same
 * scores, for model users and for an unknown user (the popular fallback).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'

/** The edge worker's `wrangler dev` helper (one copy, in its benchmarks), loaded by URL: outside this package's tsconfig. */
interface DevServer {
  base: string
}
const {
  packageDir: workerDir,
  startWranglerDev,
  stopWranglerDev,
  wranglerBin,
  wranglerEnv,
} = (await import(
  new URL('../../../edge-worker/benchmarks/support/wrangler-dev.ts', import.meta.url).href
)) as {
  packageDir: string
  wranglerBin: string
  wranglerEnv: NodeJS.ProcessEnv
  startWranglerDev(options: {
    config: string
    persist: string
    vars: Record<string, string>
    timeoutMs?: number
  }): Promise<DevServer>
  stopWranglerDev(server: DevServer): Promise<void>
}

const SECRET = 'sk_parity_secret'
const workerConfig = fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url))

let cwd: string
let server: DevServer | undefined

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
  cwd = await mkdtemp(join(tmpdir(), 'edgerec-parity-'))
  const persist = join(cwd, 'state')
  await writeFile(
    join(cwd, 'edgerec.config.mjs'),
    `export default ${JSON.stringify({ publish: { provider: 'local', workerConfig, persistTo: persist } })}\n`,
  )
  const run = io()
  const code = await runCli(
    [
      'train',
      '--demo-events',
      '3000',
      '--factors',
      '8',
      '--iterations',
      '3',
      '--threads',
      '1',
      '--no-eval',
      '--publish',
      '--force',
    ],
    run,
  )
  if (code !== 0) throw new Error(run.err())
  await promisify(execFile)(
    wranglerBin,
    ['d1', 'migrations', 'apply', 'edgerec', '--local', '--persist-to', persist, '--config', workerConfig],
    { cwd: workerDir, env: wranglerEnv },
  )
  server = await startWranglerDev({
    config: workerConfig,
    persist,
    vars: {
      PUBLISHABLE_KEY: 'pk_parity_publishable',
      SECRET_KEY: SECRET,
      MODEL_REFRESH_SECONDS: '0',
      CATALOG_REFRESH_SECONDS: '0',
    },
    timeoutMs: 120_000,
  })
}, 240_000)

afterAll(async () => {
  if (server) await stopWranglerDev(server)
  await rm(cwd, { recursive: true, force: true })
})

type Line = { userId: string; items: { itemId: string; score: number }[]; source: string }

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server!.base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', ...init.headers },
  })
  return { status: response.status, body: await response.json() }
}

describe('edgerec-train recommend against the edge worker', () => {
  it('should rank with the same rules into the same lists as the worker serves', async () => {
    const catalog = JSON.parse(await readFile(join(cwd, '.edgerec', 'demo', 'catalog.json'), 'utf8')) as {
      items: { id: string; category: string }[]
    }
    const boosted = catalog.items[1]!.category
    const pinned = catalog.items.find((i) => i.category !== boosted)!.id
    const rules = {
      boosts: [{ filter: `category:${boosted}`, factor: 3 }],
      pins: [{ itemId: pinned, position: 2 }],
      maxPerCategory: 3,
      diversity: 0.3,
    }
    expect((await call('/v1/admin/rules', { method: 'PUT', body: JSON.stringify(rules) })).status).toBe(200)
    await writeFile(join(cwd, 'rules.json'), JSON.stringify(rules))

    const all = io()
    expect(
      await runCli(['recommend', '--users', 'all', '--k', '8', '--out', 'all.ndjson'], all),
      all.err(),
    ).toBe(0)
    const someUsers = (await readFile(join(cwd, 'all.ndjson'), 'utf8'))
      .trimEnd()
      .split('\n')
      .slice(0, 8)
      .map((l) => (JSON.parse(l) as Line).userId)
    await writeFile(join(cwd, 'users.txt'), [...someUsers, 'nobody-at-all'].join('\n'))
    const run = io()
    expect(
      await runCli(
        ['recommend', '--users', 'users.txt', '--k', '8', '--rules', 'rules.json', '--out', 'ruled.ndjson'],
        run,
      ),
      run.err(),
    ).toBe(0)
    const batch = (await readFile(join(cwd, 'ruled.ndjson'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line)
    expect(batch.map((l) => l.source)).toEqual([...someUsers.map(() => 'model'), 'popular'])

    let pinsSeen = 0
    for (const line of batch) {
      const served = await call(`/v1/users/${encodeURIComponent(line.userId)}/recommendations?k=8`)
      expect(served.status).toBe(200)
      const body = served.body as Line
      expect(body.source).toBe(line.source)
      expect(body.items.map((i) => i.itemId)).toEqual(line.items.map((i) => i.itemId))
      body.items.forEach((item, r) => {
        expect(item.score).toBeCloseTo(line.items[r]!.score, 5)
      })
      if (line.items[1]?.itemId === pinned) pinsSeen++
    }
    // The rules did something: the pin holds position 2 wherever the user has not consumed it.
    expect(pinsSeen).toBeGreaterThan(0)
  })
})

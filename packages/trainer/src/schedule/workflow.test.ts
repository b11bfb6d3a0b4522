import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../cli/args.js'

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))

describe('examples/github-actions/retrain.yml', () => {
  it('should run a train command line the CLI accepts, on an existing config, if stale, with publish', async () => {
    const yaml = await readFile(join(repoRoot, 'examples', 'github-actions', 'retrain.yml'), 'utf8')
    const runs = [...yaml.matchAll(/^\s+run: npm run train -- (.+)$/gm)].map((m) => m[1]!.trim().split(/\s+/))
    expect(runs).toHaveLength(1)
    const command = parseCommandLine(['train', ...runs[0]!])
    expect(command).toMatchObject({
      command: 'train',
      publish: true,
      ifStale: { maxAgeHours: 168, minNewEvents: 1000 },
    })
    const configPath = (command as { configPath?: string }).configPath
    expect(configPath).toBeDefined()
    // npm run resolves it against the folder the workflow runs in: the repository root.
    expect(existsSync(join(repoRoot, configPath!))).toBe(true)
  })

  it('should hold a five-field cron and OIDC permissions instead of stored cloud keys', async () => {
    const yaml = await readFile(join(repoRoot, 'examples', 'github-actions', 'retrain.yml'), 'utf8')
    const cron = /cron: ["']([^"']+)["']/.exec(yaml)?.[1]
    expect(cron?.split(' ')).toHaveLength(5)
    expect(yaml).toMatch(/id-token: write/)
    expect(yaml).not.toMatch(/AWS_SECRET_ACCESS_KEY: \$\{\{ secrets\.AWS/)
  })
})

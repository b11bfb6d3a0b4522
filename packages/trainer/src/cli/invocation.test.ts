import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeGeneratedData } from '../generate/index.js'
import { invocationDir, projectRoot } from './invocation.js'

const exec = promisify(execFile)
const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const repoRoot = resolve(packageDir, '../..')
const shim = join(packageDir, 'bin', 'edgerec-train.js')

/** The environment of a user's shell: none of the npm/turbo variables of the test runner itself. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|TURBO_|EDGEREC_)/.test(key)) continue
    env[key] = value
  }
  env.TURBO_TELEMETRY_DISABLED = '1'
  env.DO_NOT_TRACK = '1'
  return env
}

describe('invocationDir', () => {
  const pkg = '/repo/packages/trainer'
  const npmScript = { npm_package_json: `${pkg}/package.json` }

  it('should use TURBO_INVOCATION_DIR when turbo ran the package script', () => {
    const env = { ...npmScript, INIT_CWD: pkg, TURBO_HASH: 'abc', TURBO_INVOCATION_DIR: '/repo/examples' }
    expect(invocationDir(env, pkg)).toBe('/repo/examples')
  })

  it('should use INIT_CWD when npm ran the package script', () => {
    expect(invocationDir({ ...npmScript, INIT_CWD: '/repo' }, pkg)).toBe('/repo')
  })

  it('should keep the working directory of a process started elsewhere with inherited variables', () => {
    const env = { ...npmScript, INIT_CWD: '/repo', TURBO_HASH: 'abc', TURBO_INVOCATION_DIR: '/repo' }
    expect(invocationDir(env, '/tmp/job')).toBe('/tmp/job')
    expect(invocationDir({}, '/somewhere')).toBe('/somewhere')
  })
})

describe('projectRoot', () => {
  it('should find the workspace root above a package folder', () => {
    expect(projectRoot(packageDir)).toBe(repoRoot)
    expect(projectRoot(join(repoRoot, 'examples', 'aws'))).toBe(repoRoot)
  })

  it('should fall back to the folder itself outside any package', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgerec-root-'))
    try {
      expect(projectRoot(dir)).toBe(dir)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('edgerec-train bin', () => {
  it('should print the usage from the repository root and from another folder', async () => {
    const other = await mkdtemp(join(tmpdir(), 'edgerec-bin-'))
    try {
      for (const cwd of [repoRoot, other]) {
        const { stdout } = await exec(process.execPath, [shim, '--help'], { cwd, env: userEnv() })
        expect(stdout).toContain('Usage:')
        expect(stdout).toContain('edgerec-train train')
      }
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })

  it('should be linked into node_modules/.bin by npm install before anything is built', async () => {
    // A workspace with the trainer's real bin declaration and its committed bin/ folder, nothing
    // built: npm links a bin only when its target exists at install time.
    const dir = await mkdtemp(join(tmpdir(), 'edgerec-npm-bin-'))
    try {
      const trainer = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as {
        name: string
        version: string
        bin: Record<string, string>
      }
      await mkdir(join(dir, 'packages', 'trainer'), { recursive: true })
      await cp(join(packageDir, 'bin'), join(dir, 'packages', 'trainer', 'bin'), { recursive: true })
      await writeFile(
        join(dir, 'packages', 'trainer', 'package.json'),
        JSON.stringify({ name: trainer.name, version: trainer.version, type: 'module', bin: trainer.bin }),
      )
      await writeFile(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'root', private: true, workspaces: ['packages/trainer'] }),
      )
      await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
        cwd: dir,
        env: userEnv(),
      })
      expect(await readdir(join(dir, 'node_modules', '.bin'))).toContain('edgerec-train')
      expect(await realpath(join(dir, 'node_modules', '.bin', 'edgerec-train'))).toBe(
        await realpath(join(dir, 'packages', 'trainer', 'bin', 'edgerec-train.js')),
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('edgerec-train paths', () => {
  // Inside the repository (turbo needs its root above the invocation folder); .edgerec/ is ignored by git.
  let work: string
  beforeAll(async () => {
    await mkdir(join(repoRoot, '.edgerec'), { recursive: true })
    work = await mkdtemp(join(repoRoot, '.edgerec', 'paths-test-'))
    await mkdir(join(work, 'data'))
    await writeGeneratedData(
      { events: 3000, users: 120, items: 40, seed: 7 },
      { path: join(work, 'data', 'events.ndjson'), catalogPath: join(work, 'data', 'catalog.json') },
    )
    await writeFile(
      join(work, 'train.config.mjs'),
      `export default ${JSON.stringify({
        events: { kind: 'ndjson', path: 'data/events.ndjson' },
        als: { factors: 4, iterations: 1, threads: 1 },
        evaluation: { enabled: false },
      })}\n`,
    )
  })
  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  const versions = async (dir: string): Promise<string[]> =>
    (await readdir(join(dir, 'models')).catch(() => [] as string[])).filter((v) => !v.startsWith('.'))

  it('should resolve --config, the config paths and --output against the folder turbo run was started in', async () => {
    await exec(
      join(repoRoot, 'node_modules', '.bin', 'turbo'),
      [
        'run',
        'train',
        '--filter=@edgerec/trainer',
        '--output-logs=errors-only',
        '--',
        '--config',
        'train.config.mjs',
        '--output',
        'turbo-models',
      ],
      { cwd: work, env: userEnv() },
    )
    expect(await versions(join(work, 'turbo-models'))).toHaveLength(1)
    // turbo checks (and on a cold cache rebuilds) every package the trainer needs first.
  }, 300_000)

  it('should resolve a relative EDGEREC_CONFIG against the folder npm run was started in', async () => {
    await exec('npm', ['run', 'train', '-w', '@edgerec/trainer', '--', '--output', 'npm-models', '--quiet'], {
      cwd: work,
      env: { ...userEnv(), EDGEREC_CONFIG: 'train.config.mjs' },
    })
    expect(await versions(join(work, 'npm-models'))).toHaveLength(1)
  })

  it('should write to .edgerec/models at the project root by default', async () => {
    const root = join(work, 'project')
    await mkdir(join(root, 'sub'), { recursive: true })
    await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'p', private: true, workspaces: [] }))
    const { stdout } = await exec(
      process.execPath,
      [shim, 'train', '--config', '../../train.config.mjs', '--input', '../../data/events.ndjson', '--quiet'],
      { cwd: join(root, 'sub'), env: userEnv() },
    )
    expect(await versions(join(root, '.edgerec', 'models'))).toEqual([stdout.trim()])
  })
})

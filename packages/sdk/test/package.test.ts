/**
 * The package as npm would publish it: `npm pack` / `npm publish --dry-run` (offline: no registry is
 * contacted), publint and @arethetypeswrong/cli on the packed tarball, source maps that carry their
 * sources, and a README that stands alone. Needs the build (`npm run build -w @edgerec/sdk`).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { publint } from 'publint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = new URL('..', import.meta.url).pathname
const scratch = mkdtempSync(join(tmpdir(), 'edgerec-sdk-pack-'))
/** An unreachable registry: proves the dry runs need no network. */
const OFFLINE = ['--offline', '--registry', 'http://127.0.0.1:9/']

function run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'warn' },
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

let files: string[]
let tarball: string

beforeAll(() => {
  const packed = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch, ...OFFLINE])
  expect(packed.status, packed.stderr).toBe(0)
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  files = info!.files.map((f) => f.path).sort()
  tarball = join(scratch, info!.filename)
})

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('published package', () => {
  it('should ship the ESM build, its declarations and maps, README, LICENSE and nothing else', () => {
    expect(files).toContain('dist/index.js')
    expect(files).toContain('dist/index.d.ts')
    expect(files).toContain('dist/index.js.map')
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']))
    const unexpected = files.filter(
      (f) =>
        !/^dist\/[a-z-]+\.(js|d\.ts|js\.map)$/.test(f) &&
        !['README.md', 'LICENSE', 'package.json'].includes(f),
    )
    expect(unexpected).toEqual([])
    expect(files.some((f) => f.includes('.test.'))).toBe(false)
  })

  it('should pass npm publish --dry-run without a registry', () => {
    const r = run('npm', ['publish', '--dry-run', '--json', '--ignore-scripts', ...OFFLINE])
    expect(r.status, r.stderr).toBe(0)
    const answer = JSON.parse(r.stdout) as Record<string, { name: string; files: unknown[] }>
    expect(answer['@edgerec/sdk']?.files.length).toBe(files.length)
  })

  it('should be released by the tag workflow with npm publish --provenance', () => {
    const workflow = readFileSync(join(root, '../../.github/workflows/release.yml'), 'utf8')
    expect(workflow).toMatch(/tags: \["sdk-v\*"\]/)
    expect(workflow).toContain('id-token: write')
    expect(workflow).toContain('npm publish --provenance --access public -w @edgerec/sdk')
  })

  it('should be publint clean', async () => {
    // NOTE: the tarball npm packed above, unpacked by publint under its `package/` folder.
    const bytes = readFileSync(tarball)
    const { messages } = await publint({
      pkgDir: 'package',
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      strict: true,
    })
    expect(messages).toEqual([])
  })

  it('should be @arethetypeswrong/cli clean for ESM-only (import, bundlers; require(esm) on Node ≥ 22.12)', () => {
    const r = run(join(root, '../../node_modules/.bin/attw'), [
      tarball,
      '--profile',
      'esm-only',
      '--format',
      'json',
    ])
    const report = JSON.parse(r.stdout) as {
      analysis: { problems: { kind: string; resolutionKind?: string }[] }
    }
    const problems = report.analysis.problems.filter(
      (p) => p.resolutionKind !== 'node16-cjs' && p.resolutionKind !== 'node10',
    )
    expect(problems).toEqual([])
    expect(r.status, r.stderr).toBe(0)
  })

  it('should ship source maps that carry their sources (src/ is not shipped)', () => {
    const maps = files.filter((f) => f.endsWith('.js.map'))
    expect(maps.length).toBeGreaterThan(5)
    for (const file of maps) {
      const map = JSON.parse(readFileSync(join(root, file), 'utf8')) as {
        sources: string[]
        sourcesContent?: (string | null)[]
      }
      expect(map.sourcesContent?.length, file).toBe(map.sources.length)
      expect(
        map.sourcesContent?.every((s) => typeof s === 'string' && s.length > 0),
        file,
      ).toBe(true)
    }
    expect(files.some((f) => f.endsWith('.d.ts.map'))).toBe(false)
  })

  it('should have a README that stands alone: no links or references into the repository', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(readme).not.toMatch(/\]\((?!https?:|#)[^)]*\)/)
    expect(readme).not.toMatch(/\.\.\//)
    for (const heading of ['Install', 'identify', 'React Native', 'require'])
      expect(readme).toContain(heading)
    for (const file of files.filter((f) => f.endsWith('.d.ts'))) {
      expect(readFileSync(join(root, file), 'utf8'), file).not.toMatch(/\.\.\/\.\.\/docs/)
    }
  })
})

/**
 * The worker's configuration as CI sees it, offline: the generated `Env` types match wrangler.jsonc
 * (`wrangler types --check`), and `wrangler deploy --dry-run` bundles the worker within the Workers
 * size limit. Both were checked to need no network (they pass with every request sent to a dead proxy).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { PACKAGE_DIR, typegenArgs, wrangler } from './wrangler.ts'

const OFFLINE = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  CLOUDFLARE_API_TOKEN: '',
}
const packageJson = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'))
const scratch = mkdtempSync(join(tmpdir(), 'edgerec-worker-config-'))

afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('worker configuration', () => {
  it('should have worker-configuration.d.ts generated from wrangler.jsonc (wrangler types --check)', () => {
    const run = wrangler([...typegenArgs(packageJson), '--check'], PACKAGE_DIR, OFFLINE)
    expect(run.status, `${run.stdout}\n${run.stderr}\nRun: npm run cf-typegen -w @edgerec/edge-worker`).toBe(
      0,
    )
    expect(run.stdout).toMatch(/up to date/)
  })

  it('should catch a binding added to wrangler.jsonc without regenerating the types', () => {
    // A copy of the config with one more var, checked against the committed types.
    const config = readFileSync(join(PACKAGE_DIR, 'wrangler.jsonc'), 'utf8').replace(
      '"vars": {',
      '"vars": {\n    "A_NEW_VAR": "1",',
    )
    writeFileSync(join(PACKAGE_DIR, 'wrangler.drift-test.jsonc'), config)
    try {
      const run = wrangler(
        [...typegenArgs(packageJson), '--check', '-c', 'wrangler.drift-test.jsonc'],
        PACKAGE_DIR,
        OFFLINE,
      )
      expect(run.status).not.toBe(0)
      expect(`${run.stdout}${run.stderr}`).toMatch(/out of date|not up to date/i)
    } finally {
      rmSync(join(PACKAGE_DIR, 'wrangler.drift-test.jsonc'), { force: true })
    }
  })

  it('should bundle with wrangler deploy --dry-run, offline, within the 3 MiB (free plan) gzip limit', () => {
    const outdir = join(scratch, 'bundle')
    const run = wrangler(['deploy', '--dry-run', '--outdir', outdir], PACKAGE_DIR, OFFLINE)
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stdout).toContain('--dry-run: exiting now.')
    for (const binding of ['env.DB', 'env.MODELS_KV', 'env.MODELS_R2']) expect(run.stdout).toContain(binding)
    const bundle = join(outdir, 'index.js')
    expect(existsSync(bundle)).toBe(true)
    const gzip = gzipSync(readFileSync(bundle)).byteLength
    console.log(`wrangler deploy --dry-run: ${statSync(bundle).size} B, ${gzip} B gzipped`)
    expect(gzip).toBeLessThan(3 * 1024 * 1024)
  })
})

import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const exec = promisify(execFile)

describe('edgerec-train startup', () => {
  it('should load no Parquet library and no cloud SDK before a command needs one (their memory counts in every run)', async () => {
    // A fresh Node records every module the CLI's command runner resolves when it is imported.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const run = pathToFileURL(fileURLToPath(new URL('./run.ts', import.meta.url))).href
    const probe = `
      import { registerHooks } from 'node:module'
      const seen = []
      registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r } })
      await import(${JSON.stringify(run)})
      console.log(JSON.stringify(seen))`
    const { stdout } = await exec(process.execPath, ['--import', tsx, '--input-type=module', '-e', probe])
    const loaded = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
    expect(loaded.some((url) => url.endsWith('/src/cli/run.ts'))).toBe(true)
    expect(
      loaded.filter((url) => /\/node_modules\/(hyparquet|@aws-sdk|@azure|@google-cloud)/.test(url)),
    ).toEqual([])
  })
})

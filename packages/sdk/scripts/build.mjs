#!/usr/bin/env node
// Builds the ESM (dist/) and CommonJS (dist/cjs/) outputs, each with its own declarations, so
// `import` and `require` both get types of the right module format.
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('..', import.meta.url).pathname
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
rmSync(`${root}dist`, { recursive: true, force: true })
for (const config of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  const run = spawnSync(process.execPath, [tsc, '-p', config], { cwd: root, stdio: 'inherit' })
  if (run.status !== 0) process.exit(run.status ?? 1)
}
mkdirSync(`${root}dist/cjs`, { recursive: true })
// NOTE: the package is "type": "module"; this marks dist/cjs/*.js (and its .d.ts) as CommonJS.
writeFileSync(`${root}dist/cjs/package.json`, `${JSON.stringify({ type: 'commonjs' })}\n`)

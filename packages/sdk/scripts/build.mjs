#!/usr/bin/env node
// Builds the package: ES modules with declarations into dist/. ESM only, so there is one copy of each
// class (an error thrown by the SDK is `instanceof SdkError` whether the app used import or require):
// Node ≥ 22.12 (and 20.19) loads it with require() too (require(esm)). Source maps embed their sources
// (`inlineSources`), because src/ is not shipped.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'

const root = new URL('..', import.meta.url).pathname
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
rmSync(`${root}dist`, { recursive: true, force: true })
const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
process.exit(run.status ?? 1)

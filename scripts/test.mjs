#!/usr/bin/env node
// Runs every package's tests through turbo, then prints one summary line that CI and humans can read:
// "Tests: N passed, N failed". Each package's vitest writes a JSON report to test-results/vitest.json.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const packages = [
  'packages/core',
  'packages/trainer',
  'packages/adapters',
  'packages/edge-worker',
  'packages/sdk',
  'packages/react',
  'examples/demo-store',
]
for (const p of packages) rmSync(join(root, p, 'test-results/vitest.json'), { force: true })

function step(label, command, args) {
  console.log(`\n▶ ${label}: ${command} ${args.join(' ')}`)
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env })
  return r.status === 0
}

const nodeMajor = Number(process.versions.node.split('.')[0])
if (nodeMajor < 22) {
  console.error(
    `edgerec needs Node >= 22.12 (got ${process.version}). Run through npm (npm test), which uses node_modules/.bin/node.`,
  )
  process.exit(1)
}
const linted = step('lint + format check', 'biome', ['ci', '.'])
const typed = step('typecheck', 'turbo', ['run', 'typecheck'])
const run = {
  status: step('tests', 'turbo', ['run', 'test', '--concurrency=1', ...process.argv.slice(2)]) ? 0 : 1,
}

let passed = 0
let failed = 0
let skipped = 0
const missing = []
for (const p of packages) {
  const file = join(root, p, 'test-results/vitest.json')
  if (!existsSync(join(root, p, 'package.json'))) continue
  if (!existsSync(file)) {
    missing.push(p)
    continue
  }
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  console.log(`${p}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`)
}
if (missing.length > 0) console.log(`no test report from: ${missing.join(', ')}`)
console.log(`Tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(
  !linted || !typed || run.status !== 0 || failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0,
)

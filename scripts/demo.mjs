#!/usr/bin/env node
// `npm run demo [-- flags]`: builds what the demo needs (`turbo run build` for the demo store's
// dependencies), then runs the demo orchestrator (examples/demo-store/demo/main.ts), which
// generates data, loads it into the worker's local D1, trains, publishes and serves on 127.0.0.1.
// Flags go to the orchestrator: --fresh, --no-serve, --retrain, --events N, … (--help lists them).
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const bin = (name) => join(root, 'node_modules/.bin', name)
const args = process.argv.slice(2)

const nodeMajor = Number(process.versions.node.split('.')[0])
if (nodeMajor < 22) {
  console.error(
    `The demo needs Node >= 22.12 (got ${process.version}). Run it through npm (npm run demo), which uses node_modules/.bin/node.`,
  )
  process.exit(1)
}

// The orchestrator's "Ready in N s" counts from here, so it includes this build.
process.env.EDGEREC_DEMO_STARTED_AT = String(Date.now())
if (!args.includes('--help') && !args.includes('-h')) {
  const t0 = performance.now()
  console.log('▶ Building the packages the demo needs (turbo run build)')
  const build = spawnSync(
    bin('turbo'),
    ['run', 'build', '--filter=@edgerec/example-demo-store^...', '--output-logs=errors-only'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    },
  )
  if (build.status !== 0) {
    console.error('✗ turbo run build failed (see above).')
    process.exit(build.status ?? 1)
  }
  console.log(`  ✓ ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}

const child = spawn(bin('tsx'), [join(root, 'examples/demo-store/demo/main.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
  env: process.env,
})
// Ctrl-C reaches the orchestrator directly (same process group); it stops its servers and exits.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => child.kill('SIGTERM'))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))

/**
 * `npm run bench -w @edgerec/adapters`: the storage throughput benchmark, then the publish
 * benchmark, each printing its figures and its ratio to a baseline measured in the same run.
 * Each runs in its own process (own arguments: see benchmarks/storage/run.ts and
 * benchmarks/publish/run.ts to run one with other sizes).
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

for (const bench of ['storage', 'publish']) {
  console.log(`\n=== ${bench} ===`)
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, bench, 'run.ts')],
    {
      stdio: 'inherit',
    },
  )
  if (result.status !== 0) process.exit(result.status ?? 1)
}

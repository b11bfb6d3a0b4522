/**
 * `npm run bench -w @edgerec/trainer`: the trainer's benchmarks. Arguments are passed to the ALS
 * speed benchmark (`--scale`, `--iterations`, `--threads`, `--no-baseline`); see benchmarks/als/README.md.
 * With `--reference`, runs the same-run comparison with `implicit` built from source instead
 * (benchmarks/reference/compare.ts, README.md there).
 *
 * @module
 */
if (process.argv.includes('--reference')) {
  // Same-run comparison with the reference library built from source (benchmarks/reference/).
  const { compareWithImplicit } = await import('./reference/compare.js')
  await compareWithImplicit(process.argv.slice(2))
} else {
  await import('./als/speed.js')
}

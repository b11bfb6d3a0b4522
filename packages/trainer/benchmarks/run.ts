/**
 * `npm run bench -w @edgerec/trainer`: the trainer's benchmarks. Arguments are passed to the ALS
 * speed benchmark (`--scale`, `--iterations`, `--threads`, `--no-baseline`); see benchmarks/als/README.md.
 *
 * @module
 */
await import('./als/speed.js')

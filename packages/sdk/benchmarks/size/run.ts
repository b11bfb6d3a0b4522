/**
 * `npm run bench -w @edgerec/sdk`: prints the minified + gzipped size of the SDK per entry point,
 * the ratio to the core-only baseline measured in the same run, and the budget check.
 */
import { BUDGET_GZIP_BYTES, measureSizes } from './measure.ts'

const rows = await measureSizes()
const base = rows[0]!
const full = rows[1]!
console.log(`@edgerec/sdk bundle size (esbuild --bundle --minify, ESM, browser; node ${process.version})`)
console.log('')
console.log('| entry | minified B | gzip B | brotli B | gzip vs baseline |')
console.log('|---|---:|---:|---:|---:|')
for (const row of rows) {
  console.log(
    `| ${row.name} | ${row.minified} | ${row.gzip} | ${row.brotli} | ${(row.gzip / base.gzip).toFixed(2)}× |`,
  )
}
console.log('')
const ok = full.gzip <= BUDGET_GZIP_BYTES
console.log(
  `budget: full client ${full.gzip} B gzip ${ok ? '<=' : '>'} ${BUDGET_GZIP_BYTES} B ${ok ? 'OK' : 'OVER BUDGET'}`,
)
if (!ok) process.exitCode = 1

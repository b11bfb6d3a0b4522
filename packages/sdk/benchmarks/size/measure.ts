/**
 * Bundle size of `@edgerec/sdk` as an app's bundler sees it: esbuild bundles a one-line entry that
 * imports from the published ESM build (dist/), minifies for the browser, and the output is
 * compressed with gzip (level 9) and brotli (quality 11).
 *
 * @module
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

/** One measured entry point. */
export interface SizeRow {
  name: string
  /** What the app imports. */
  entry: string
  minified: number
  gzip: number
  brotli: number
}

/** The entries measured: the first one is the baseline of the ratios. */
export const ENTRIES: readonly { name: string; entry: string }[] = [
  {
    name: 'core client only (track + flush + reads, no page layer)',
    entry: `import { EdgerecClient } from '@edgerec/sdk'; globalThis.edgerec = EdgerecClient`,
  },
  {
    name: 'createClient (full browser client: core + localStorage + page-hide delivery)',
    entry: `import { createClient } from '@edgerec/sdk'; globalThis.edgerec = createClient`,
  },
  {
    name: 'every export',
    entry: `import * as sdk from '@edgerec/sdk'; globalThis.edgerec = sdk`,
  },
]

/** Gzipped bytes the full browser client may weigh; CI fails above it (test/size.test.ts). */
export const BUDGET_GZIP_BYTES = 3900

/** Bundles and compresses each entry. Needs the package built (`npm run build -w @edgerec/sdk`). */
export async function measureSizes(): Promise<SizeRow[]> {
  const resolveDir = new URL('.', import.meta.url).pathname
  const rows: SizeRow[] = []
  for (const { name, entry } of ENTRIES) {
    const result = await build({
      stdin: { contents: entry, resolveDir, loader: 'js' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    })
    const code = result.outputFiles[0]?.contents ?? new Uint8Array()
    rows.push({
      name,
      entry,
      minified: code.byteLength,
      gzip: gzipSync(code, { level: 9 }).byteLength,
      brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).byteLength,
    })
  }
  return rows
}

/**
 * Starts the real edge worker for the SDK's integration tests: packages/edge-worker/src bundled with
 * esbuild, run in workerd by Miniflare on 127.0.0.1 with the compatibility date, flags and vars of
 * its wrangler.jsonc, an in-memory D1 migrated from packages/edge-worker/drizzle, and empty KV/R2.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { build, type Plugin } from 'esbuild'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'

const workerDir = new URL('../../edge-worker/', import.meta.url).pathname
const coreWasmDir = new URL('../../core/wasm/', import.meta.url).pathname

/**
 * The worker imports its scoring kernels as `.wasm` modules (`@edgerec/core/wasm/*.wasm`), which
 * workerd takes as compiled modules next to the script, as wrangler bundles them: each import stays
 * external under its file name and its bytes are collected for Miniflare.
 */
function wasmModules(collected: Map<string, Uint8Array>): Plugin {
  return {
    name: 'edgerec-wasm-modules',
    setup(b) {
      b.onResolve({ filter: /\.wasm$/ }, (args) => {
        const name = basename(args.path)
        collected.set(name, readFileSync(coreWasmDir + name))
        return { path: `./${name}`, external: true }
      })
    },
  }
}

/** A running worker. */
export interface RunningWorker {
  url: URL
  /** The worker's D1 binding, to check what was stored. */
  db: Awaited<ReturnType<Miniflare['getD1Database']>>
  dispose(): Promise<void>
}

/** Starts the worker with the given publishable key (and a secret key nobody uses). */
export async function startWorker(publishableKey: string): Promise<RunningWorker> {
  const wasm = new Map<string, Uint8Array>()
  const bundle = await build({
    plugins: [wasmModules(wasm)],
    entryPoints: [`${workerDir}src/index.ts`],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'silent',
  })
  // wrangler.jsonc: comments on their own lines and trailing commas are all the JSONC it uses.
  const wrangler = JSON.parse(
    readFileSync(`${workerDir}wrangler.jsonc`, 'utf8')
      .replace(/^\s*\/\/.*$/gm, '')
      .replace(/,(\s*[}\]])/g, '$1'),
  ) as { compatibility_date: string; compatibility_flags?: string[]; vars?: Record<string, string> }
  // NOTE: miniflare 5 (the version wrangler 4.164 runs) takes a new options shape; the v4 shape converts to it.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: 0,
      modules: [
        { type: 'ESModule', path: 'index.mjs', contents: bundle.outputFiles[0]!.text },
        ...[...wasm].map(([path, contents]) => ({ type: 'CompiledWasm' as const, path, contents })),
      ],
      compatibilityDate: wrangler.compatibility_date,
      compatibilityFlags: wrangler.compatibility_flags ?? [],
      d1Databases: { DB: 'edgerec-sdk-test' },
      kvNamespaces: ['MODELS_KV'],
      r2Buckets: ['MODELS_R2'],
      bindings: { ...wrangler.vars, PUBLISHABLE_KEY: publishableKey, SECRET_KEY: 'sk_sdk_integration' },
    }),
  )
  try {
    const url = await mf.ready
    const db = await mf.getD1Database('DB')
    const dir = `${workerDir}drizzle/`
    for (const file of readdirSync(dir)
      .filter((name) => name.endsWith('.sql'))
      .sort()) {
      const statements = readFileSync(dir + file, 'utf8')
        .split('--> statement-breakpoint')
        .map((sql) => sql.trim())
        .filter(Boolean)
      await db.batch(statements.map((sql) => db.prepare(sql)))
    }
    return { url, db, dispose: () => mf.dispose() }
  } catch (error) {
    await mf.dispose()
    throw error
  }
}

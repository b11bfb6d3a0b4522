/**
 * Starts the real edge worker for the SDK's integration tests: packages/edge-worker/src bundled with
 * esbuild, run in workerd by Miniflare on 127.0.0.1 with the compatibility date, flags and vars of
 * its wrangler.jsonc, an in-memory D1 migrated from packages/edge-worker/drizzle, and empty KV/R2.
 *
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { convertV4MiniflareOptions, Miniflare } from 'miniflare'

const workerDir = new URL('../../edge-worker/', import.meta.url).pathname

/** A running worker. */
export interface RunningWorker {
  url: URL
  /** The worker's D1 binding, to check what was stored. */
  db: Awaited<ReturnType<Miniflare['getD1Database']>>
  dispose(): Promise<void>
}

/** Starts the worker with the given publishable key (and a secret key nobody uses). */
export async function startWorker(publishableKey: string): Promise<RunningWorker> {
  const bundle = await build({
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
      modules: true,
      script: bundle.outputFiles[0]!.text,
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

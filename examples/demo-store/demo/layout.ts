/**
 * Where the demo keeps its state: one folder holding the `wrangler dev` persistence (local D1, KV,
 * R2), the trainer's model registry, the catalog the store page shows and the trainer config.
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `examples/demo-store`. */
export const demoStoreDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The repository root. */
export const repoRoot = resolve(demoStoreDir, '../..')
/** `packages/edge-worker`. */
export const workerDir = join(repoRoot, 'packages/edge-worker')
/** The edge worker's wrangler config (bindings `DB`, `MODELS_KV`, `MODELS_R2`). */
export const workerConfig = join(workerDir, 'wrangler.jsonc')
/** Default state folder (git-ignored: `.edgerec/`). */
export const defaultStateDir = join(repoRoot, '.edgerec/demo-store')
/** D1 database name in `wrangler.jsonc`. */
export const D1_DATABASE = 'edgerec'

/** Paths inside one state folder. */
export interface DemoLayout {
  dir: string
  /** `wrangler dev --persist-to` folder (`<persistTo>/v3/{d1,kv,r2}`). */
  persistTo: string
  /** Model registry (local storage root holding `models/<version>/…`). */
  models: string
  /** Catalog JSON served to the page as `/catalog.json`. */
  catalog: string
  /** Trainer config (`EDGEREC_CONFIG`). */
  trainerConfig: string
  /** Written when preparation finished: `PreparedState`. */
  marker: string
}

/** The layout of a state folder. */
export function demoLayout(dir: string = defaultStateDir): DemoLayout {
  const abs = resolve(dir)
  return {
    dir: abs,
    persistTo: join(abs, 'wrangler'),
    models: join(abs, 'models'),
    catalog: join(abs, 'catalog.json'),
    trainerConfig: join(abs, 'edgerec.config.mjs'),
    marker: join(abs, 'prepared.json'),
  }
}

/**
 * The SQLite file behind the local D1 database (Miniflare keeps one file per database under
 * `v3/d1/miniflare-D1DatabaseObject/`, next to a `metadata.sqlite`).
 *
 * @throws Error when migrations have not created it yet
 */
export function d1SqlitePath(layout: DemoLayout): string {
  const dir = join(layout.persistTo, 'v3/d1/miniflare-D1DatabaseObject')
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite')
    : []
  if (files.length !== 1) {
    throw new Error(
      `Expected one local D1 database file in ${dir}, found ${files.length}. Run the demo with --fresh to rebuild the state.`,
    )
  }
  return join(dir, files[0]!)
}

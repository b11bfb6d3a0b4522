import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { loadProvider } from '../config/load-provider.js'
import type { LocalPublishConfig } from '../config/types.js'
import { AdapterError } from '../errors.js'
import {
  KvBindingStorage,
  type KvNamespaceBinding,
  R2BindingStorage,
  type R2BucketBinding,
} from './bindings.js'
import type { PublishTarget } from './publisher.js'

/** Options of {@link openLocalPublishTarget}: the `local` publish config without `provider`/`keep`. */
export type LocalPublishTargetOptions = Omit<LocalPublishConfig, 'provider' | 'keep'>

/** A publish target backed by the local `wrangler dev` state. Call `close()` when done. */
export interface LocalPublishTarget extends PublishTarget {
  /** The `--persist-to` folder (`wrangler dev --persist-to <persistTo>` serves what was published). */
  readonly persistTo: string
  /** The wrangler config whose bindings were used. */
  readonly workerConfig: string
  close(): Promise<void>
}

/** Finds the edge worker's wrangler config: `packages/edge-worker/wrangler.jsonc` or the installed package's. */
export function findWorkerConfig(cwd = process.cwd()): string | undefined {
  const candidates: string[] = []
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    candidates.push(
      join(dir, 'packages/edge-worker/wrangler.jsonc'),
      join(dir, 'packages/edge-worker/wrangler.json'),
    )
    if (dirname(dir) === dir) break
  }
  try {
    const pkg = createRequire(import.meta.url).resolve('@edgerec/edge-worker/package.json')
    candidates.push(join(dirname(pkg), 'wrangler.jsonc'), join(dirname(pkg), 'wrangler.json'))
  } catch {
    // Not installed: only the repository layout is searched.
  }
  return candidates.find((path) => existsSync(path))
}

/**
 * Opens the embedded default publish target: the local KV (`MODELS_KV`) and R2 (`MODELS_R2`) state
 * that `wrangler dev` serves. Writes go through wrangler's own Miniflare (`getPlatformProxy`) with
 * the worker's wrangler config, so namespace ids, bucket names and the on-disk layout
 * (`<persistTo>/v3/kv`, `<persistTo>/v3/r2`) are exactly those `wrangler dev --persist-to <persistTo>`
 * reads; the default `persistTo` is the worker's `.wrangler/state`, what plain `wrangler dev` uses.
 *
 * @example
 * ```ts
 * const target = await openLocalPublishTarget()
 * try { await publishVersion({ source, version, target }) } finally { await target.close() }
 * ```
 */
export async function openLocalPublishTarget(
  options: LocalPublishTargetOptions = {},
): Promise<LocalPublishTarget> {
  const workerConfig = options.workerConfig ? resolve(options.workerConfig) : findWorkerConfig()
  if (!workerConfig || !existsSync(workerConfig)) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `publish.workerConfig ${workerConfig ? `(${workerConfig}) does not exist` : 'is not set and no packages/edge-worker/wrangler.jsonc was found'} for provider 'local'. ` +
        "Point it at the edge worker's wrangler.jsonc.",
    )
  }
  const persistTo = resolve(options.persistTo ?? join(dirname(workerConfig), '.wrangler/state'))
  const { getPlatformProxy } = await loadProvider('publish', 'local', ['wrangler'], () => import('wrangler'))
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath: workerConfig,
    // getPlatformProxy takes the `v3` folder itself; `wrangler dev --persist-to X` uses `X/v3`.
    persist: { path: join(persistTo, 'v3') },
    remoteBindings: false,
    envFiles: [],
  })
  const kv = proxy.env.MODELS_KV as KvNamespaceBinding | undefined
  const r2 = proxy.env.MODELS_R2 as R2BucketBinding | undefined
  if (!kv || !r2) {
    await proxy.dispose()
    throw new AdapterError(
      'CONFIG_INVALID',
      `${workerConfig} must bind a KV namespace as MODELS_KV and an R2 bucket as MODELS_R2 (found: ${Object.keys(proxy.env).join(', ') || 'none'}).`,
    )
  }
  return {
    name: `local (wrangler dev state in ${persistTo})`,
    objects: new R2BindingStorage(r2),
    pointers: new KvBindingStorage(kv),
    shardStorage: 'r2',
    persistTo,
    workerConfig,
    close: () => proxy.dispose(),
  }
}

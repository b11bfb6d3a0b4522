/**
 * `edgerec.config.ts`: one typed object for the trainer (and the publisher): where events come
 * from, how they are weighted, ALS and evaluation settings, tuning, where models go, where they are
 * published and where training runs.
 *
 * @module
 */

import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type {
  BadRowPolicy,
  ComputeConfig,
  EventSourceConfig,
  PublishConfig,
  StorageConfig,
} from '@edgerec/adapters'
import type { AlsOptions } from '../als/index.js'
import type { CatalogSourceConfig } from '../catalog/read.js'
import { TrainerError } from '../errors.js'
import type { SplitKind } from '../evaluation/index.js'
import { MAX_CANDIDATES_PER_USER } from '../export/candidates.js'
import type { PartitionsConfig } from '../export/partitions.js'
import type { GateConfig } from '../gate/index.js'
import type { TuningMetric, TuningSpace, TuningStrategy } from '../tuning/index.js'
import { parseValueTransform, type WeightingOptions } from '../weighting/index.js'

/** Evaluation of each trained model on a held-out split (its metrics go into the manifest). */
export interface EvaluationConfig {
  /** Evaluate before the final training. Default true. */
  enabled?: boolean
  /** Default `temporal`. */
  split?: SplitKind
  /** Default 0.2. */
  testFraction?: number
  /** Default 10. */
  k?: number
}

/** Hyperparameter search before training (off unless `enabled`). */
export interface TuningConfig {
  enabled?: boolean
  /**
   * Values or ranges to try. Default: sized to the data (`adaptiveSpace`): factors 8 … min(128,
   * items / 4), regularization 0.01 … max(1 (10 on small or sparse catalogs), interactions per
   * user / 2), α 0.25 … 40, and the value transforms none / log1p / binary when the values vary.
   */
  space?: TuningSpace
  /**
   * Default `halving`: successive halving over `trials` distinct random candidates (as much ALS work
   * as 10 full random trials); `random`: `trials` full trials; `grid`: every listed combination.
   */
  strategy?: TuningStrategy
  /** Candidates including the base configuration (halving, random). Default 27 for halving, 10 for random. */
  trials?: number
  /** Default `ndcg`. */
  metric?: TuningMetric
  /** Part of train held out for validation. Default 0.2. */
  validationFraction?: number
  /** Trials at once (each single-threaded, on its own worker thread). Default: the ALS threads (all cores). */
  parallel?: number
}

/** Shard layout of the export. */
export interface ExportConfig {
  /** Largest shard. Default 24 MiB. */
  maxShardBytes?: number
  /** Fixed number of user buckets. Default: about 2 MiB per bucket. */
  userBuckets?: number
  targetUserShardBytes?: number
  /**
   * Partitioned retrieval for large catalogs: `{ minItems: 100_000, lists: ⌈√items⌉, nprobe }`
   * (nprobe default: the smallest reaching recall@10 ≥ `targetRecall`, 0.95). Off below `minItems`.
   */
  partitions?: PartitionsConfig
  /**
   * Precomputed candidates per trained user, stored in its user bucket (its best items by the
   * trained vector, training interactions left out): the worker answers a user without events
   * since training from them, without scanning. 0 = none. Default 50 for partitioned versions
   * (found by the probed scan at 4 × nprobe, recall@10 recorded in the manifest), none for
   * exact-scan versions (set it to store the exact top N there too). At most 1000.
   */
  candidates?: number
}

/** The whole configuration; every part is optional. */
export interface EdgerecConfig {
  /** Where events come from. Default: generated demo data in `.edgerec/demo/` (the embedded default). */
  events?: EventSourceConfig
  /**
   * The item catalog exported with the version (issue 17). Default: the `items` table next to
   * SQLite events, or the demo data's `catalog.json`; `{ kind: 'none' }` exports none.
   */
  catalog?: CatalogSourceConfig
  /** When bad input rows become fatal. Default: never (they are counted and reported). */
  badRows?: BadRowPolicy
  /** Event weights, time decay, binary values, min-interaction filters. */
  weighting?: WeightingOptions
  /** ALS hyperparameters (defaults: the reference configuration, all cores). */
  als?: Partial<Omit<AlsOptions, 'onIteration'>>
  evaluation?: EvaluationConfig
  tuning?: TuningConfig
  /**
   * The quality gate before a version may go live (needs evaluation). Default: on, ALS int8 must
   * beat popularity by 5 % and lose at most 2 % against the live version on ndcg@K.
   */
  gate?: GateConfig
  /** Half-life of the trending list, days. Default 7. */
  trendingHalfLifeDays?: number
  export?: ExportConfig
  /** The model registry. Default `{ provider: 'local', root: '.edgerec/models' }`. */
  storage?: StorageConfig
  /** Where `edgerec-train train --publish` publishes. Default: the local `wrangler dev` state. */
  publish?: PublishConfig
  /** Where training runs when submitted through `@edgerec/adapters`' `createCompute`. */
  compute?: ComputeConfig
}

/**
 * Types an `edgerec.config.ts` (identity at run time).
 *
 * @example
 * ```ts
 * // edgerec.config.ts
 * import { defineConfig } from '@edgerec/trainer'
 * export default defineConfig({
 *   events: { kind: 'file', path: 'data/events.ndjson' },
 *   weighting: { halfLifeDays: 30, minUserInteractions: 2 },
 *   als: { factors: 64, iterations: 15 },
 *   storage: { provider: 's3', bucket: 'my-models' },
 * })
 * ```
 */
export function defineConfig(config: EdgerecConfig): EdgerecConfig {
  return config
}

const TOP_LEVEL_KEYS = [
  'events',
  'catalog',
  'badRows',
  'weighting',
  'als',
  'evaluation',
  'tuning',
  'gate',
  'trendingHalfLifeDays',
  'export',
  'storage',
  'publish',
  'compute',
] as const

/** The default model registry. */
export const DEFAULT_STORAGE: StorageConfig = { provider: 'local', root: '.edgerec/models' }

/** Config file names looked up in the working directory when no `--config` is given. */
export const CONFIG_FILE_NAMES = [
  'edgerec.config.ts',
  'edgerec.config.mts',
  'edgerec.config.mjs',
  'edgerec.config.js',
]

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * Checks the shape of a config (provider sections are checked by `@edgerec/adapters` when used).
 *
 * @throws TrainerError `CONFIG_INVALID` naming the field
 */
export function validateConfig(input: unknown, where = 'config'): EdgerecConfig {
  if (!isObject(input))
    throw new TrainerError(
      'CONFIG_INVALID',
      `${where} must export an object (export default defineConfig({ … })).`,
    )
  for (const key of Object.keys(input)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `${where}: unknown key "${key}". Known keys: ${TOP_LEVEL_KEYS.join(', ')}.`,
      )
    }
  }
  for (const key of [
    'events',
    'catalog',
    'badRows',
    'weighting',
    'als',
    'evaluation',
    'tuning',
    'gate',
    'export',
    'storage',
    'publish',
    'compute',
  ] as const) {
    if (input[key] !== undefined && !isObject(input[key]))
      throw new TrainerError('CONFIG_INVALID', `${where}: ${key} must be an object.`)
  }
  const events = input.events as Record<string, unknown> | undefined
  if (
    events &&
    !['csv', 'tsv', 'ndjson', 'parquet', 'file', 'sqlite', 'd1', 'archive'].includes(String(events.kind))
  ) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `${where}: events.kind must be one of csv, tsv, ndjson, parquet, file, sqlite, d1, archive; got ${JSON.stringify(events.kind)}.`,
    )
  }
  const transform = (input.weighting as Record<string, unknown> | undefined)?.transform
  if (transform !== undefined) {
    try {
      parseValueTransform(String(transform))
    } catch (error) {
      throw new TrainerError('CONFIG_INVALID', `${where}: weighting.transform: ${(error as Error).message}`)
    }
  }
  const catalog = input.catalog as Record<string, unknown> | undefined
  if (catalog && !['file', 'sqlite', 'none'].includes(String(catalog.kind))) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `${where}: catalog.kind must be one of file, sqlite, none; got ${JSON.stringify(catalog.kind)}.`,
    )
  }
  const numbers: [string, unknown][] = [
    ['trendingHalfLifeDays', input.trendingHalfLifeDays],
    ['evaluation.testFraction', (input.evaluation as Record<string, unknown> | undefined)?.testFraction],
    ['evaluation.k', (input.evaluation as Record<string, unknown> | undefined)?.k],
    ['weighting.halfLifeDays', (input.weighting as Record<string, unknown> | undefined)?.halfLifeDays],
  ]
  for (const [name, value] of numbers) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `${where}: ${name} must be a positive number, got ${JSON.stringify(value)}.`,
      )
    }
  }
  const candidates = (input.export as Record<string, unknown> | undefined)?.candidates
  if (
    candidates !== undefined &&
    (typeof candidates !== 'number' ||
      !Number.isInteger(candidates) ||
      candidates < 0 ||
      candidates > MAX_CANDIDATES_PER_USER)
  )
    throw new TrainerError(
      'CONFIG_INVALID',
      `${where}: export.candidates must be an integer in 0..${MAX_CANDIDATES_PER_USER} (candidates per trained user; 0 = none), got ${JSON.stringify(candidates)}.`,
    )
  const partitions = (input.export as Record<string, unknown> | undefined)?.partitions
  if (partitions !== undefined) {
    if (!isObject(partitions))
      throw new TrainerError('CONFIG_INVALID', `${where}: export.partitions must be an object.`)
    for (const [key, value] of Object.entries(partitions)) {
      const known = [
        'minItems',
        'lists',
        'nprobe',
        'targetRecall',
        'sampleUsers',
        'iterations',
        'seed',
        'spill',
      ]
      if (!known.includes(key))
        throw new TrainerError(
          'CONFIG_INVALID',
          `${where}: export.partitions has an unknown key "${key}". Known keys: ${known.join(', ')}.`,
        )
      const ok =
        typeof value === 'number' &&
        (key === 'targetRecall'
          ? value > 0 && value <= 1
          : key === 'spill'
            ? value >= 0 && value <= 10
            : Number.isInteger(value) && (value >= 1 || key === 'seed' || key === 'minItems') && value >= 0)
      if (!ok)
        throw new TrainerError(
          'CONFIG_INVALID',
          `${where}: export.partitions.${key} must be ${key === 'targetRecall' ? 'a number in (0, 1]' : key === 'spill' ? 'a number in [0, 10] (0 = off)' : 'a non-negative integer (lists, nprobe, sampleUsers, iterations ≥ 1)'}, got ${JSON.stringify(value)}.`,
        )
    }
  }
  const gate = input.gate as Record<string, unknown> | undefined
  for (const key of ['minLiftOverPopularity', 'maxDropVsLive'] as const) {
    const value = gate?.[key]
    if (
      value !== undefined &&
      (typeof value !== 'number' ||
        !Number.isFinite(value) ||
        value < 0 ||
        (value >= 1 && key === 'maxDropVsLive'))
    ) {
      throw new TrainerError(
        'CONFIG_INVALID',
        `${where}: gate.${key} must be a number ≥ 0${key === 'maxDropVsLive' ? ' and < 1' : ''} (a relative margin, e.g. 0.05), got ${JSON.stringify(value)}.`,
      )
    }
  }
  if (
    gate?.metric !== undefined &&
    !['ndcg', 'map', 'precision', 'recall', 'auc'].includes(String(gate.metric))
  ) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `${where}: gate.metric must be one of ndcg, map, precision, recall, auc; got ${JSON.stringify(gate.metric)}.`,
    )
  }
  return input as EdgerecConfig
}

/**
 * Loads a config file with a dynamic `import()`. `.ts` files run through Node's built-in type
 * stripping (Node ≥ 22.18 / 24): erasable TypeScript only (no enums, namespaces or parameter
 * properties), and relative imports must name the `.ts` file.
 *
 * @param path - file to load; when omitted, `EDGEREC_CONFIG` or the first of
 *   {@link CONFIG_FILE_NAMES} in `cwd`; no file at all → `{}` (the embedded default)
 */
export async function loadConfig(
  path?: string,
  cwd = process.cwd(),
): Promise<{ config: EdgerecConfig; path?: string }> {
  let file = path ?? process.env.EDGEREC_CONFIG
  if (file === undefined || file === '') {
    file = CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate))
    if (file === undefined) return { config: {} }
  }
  const absolute = resolve(cwd, file)
  if (!existsSync(absolute)) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `Config file ${absolute} does not exist. Check --config (or EDGEREC_CONFIG).`,
    )
  }
  let module: Record<string, unknown>
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>
  } catch (cause) {
    const message = (cause as Error).message
    const hint = /ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX|Unknown file extension ".ts"|strip-only/.test(
      message + String((cause as { code?: string }).code),
    )
      ? ' Node strips TypeScript types but cannot run enums, namespaces or parameter properties: use plain objects and string unions.'
      : ''
    throw new TrainerError('CONFIG_INVALID', `Config file ${absolute} failed to load: ${message}.${hint}`, {
      cause,
    })
  }
  const value = module.default ?? module.config
  return { config: validateConfig(value, absolute), path: absolute }
}

/** `EDGEREC_OUTPUT` (JSON storage config set by the compute adapters), if present. */
export function storageFromEnv(env: NodeJS.ProcessEnv = process.env): StorageConfig | undefined {
  const raw = env.EDGEREC_OUTPUT
  if (raw === undefined || raw === '') return undefined
  try {
    const parsed = JSON.parse(raw) as unknown
    if (!isObject(parsed) || typeof parsed.provider !== 'string') throw new Error('not a storage config')
    return parsed as unknown as StorageConfig
  } catch (cause) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `EDGEREC_OUTPUT must be a JSON storage config like {"provider":"s3","bucket":"my-models"}; got ${raw.slice(0, 80)}.`,
      { cause },
    )
  }
}

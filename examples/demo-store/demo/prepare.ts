/**
 * The demo's preparation steps, each usable on its own (the demo CLI and the end-to-end tests run
 * exactly these): generate a catalog and event history with the trainer's generator, create the
 * worker's local D1 with its migrations, load the events into it, train with `turbo run train`
 * reading that D1's SQLite file, and publish the version into the local KV/R2 that `wrangler dev`
 * serves.
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createPublisher, createStorage, type PublishReport } from '@edgerec/adapters'
import type { LivePointer, ModelManifest } from '@edgerec/core'
import { catalogFor, type GenerateOptions, generateEvents } from '@edgerec/trainer'
import { loadEvents } from './d1.js'
import { bin, run } from './exec.js'
import { type DemoLayout, d1SqlitePath, repoRoot, workerConfig } from './layout.js'

/** Size and shape of the generated shop. */
export interface DemoDataOptions {
  /** Events in the generated history. */
  events: number
  /** Default: the generator's (`events / 25`). */
  users?: number
  /** Default: the generator's (`events / 40`). */
  items?: number
  /** Categories (≤ 16). Default 10. */
  categories?: number
  seed?: number
  /** Days of history, ending today. Default 60. */
  days?: number
}

/** ALS settings of the demo's training run. */
export interface DemoTrainOptions {
  factors?: number
  iterations?: number
  /** Worker threads (0 = all cores). */
  threads?: number
  /** Forward the trainer's output here (default: the parent's stdout/stderr). */
  output?: 'inherit' | 'pipe'
}

/** What {@link generateDemoData} produced. */
export interface GeneratedDemoData {
  options: GenerateOptions
  catalogItems: number
  categories: string[]
}

const DAY_MS = 86_400_000

/** The generator options of a demo size (history ends at the start of the current day, UTC). */
export function generatorOptions(data: DemoDataOptions, now = Date.now()): GenerateOptions {
  const days = data.days ?? 60
  const options: GenerateOptions = {
    events: data.events,
    categories: data.categories ?? 10,
    seed: data.seed ?? 42,
    days,
    start: Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS,
  }
  if (data.users !== undefined) options.users = data.users
  if (data.items !== undefined) options.items = data.items
  return options
}

/**
 * Writes the catalog the store page shows (`{ categories, items }`, the generator's catalog).
 */
export async function writeCatalog(layout: DemoLayout, options: GenerateOptions): Promise<GeneratedDemoData> {
  const catalog = catalogFor(options)
  await mkdir(layout.dir, { recursive: true })
  const page = {
    categories: catalog.categories.map((c) => ({ name: c.name, share: c.share, items: c.items.length })),
    items: catalog.items.map((i) => ({
      id: i.id,
      name: i.name,
      category: i.category,
      price: i.price,
      colour: i.colour,
    })),
  }
  await writeFile(layout.catalog, `${JSON.stringify(page)}\n`)
  return { options, catalogItems: catalog.items.length, categories: catalog.categories.map((c) => c.name) }
}

/** Generates the history and loads it into the local D1. */
export async function generateAndLoad(
  layout: DemoLayout,
  options: GenerateOptions,
  onProgress?: (loaded: number) => void,
): Promise<number> {
  return loadEvents(layout, generateEvents(options), onProgress)
}

/** Writes the trainer config of the demo: events from the local D1 file, models to the state folder. */
export async function writeTrainerConfig(layout: DemoLayout, train: DemoTrainOptions = {}): Promise<void> {
  const config = {
    events: { kind: 'sqlite', path: d1SqlitePath(layout) },
    storage: { provider: 'local', root: layout.models },
    als: {
      factors: train.factors ?? 32,
      iterations: train.iterations ?? 12,
      seed: 42,
      ...(train.threads !== undefined ? { threads: train.threads } : {}),
    },
    evaluation: { split: 'temporal', testFraction: 0.2, k: 10 },
    publish: { provider: 'local', persistTo: layout.persistTo, workerConfig },
  }
  await mkdir(layout.dir, { recursive: true })
  await writeFile(
    layout.trainerConfig,
    `// Written by examples/demo-store/demo (npm run demo). Train with:\n//   EDGEREC_CONFIG=${layout.trainerConfig} npx turbo run train --filter=@edgerec/trainer -- --publish\nexport default ${JSON.stringify(config, null, 2)}\n`,
  )
}

/** Complete model versions in the registry (those with a manifest), oldest first. */
export function listVersions(layout: DemoLayout): string[] {
  const dir = join(layout.models, 'models')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((v) => existsSync(join(dir, v, 'manifest.json')))
    .sort()
}

/** Reads a version's manifest from the registry. */
export async function readManifest(layout: DemoLayout, version: string): Promise<ModelManifest> {
  return JSON.parse(
    await readFile(join(layout.models, 'models', version, 'manifest.json'), 'utf8'),
  ) as ModelManifest
}

/**
 * Trains a model version with `turbo run train` (the trainer's `train` script, which builds what
 * it needs first) on local worker threads, reading the local D1's SQLite file; the trainer prints
 * its progress and evaluation.
 *
 * @returns the new version id
 */
export async function trainModel(layout: DemoLayout, train: DemoTrainOptions = {}): Promise<string> {
  await writeTrainerConfig(layout, train)
  const before = new Set(listVersions(layout))
  await run(
    bin('turbo'),
    ['run', 'train', '--filter=@edgerec/trainer', '--output-logs=full', '--log-prefix=none'],
    {
      cwd: repoRoot,
      env: { EDGEREC_CONFIG: layout.trainerConfig, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      output: train.output ?? 'inherit',
    },
  )
  const created = listVersions(layout).filter((v) => !before.has(v))
  const version = created.at(-1)
  if (!version)
    throw new Error(`turbo run train finished but wrote no new model version under ${layout.models}.`)
  return version
}

/**
 * Publishes a version from the registry into the local KV/R2 that `wrangler dev --persist-to`
 * serves (shards, then manifest, then the live pointer), with `@edgerec/adapters`' local publisher.
 * Works while `wrangler dev` is running: the worker notices the new pointer on its next refresh.
 */
export async function publishModel(layout: DemoLayout, version: string): Promise<PublishReport> {
  const registry = await createStorage({ provider: 'local', root: layout.models })
  const publisher = await createPublisher({ provider: 'local', persistTo: layout.persistTo, workerConfig })
  try {
    return await publisher.publish(registry, version)
  } finally {
    await publisher.close()
  }
}

/**
 * Publishes a version as a candidate: shards and manifest into the local KV/R2, the live pointer
 * back on the version that was live (a canary or an experiment can then serve it:
 * `POST /v1/admin/models/:version/canary`). NOTE: the publisher always moves the pointer; between
 * the two writes (milliseconds) a worker refreshing its pointer could pick the candidate up.
 */
export async function publishCandidate(layout: DemoLayout, version: string): Promise<PublishReport> {
  const registry = await createStorage({ provider: 'local', root: layout.models })
  const publisher = await createPublisher({ provider: 'local', persistTo: layout.persistTo, workerConfig })
  try {
    const live = await publisher.live()
    const report = await publisher.publish(registry, version)
    if (live) await publisher.activate(live.version)
    return report
  } finally {
    await publisher.close()
  }
}

/** Flips the live pointer of the local worker state back to the previous version (rollback). */
export async function rollbackModel(layout: DemoLayout): Promise<LivePointer> {
  const publisher = await createPublisher({ provider: 'local', persistTo: layout.persistTo, workerConfig })
  try {
    return await publisher.rollback()
  } finally {
    await publisher.close()
  }
}

/** What a finished preparation recorded in the state folder. */
export interface PreparedState {
  data: DemoDataOptions
  events: number
  version: string
  preparedAt: string
  /** A user of the generated history (for the printed curl). */
  sampleUser: string
}

/** Reads the marker of a finished preparation, if any. */
export async function readPrepared(layout: DemoLayout): Promise<PreparedState | undefined> {
  if (!existsSync(layout.marker)) return undefined
  try {
    return JSON.parse(await readFile(layout.marker, 'utf8')) as PreparedState
  } catch {
    return undefined
  }
}

/** Records a finished preparation. */
export async function writePrepared(layout: DemoLayout, state: PreparedState): Promise<void> {
  await writeFile(layout.marker, `${JSON.stringify(state, null, 2)}\n`)
}

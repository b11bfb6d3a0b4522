/**
 * The training pipeline: read → weight → filter → (tune) → evaluate on a held-out split → train
 * on all data → export a model version → (publish).
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import {
  createEventSource,
  createStorage,
  type EventSource,
  type ReadReport,
  type Storage,
  type StorageConfig,
} from '@edgerec/adapters'
import {
  type AlsHyperparameters,
  type ModelEvaluation,
  type ModelGate,
  type ModelManifest,
  versionPrefix,
} from '@edgerec/core'
import {
  type AlsModel,
  type AlsOptions,
  type AlsProgress,
  allocateAlsMatrix,
  resolveAlsOptions,
  resolveThreads,
  trainAls,
} from './als/index.js'
import { type ReadCatalog, resolveCatalog } from './catalog/index.js'
import { DEFAULT_STORAGE, type EdgerecConfig, storageFromEnv } from './config/config.js'
import type { CsrAllocator, CsrMatrix, InteractionMatrix } from './data/matrix.js'
import { reduceHeap } from './data/release.js'
import { TrainerError } from './errors.js'
import { runEvaluation, type Split, splitBy } from './evaluation/index.js'
import { describeCandidates, exportModel } from './export/index.js'
import { compareWithLive, decideGate, type LiveModel } from './gate/index.js'
import { writeGeneratedData } from './generate/index.js'
import { checkTestUsers, splitFor } from './input/checks.js'
import { describeBadRows, type LoadOptions, loadInteractions } from './input/load.js'
import { itemCounts, trendingScores } from './popularity/index.js'
import { type ReportData, renderReport, scoreDistributions } from './report/index.js'
import type { TuningReport } from './tuning/index.js'
import { tuneInPipeline } from './tuning/pipeline.js'
import type { WeightingStats } from './weighting/index.js'

/** Where the pipeline reports progress. */
export interface TrainLogger {
  info(message: string): void
  warn(message: string): void
  /** ALS progress of the final training (a progress bar on a TTY, a line per iteration otherwise). */
  iteration?(progress: AlsProgress, phase: 'evaluate' | 'train'): void
  /** Progress of another long step (evaluation ranking, tuning trials): `done` of `total` units. */
  progress?(step: string, done: number, total: number, unit: string): void
}

/**
 * Trains the ALS models of a run somewhere else than this process (a Spark job, see
 * `spark/train-on-spark.ts`), with the same hyperparameters, on the same matrices a local run
 * would: `evaluate` is the train part of the evaluation split (absent when evaluation is off),
 * `all` every interaction (the exported model).
 */
export interface AlsFitter {
  /** Called once per run, before evaluation. */
  fit(
    parts: { all: CsrMatrix; evaluate?: CsrMatrix },
    als: AlsOptions,
    data: InteractionMatrix,
  ): Promise<{ all: AlsModel; evaluate?: AlsModel }>
}

/** Options of {@link train}. */
export interface TrainOptions {
  /** Train ALS with this instead of on this machine (evaluation, gate and export stay here). */
  fitter?: AlsFitter
  logger?: TrainLogger
  /** Write here instead of `config.storage` (tests, callers holding a storage). */
  storage?: Storage
  /**
   * Model registry config that wins over `EDGEREC_OUTPUT` and `config.storage` (the CLI's
   * `--output`). Relative local roots are resolved against `cwd`.
   */
  storageConfig?: StorageConfig
  /** Version id (default: time-based). */
  version?: string
  /** Working directory for relative paths and the demo data. Default `process.cwd()`. */
  cwd?: string
  /** Events of the generated demo data when no input is configured. Default 100 000. */
  demoEvents?: number
  /**
   * The version that is live now (read from the publish target), for the quality gate's
   * comparison. Called once, after evaluation; `undefined` = nothing is live.
   */
  live?: () => Promise<LiveModel | undefined>
  /** Record a failing gate as `forced` (the version may then be published). */
  force?: boolean
  /** Also write the HTML report (written into the registry anyway) to this local file. */
  reportPath?: string
}

/** What a run produced. */
export interface TrainResult {
  version: string
  manifest: ModelManifest
  /** Where the version was written, e.g. `local:.edgerec/models`. */
  location: string
  keys: string[]
  bytes: number
  /** The model registry the version was written to (publish from it). */
  storage: Storage
  input: { description: string; report: ReadReport; stats: WeightingStats }
  evaluation?: ModelEvaluation
  tuning?: TuningReport
  /** The quality gate's verdict (absent when evaluation or the gate is disabled). */
  gate?: ModelGate
  /** Registry key of the HTML report (`models/<version>/report.html`), when evaluation ran. */
  reportKey?: string
  /** Seconds the precomputed candidates took (`manifest.candidates`), when the version has them. */
  candidateSeconds?: number
  seconds: number
}

const silent: TrainLogger = { info: () => {}, warn: () => {} }

/** The embedded default's demo data: generated once into `<cwd>/.edgerec/demo/`. */
export async function ensureDemoData(cwd: string, events: number, logger: TrainLogger): Promise<string> {
  const dir = join(cwd, '.edgerec', 'demo')
  const path = join(dir, `events-${events}.ndjson`)
  if (!existsSync(path)) {
    logger.info(
      `No input configured: generating ${events.toLocaleString('en-US')} demo events into ${path} (catalog: ${join(dir, 'catalog.json')}).`,
    )
    await writeGeneratedData(
      { events, seed: 42 },
      { path: `${path}.tmp.ndjson`, catalogPath: join(dir, 'catalog.json') },
    )
    const { rename } = await import('node:fs/promises')
    await rename(`${path}.tmp.ndjson`, path)
  }
  return path
}

/** Describes a storage config for messages. */
function describeStorage(storage: Storage, config: EdgerecConfig['storage']): string {
  if (config && config.provider === 'local') return `local:${config.root}`
  if (config && 'bucket' in config) return `${config.provider}:${config.bucket}`
  if (config && 'container' in config) return `${config.provider}:${config.container}`
  return storage.provider
}

/** The hyperparameters recorded in a manifest (and passed to the Spark job). */
export function hyperparameters(als: AlsOptions): AlsHyperparameters {
  return {
    factors: als.factors,
    regularization: als.regularization,
    alpha: als.alpha,
    iterations: als.iterations,
    cgSteps: als.cgSteps,
    solver: als.solver,
    seed: als.seed,
  }
}

/** Builds the event source of a config (or the demo data). */
export async function resolveEventSource(
  config: EdgerecConfig,
  options: TrainOptions = {},
): Promise<EventSource> {
  const cwd = options.cwd ?? process.cwd()
  if (config.events) {
    const events = { ...config.events }
    if ('path' in events && !('storage' in events && events.storage)) events.path = resolve(cwd, events.path)
    return createEventSource(events)
  }
  const path = await ensureDemoData(cwd, options.demoEvents ?? 100_000, options.logger ?? silent)
  return createEventSource({ kind: 'ndjson', path })
}

/**
 * Where {@link train} has the loaded matrix's CSR arrays allocated: in the memory of the ALS
 * training of the exported model (`allocateAlsMatrix` with the config's `als`) when that training
 * is the first one of the loaded matrix and runs in this process, so the matrix is held once, not
 * copied into that memory (8 bytes per pair). `undefined` (ordinary arrays) when tuning may change
 * the ALS settings first or a fitter (Spark) trains elsewhere.
 *
 * @example
 * ```ts
 * const loaded = await loadFromConfig(config, {}, { allocateMatrix: loadedMatrixAllocator(config) })
 * const model = await trainAls(loaded.data.matrix, resolveAlsOptions({ ...config.als }))
 * ```
 */
export function loadedMatrixAllocator(
  config: EdgerecConfig,
  options: Pick<TrainOptions, 'fitter'> = {},
): CsrAllocator | undefined {
  if (options.fitter || config.tuning?.enabled) return undefined
  const als = resolveAlsOptions({ ...config.als })
  return (rows, cols, pairs) => allocateAlsMatrix(rows, cols, pairs, als)
}

/**
 * Loads the interaction matrix a config describes, logging the bad-row report. `load.allocateMatrix`
 * allocates the matrix's CSR arrays (see {@link loadedMatrixAllocator}).
 */
export async function loadFromConfig(
  config: EdgerecConfig,
  options: TrainOptions = {},
  load: Pick<LoadOptions, 'allocateMatrix'> = {},
): Promise<{ data: InteractionMatrix; stats: WeightingStats; report: ReadReport; description: string }> {
  const logger = options.logger ?? silent
  const source = await resolveEventSource(config, options)
  logger.info(`Reading ${source.description}…`)
  const progress = logger.progress?.bind(logger)
  const loaded = await loadInteractions(source, {
    ...weightingFor(config),
    ...config.badRows,
    ...load,
    // Reading is the long step at tens of millions of events: a bar on a TTY, a line every 5 s otherwise.
    ...(progress
      ? {
          onBytes: (done: number, total: number | undefined) => {
            if (total === undefined || total <= 0) return
            const mib = Math.ceil(total / 1048576)
            progress('load', done >= total ? mib : Math.min(mib - 1, Math.floor(done / 1048576)), mib, 'MiB')
          },
        }
      : {}),
  })
  for (const note of loaded.report.notes) logger.info(`  ${note}`)
  for (const warning of loaded.report.warnings) logger.warn(warning)
  logBadRows(loaded.report, logger)
  const s = loaded.stats
  logger.info(
    `${s.events.toLocaleString('en-US')} events → ${s.interactions.toLocaleString('en-US')} interactions, ${s.users.toLocaleString('en-US')} users × ${s.items.toLocaleString('en-US')} items` +
      (s.nonPositivePairs > 0 ? `; ${s.nonPositivePairs} pairs with total weight ≤ 0 dropped` : '') +
      (s.filteredUsers + s.filteredItems > 0
        ? `; min-interaction filters removed ${s.filteredUsers} users and ${s.filteredItems} items`
        : '') +
      '.',
  )
  if (s.filteredItems > 0) {
    const min = weightingFor(config).minItemInteractions ?? 1
    logger.info(
      `  ${s.filteredItems.toLocaleString('en-US')} item ids seen from fewer than ${min} people were dropped (not trained, not in popularity or similar items), e.g. ${s.filteredItemExamples.join(', ')}. Lower weighting.minItemInteractions (--min-item-interactions) to keep them.`,
    )
  }
  if (s.unknownTypes.length > 0) {
    logger.warn(
      `Event types without a configured weight (weighted ${s.eventWeights[s.unknownTypes[0]!]}): ${s.unknownTypes.join(', ')}. Set weighting.eventWeights to weigh them.`,
    )
  }
  return { ...loaded, description: source.description }
}

/**
 * Items the edge worker's own events must come from before they are trained: the worker accepts
 * events for any item id from anyone holding the publishable key, so an id seen from only one or
 * two people is as likely junk or poisoning as a real item (issue 13). Matches the worker's
 * `POPULAR_MIN_PEOPLE` default. Files (datasets, exports) keep every item unless configured.
 */
export const WORKER_EVENTS_MIN_ITEM_PEOPLE = 3

/**
 * The weighting options of a run: the config's, with `minItemInteractions` (distinct people per
 * item) defaulting to {@link WORKER_EVENTS_MIN_ITEM_PEOPLE} when the events come from the edge
 * worker (its SQLite/D1 tables or its R2 archive) and nothing was configured.
 */
export function weightingFor(config: EdgerecConfig): NonNullable<EdgerecConfig['weighting']> {
  const weighting = { ...config.weighting }
  const kind = config.events?.kind
  const fromWorker = kind === 'sqlite' || kind === 'd1' || kind === 'archive'
  if (fromWorker && weighting.minItemInteractions === undefined)
    weighting.minItemInteractions = WORKER_EVENTS_MIN_ITEM_PEOPLE
  return weighting
}

/** Logs the bad rows of a read: count, the most frequent reasons with an example and a fix. */
export function logBadRows(report: ReadReport, logger: TrainLogger): void {
  if (report.badRows === 0) return
  const share = (100 * report.badRows) / report.rows
  logger.warn(
    `${share > 50 ? 'MOST ROWS WERE REJECTED: ' : ''}${report.badRows.toLocaleString('en-US')} of ${report.rows.toLocaleString('en-US')} input rows (${share.toFixed(share < 1 ? 2 : 0)}%) were bad and skipped. By reason:`,
  )
  for (const line of describeBadRows(report, 5)) logger.warn(`  ${line}`)
  const kinds = Object.keys(report.reasons).length
  if (kinds > 5) logger.warn(`  … and ${kinds - 5} more kinds of problem.`)
}

/** Reads the run's catalog (see `resolveCatalog`) and logs what it found. */
export async function readCatalogLogged(
  config: EdgerecConfig,
  options: TrainOptions = {},
): Promise<ReadCatalog | undefined> {
  const logger = options.logger ?? silent
  const catalog = await resolveCatalog(config.catalog, config.events, options.cwd ?? process.cwd())
  if (!catalog) return undefined
  logger.info(
    `Catalog: ${catalog.items.length.toLocaleString('en-US')} items from ${catalog.description}` +
      (catalog.rejected > 0 ? `; ${catalog.rejected} invalid items skipped` : '') +
      '.',
  )
  for (const sample of catalog.samples) logger.warn(`  ${sample}`)
  return catalog
}

/**
 * Runs the whole pipeline for a config.
 *
 * Evaluation trains a separate model on the train part of the split (its metrics go into the
 * manifest); the exported model is then trained on ALL the data with the same hyperparameters,
 * so it also knows the most recent interactions. Tuning, when enabled, searches on a validation
 * part of the evaluation's train split, never on its test part.
 *
 * @example
 * ```ts
 * const { version, location } = await train(defineConfig({ events: { kind: 'file', path: 'events.csv' } }))
 * ```
 */
export async function train(config: EdgerecConfig, options: TrainOptions = {}): Promise<TrainResult> {
  const started = performance.now()
  const logger = options.logger ?? silent
  if (options.fitter && config.tuning?.enabled) {
    throw new TrainerError(
      'CONFIG_INVALID',
      'Tuning runs its trials on this machine, so it cannot be combined with a Spark compute. Tune on a sample with --local, put the chosen als settings in the config, then train on Spark.',
    )
  }
  let als = resolveAlsOptions({ ...config.als })
  // The exported model's training is the loaded matrix's first (evaluation trains a split of it):
  // unless tuning or a fitter comes first, the matrix is built in that training's memory.
  const loaded = await loadFromConfig(config, options, {
    allocateMatrix: loadedMatrixAllocator(config, options),
  })
  const matrix = loaded.data.matrix

  const evaluation = config.evaluation ?? {}
  const split = splitFor(matrix, evaluation.split ?? 'temporal', (m) => logger.warn(m))
  const testFraction = evaluation.testFraction ?? 0.2
  const k = evaluation.k ?? 10

  let tuning: TuningReport | undefined
  let data = matrix
  const baseAls = als
  let tunedChanged = false
  if (config.tuning?.enabled) {
    const tuned = await tuneInPipeline(
      matrix,
      config.tuning,
      als,
      { split, testFraction, k },
      loaded.stats.transform ?? 'none',
      logger,
    )
    tuning = tuned.report
    als = tuned.als
    data = tuned.data
    tunedChanged = tuned.changed
  }

  // A fitter (Spark) trains both models in one job before evaluation: the split is made here, the
  // same one runEvaluation would make (same kind, fraction and seed).
  let fitted: { all: AlsModel; evaluate?: AlsModel } | undefined
  let fittedSplit: Split | undefined
  if (options.fitter) {
    if (evaluation.enabled !== false) fittedSplit = splitBy(data, split, testFraction, als.seed)
    fitted = await options.fitter.fit(
      { all: data, ...(fittedSplit ? { evaluate: fittedSplit.train } : {}) },
      als,
      loaded.data,
    )
  }

  let modelEvaluation: ModelEvaluation | undefined
  let gate: ModelGate | undefined
  const iterations: AlsProgress[] = []
  let reportData: ReportData | undefined
  if (evaluation.enabled !== false) {
    logger.info(`Evaluating on a ${split} split (test fraction ${testFraction}, K = ${k})…`)
    let evaluated: { model: AlsModel; train: CsrMatrix; test: CsrMatrix } | undefined
    const report = await runEvaluation(data, {
      split,
      testFraction,
      k,
      seed: als.seed,
      als: {
        ...als,
        onIteration: (p) => {
          iterations.push(p)
          logger.iteration?.(p, 'evaluate')
        },
      },
      onProgress: (step, done, total) => logger.progress?.(step, done, total, 'users'),
      ...(fitted?.evaluate && fittedSplit ? { fitted: { model: fitted.evaluate, split: fittedSplit } } : {}),
      onModel: (model, parts) => {
        evaluated = { model, ...parts }
      },
    })
    const keep = checkTestUsers(
      report.users,
      { interactions: matrix.indices.length, split, strict: false },
      (m) => logger.warn(m),
    )
    if (keep) {
      modelEvaluation = {
        k: report.k,
        split: report.split,
        testFraction: report.testFraction,
        users: report.users,
        models: { ...report.models },
      }
      const { als: a, als_int8: q, popularity: p } = report.models
      logger.info(
        `  ndcg@${k}: ALS ${a.ndcg.toFixed(4)}, ALS int8 ${q.ndcg.toFixed(4)}, popularity ${p.ndcg.toFixed(4)}; precision@${k}: ALS ${a.precision.toFixed(4)}, popularity ${p.precision.toFixed(4)} (${report.users} test users).`,
      )
    }
    if (keep && evaluated) {
      reportData = {
        title: 'edgerec model report',
        createdAt: new Date().toISOString(),
        facts: [
          `Input: ${loaded.description}`,
          `${loaded.stats.users} users × ${loaded.stats.items} items, ${loaded.stats.interactions} interactions`,
          `ALS: factors ${als.factors}, λ ${als.regularization}, α ${als.alpha}, ${als.iterations} iterations`,
        ],
        evaluation: report,
        iterations,
        scores: scoreDistributions(evaluated.model, evaluated.train, evaluated.test),
      }
    }
    if (config.gate?.enabled !== false && !keep) {
      logger.warn(
        'Quality gate skipped: too few test users to judge the model (no verdict; --publish needs --force).',
      )
    }
    if (config.gate?.enabled !== false && evaluated && keep) {
      const { als_int8: q, popularity: p } = report.models
      const live = await options.live?.()
      let liveComparison: Parameters<typeof decideGate>[0]['live']
      if (live) {
        logger.info(`Quality gate: comparing with the live version ${live.version} on the same split…`)
        const compared = compareWithLive(
          {
            live,
            candidate: evaluated.model,
            regularization: als.regularization,
            alpha: als.alpha,
            train: evaluated.train,
            test: evaluated.test,
            itemIds: loaded.data.itemIds,
            userIds: loaded.data.userIds,
            k,
          },
          config.gate,
        )
        liveComparison = { version: live.version, ...compared }
      }
      gate = decideGate(
        {
          k,
          candidate: q,
          popularity: p,
          ...(liveComparison ? { live: liveComparison } : {}),
          ...(options.force ? { force: true } : {}),
        },
        config.gate,
      )
      const vsLive = gate.live
        ? `; vs live ${gate.live.version}: ${gate.live.candidate.toFixed(4)} vs ${gate.live.live.toFixed(4)} (${gate.live.users} users, ${gate.live.testInteractions} test interactions)`
        : '; nothing live to compare with'
      if (gate.passed)
        logger.info(
          `Quality gate passed: ${gate.metric}@${k} ${gate.candidate.toFixed(4)} vs popularity ${gate.popularity.toFixed(4)}${vsLive}.`,
        )
      else
        logger.warn(
          `Quality gate failed${gate.forced ? ' (forced through)' : ''}: ${gate.reasons.join('; ')}.`,
        )
    }
    // NOTE: closures made in this block (onModel's) keep its scope alive after it ends, and with
    // it the evaluation's model and split, whose ALS memory would then stay resident under the
    // final training (≈ 120 MiB on 4.77M pairs).
    evaluated = undefined
  }

  if (tuning && modelEvaluation) {
    // The final report shows both configurations on the held-out test split.
    const tunedTest = modelEvaluation.models.als!
    const baseTest = tunedChanged
      ? (await runEvaluation(matrix, { split, testFraction, k, seed: baseAls.seed, als: { ...baseAls } }))
          .models.als
      : tunedTest
    tuning.test = { base: baseTest, tuned: tunedTest }
    logger.info(
      `Test ${tuning.metric}@${k}: base ${baseTest[tuning.metric].toFixed(4)} → tuned ${tunedTest[tuning.metric].toFixed(4)} (popularity ${modelEvaluation.models.popularity![tuning.metric].toFixed(4)})${tunedChanged ? '' : '; the base configuration won on validation'}.`,
    )
  }

  let model: AlsModel
  if (fitted) {
    model = fitted.all
  } else {
    // What evaluation and tuning left (their ALS memories, splits, ranking results) is garbage now:
    // it goes back to the system before the final training allocates its own memory, instead of
    // whenever V8 next collects (≈ 0.6 GiB of it was still resident here on 4.77M pairs).
    if (evaluation.enabled !== false || tuning) reduceHeap({ force: true })
    logger.info(
      `Training on all ${data.indices.length.toLocaleString('en-US')} interactions (factors ${als.factors}, ${als.iterations} iterations)…`,
    )
    model = await trainAls(data, { ...als, onIteration: (p) => logger.iteration?.(p, 'train') })
  }

  const catalog = await readCatalogLogged(config, options)

  const storageConfig = options.storageConfig ?? storageFromEnv() ?? config.storage ?? DEFAULT_STORAGE
  const resolvedStorageConfig =
    storageConfig.provider === 'local'
      ? { ...storageConfig, root: resolve(options.cwd ?? process.cwd(), storageConfig.root) }
      : storageConfig
  const storage = options.storage ?? (await createStorage(resolvedStorageConfig))
  const location = options.storage ? storage.provider : describeStorage(storage, storageConfig)
  const exportOptions: Parameters<typeof exportModel>[1] = {
    storage,
    ...config.export,
    onCandidates: (done, total) => logger.progress?.('candidates', done, total, 'users'),
    // The candidates (one scan per trained user) on as many threads as ALS.
    threads: resolveThreads(als.threads),
  }
  if (options.version !== undefined) exportOptions.version = options.version
  const exported = await exportModel(
    {
      model,
      data: data === matrix ? loaded.data : { ...loaded.data, matrix: data },
      als: hyperparameters(als),
      eventWeights: loaded.stats.eventWeights,
      valueTransform: tuning?.best.transform ?? loaded.stats.transform ?? 'none',
      ...(config.weighting?.halfLifeDays !== undefined
        ? { halfLifeDays: config.weighting.halfLifeDays }
        : {}),
      popularity: itemCounts(data),
      trending: trendingScores(data, {
        halfLifeDays: config.trendingHalfLifeDays ?? 7,
        now: loaded.data.trainedUntil,
      }),
      ...(modelEvaluation ? { evaluation: modelEvaluation } : {}),
      ...(tuning ? { tuning } : {}),
      ...(gate ? { gate } : {}),
      ...(catalog ? { catalog: { items: catalog.items, updatedUntil: catalog.updatedUntil } } : {}),
    },
    exportOptions,
  )
  const partitioned = exported.manifest.partitions
  if (partitioned)
    logger.info(
      `Partitioned retrieval: ${partitioned.lists} partitions, nprobe ${partitioned.nprobe}, recall@${partitioned.recall.k} ${partitioned.recall.value.toFixed(3)} vs exact scan (${partitioned.recall.users} users).`,
    )
  const candidateLine = describeCandidates(exported)
  if (candidateLine) logger.info(candidateLine)
  logger.info(
    `Wrote model version ${exported.version} (${(exported.bytes / 1048576).toFixed(2)} MiB, ${exported.keys.length} objects) to ${location}.`,
  )
  const result: TrainResult = {
    version: exported.version,
    manifest: exported.manifest,
    location,
    keys: exported.keys,
    bytes: exported.bytes,
    storage,
    input: { description: loaded.description, report: loaded.report, stats: loaded.stats },
    seconds: (performance.now() - started) / 1000,
  }
  if (exported.candidateSeconds !== undefined) result.candidateSeconds = exported.candidateSeconds
  if (modelEvaluation) result.evaluation = modelEvaluation
  if (tuning) result.tuning = tuning
  if (gate) result.gate = gate
  if (reportData) {
    reportData.facts.unshift(`Version ${exported.version}`)
    if (tuning) reportData.tuning = tuning
    if (partitioned)
      reportData.facts.push(
        `Partitioned retrieval: ${partitioned.lists} partitions, nprobe ${partitioned.nprobe}, recall@${partitioned.recall.k} ${partitioned.recall.value.toFixed(3)} vs exact scan`,
      )
    if (candidateLine) reportData.facts.push(candidateLine)
    if (gate)
      reportData.facts.push(
        `Quality gate: ${gate.passed ? 'passed' : `failed${gate.forced ? ' (forced)' : ''}: ${gate.reasons.join('; ')}`}`,
      )
    const html = renderReport(reportData)
    const key = `${versionPrefix(exported.version)}report.html`
    await storage.put(key, new TextEncoder().encode(html), { contentType: 'text/html; charset=utf-8' })
    result.reportKey = key
    if (options.reportPath) {
      const { writeFile } = await import('node:fs/promises')
      await writeFile(resolve(options.cwd ?? process.cwd(), options.reportPath), html)
    }
    logger.info(`Report: ${key} in the registry${options.reportPath ? ` and ${options.reportPath}` : ''}.`)
  }
  return result
}

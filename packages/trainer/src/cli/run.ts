/**
 * `edgerec-train` as a function: parses the command line, runs the command, writes results to
 * `stdout` and logs to `stderr`, and returns the exit code. `main.ts` is the thin executable around it.
 *
 * @module
 */

import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  createPublisher,
  createScheduler,
  type Publisher,
  type PublishReport,
  readLivePointer,
  type Scheduler,
  type ScheduleSpec,
  type Storage,
  type TrainingRun,
} from '@edgerec/adapters'
import { isEdgerecError } from '@edgerec/core'
import { type AlsModel, type AlsOptions, type AlsProgress, resolveAlsOptions } from '../als/index.js'
import {
  type CloudComputeConfig,
  type CloudTrainOptions,
  cloudJobConfig,
  isCloudCompute,
  trainInCloud,
} from '../cloud/index.js'
import { liveFromRegistry } from '../cloud/live-in-registry.js'
import { type EdgerecConfig, loadConfig, storageFromEnv } from '../config/config.js'
import type { CsrMatrix } from '../data/matrix.js'
import { TrainerError } from '../errors.js'
import { runEvaluation } from '../evaluation/index.js'
import { GATE_HINT, loadLiveModel } from '../gate/index.js'
import type { GenerateOptions } from '../generate/index.js'
import { writeGeneratedData } from '../generate/index.js'
import { checkTestUsers, splitFor } from '../input/checks.js'
import { renderReport, scoreDistributions } from '../report/index.js'
import { checkStaleness } from '../schedule/index.js'
import { isSparkCompute, SparkFitter } from '../spark/train-on-spark.js'
import { loadFromConfig, type TrainLogger, train } from '../train.js'
import { type PipelineTuning, tuneInPipeline } from '../tuning/pipeline.js'
import {
  applyOverrides,
  type GenerateCommand,
  type ModelCommand,
  parseCommandLine,
  type ScheduleCommand,
} from './args.js'
import { helpFor } from './help.js'
import { projectRoot } from './invocation.js'
import { consoleLogger, type OutputStream } from './progress.js'
import { runRecommend } from './recommend.js'
import { runImportFactors } from './spark.js'
import { evaluationTables, tuningTable } from './tables.js'

/** Where the CLI writes and which directory it works in. */
export interface CliIo {
  /** Results (a version id, JSON). */
  stdout: OutputStream
  /** Logs, progress and errors. */
  stderr: OutputStream
  cwd: string
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

async function configFor(command: ModelCommand, cwd: string): Promise<EdgerecConfig> {
  const { config } = await loadConfig(command.configPath, cwd)
  return applyOverrides(config, command.overrides)
}

async function runEvaluate(command: ModelCommand, io: CliIo): Promise<void> {
  const logger = consoleLogger(io.stderr, { quiet: command.quiet })
  const config = await configFor(command, io.cwd)
  const loadOptions: Parameters<typeof loadFromConfig>[1] = { logger, cwd: io.cwd }
  if (command.demoEvents !== undefined) loadOptions.demoEvents = command.demoEvents
  const loaded = await loadFromConfig(config, loadOptions)
  const evaluation = config.evaluation ?? {}
  const als = config.als ?? {}
  const seed = als.seed ?? 42
  const split = splitFor(loaded.data.matrix, evaluation.split ?? 'temporal', (m) => logger.warn(m))
  const testFraction = evaluation.testFraction ?? 0.2
  const k = evaluation.k ?? 10
  const onProgress = (step: 'rank', done: number, total: number): void =>
    logger.progress?.(step, done, total, 'users')
  let data = loaded.data.matrix
  let alsOptions: Partial<AlsOptions> = { ...als, seed }
  let tuned: PipelineTuning | undefined
  if (config.tuning?.enabled) {
    tuned = await tuneInPipeline(
      data,
      config.tuning,
      resolveAlsOptions(alsOptions),
      { split, testFraction, k },
      loaded.stats.transform ?? 'none',
      logger,
    )
    data = tuned.data
    alsOptions = tuned.als
  }
  const iterations: AlsProgress[] = []
  let evaluated: { model: AlsModel; train: CsrMatrix; test: CsrMatrix } | undefined
  const report = await runEvaluation(data, {
    split,
    testFraction,
    k,
    seed,
    als: {
      ...alsOptions,
      // The report plots the training loss per iteration.
      ...(command.reportPath ? { computeLoss: true } : {}),
      onIteration: (p) => {
        iterations.push(p)
        logger.iteration?.(p, 'evaluate')
      },
    },
    onProgress,
    onModel: (model, parts) => {
      evaluated = { model, ...parts }
    },
  })
  let baseReport = report
  if (tuned?.changed) {
    logger.info('Evaluating the base configuration on the same test split…')
    baseReport = await runEvaluation(loaded.data.matrix, {
      split,
      testFraction,
      k,
      seed,
      als: { ...als, seed },
      onProgress,
    })
  }
  if (tuned) tuned.report.test = { base: baseReport.models.als, tuned: report.models.als }
  if (command.reportPath && evaluated) {
    const html = renderReport({
      title: `edgerec evaluation: ${loaded.description}`,
      createdAt: new Date().toISOString(),
      facts: [
        `${loaded.stats.users} users × ${loaded.stats.items} items, ${loaded.stats.interactions} interactions`,
        `ALS: ${JSON.stringify(report.config)}`,
      ],
      evaluation: report,
      iterations,
      ...(tuned ? { tuning: tuned.report } : {}),
      scores: scoreDistributions(evaluated.model, evaluated.train, evaluated.test),
    })
    await writeFile(resolve(io.cwd, command.reportPath), html)
    logger.info(`Report written to ${command.reportPath}.`)
  }
  checkTestUsers(report.users, { interactions: loaded.stats.interactions, split, strict: true }, (m) =>
    logger.warn(m),
  )
  const input = {
    source: loaded.description,
    rows: loaded.report.rows,
    badRows: loaded.report.badRows,
    users: loaded.stats.users,
    items: loaded.stats.items,
    interactions: loaded.stats.interactions,
    // Truthful: every value the model saw was 1 (a binary transform, or no value column at all).
    binary: loaded.stats.binary,
    transform: loaded.stats.transform,
  }
  if (command.json) {
    io.stdout.write(
      `${JSON.stringify({ ...report.models, config: { ...report.config, binary: input.binary }, users: report.users, atK: report.atK, buckets: report.buckets, timing: report.timing, input, ...(tuned ? { tuning: tuned.report } : {}) })}\n`,
    )
  } else {
    io.stdout.write(evaluationTables(report))
    if (tuned) io.stdout.write(tuningTable(tuned.report))
  }
}

async function runTrain(command: ModelCommand, io: CliIo): Promise<void> {
  const logger = consoleLogger(io.stderr, { quiet: command.quiet })
  const config = await configFor(command, io.cwd)
  const gateOn = config.evaluation?.enabled !== false && config.gate?.enabled !== false
  if (command.publish && !gateOn && !command.force) {
    throw new TrainerError(
      'USAGE',
      'Publishing without the quality gate (evaluation or the gate is disabled) needs --force. Enable evaluation, or add --force.',
    )
  }
  if (command.ifStale) {
    const staleness = await checkStaleness(config, { ...command.ifStale, cwd: io.cwd, logger })
    if (!staleness.stale) {
      logger.info(`Not stale, skipping the run (--if-stale): ${staleness.reason}.`)
      if (command.json) io.stdout.write(`${JSON.stringify({ skipped: true, ...staleness })}\n`)
      return
    }
    logger.info(`Stale, training (--if-stale): ${staleness.reason}.`)
  }
  let fitter: SparkFitter | undefined
  if (isSparkCompute(config.compute)) {
    if (command.local) {
      logger.info(
        `--local: training on this machine; the config's compute 'spark' (${config.compute.platform}) is not used.`,
      )
    } else {
      // ALS runs in a Spark job; reading, weighting, evaluation, export, gate and publish stay here.
      fitter = new SparkFitter({ ...config, compute: config.compute }, { logger })
    }
  }
  if (isCloudCompute(config.compute)) {
    if (!command.local) return runCloudTrain(command, { ...config, compute: config.compute }, io, logger)
    logger.info(
      `--local: training on this machine; the config's compute '${config.compute.provider}' is not used.`,
    )
  }
  const options: Parameters<typeof train>[1] = { logger, cwd: io.cwd }
  if (fitter) options.fitter = fitter
  if (command.outputDir !== undefined)
    options.storageConfig = { provider: 'local', root: resolve(io.cwd, command.outputDir) }
  else if (config.storage === undefined && storageFromEnv() === undefined)
    options.storageConfig = { provider: 'local', root: join(projectRoot(io.cwd), '.edgerec', 'models') }
  if (command.versionId !== undefined) options.version = command.versionId
  if (command.demoEvents !== undefined) options.demoEvents = command.demoEvents
  if (command.force) options.force = true
  if (command.reportPath !== undefined) options.reportPath = command.reportPath
  // With --publish the publish target is opened first: the gate compares with its live version.
  const publisher = command.publish ? await createPublisher(config.publish) : undefined
  try {
    if (publisher) options.live = () => loadLiveModel(publisher.target)
    else if (command.gateLiveVersion !== undefined) {
      const registry = options.storageConfig ?? storageFromEnv() ?? config.storage
      const liveVersion = command.gateLiveVersion
      if (registry) options.live = () => liveFromRegistry(registry, liveVersion, io.cwd, logger)
    }
    const result = await train(config, options)
    const rejected = result.gate !== undefined && !result.gate.passed && !command.force
    if (publisher && result.gate === undefined && !command.force) {
      throw new TrainerError(
        'GATE_FAILED',
        `Version ${result.version} has no quality-gate verdict (too few test users to judge it), so it was not published. Add more data, or --force to publish anyway.`,
      )
    }
    let published: unknown
    if (publisher && !rejected) {
      published = await publish(publisher, result.storage, result.version, config, logger)
    }
    if (command.json) {
      const { storage: _storage, manifest, ...rest } = result
      const spark = fitter?.report
      io.stdout.write(
        `${JSON.stringify({ ...rest, manifest, ...(spark ? { spark } : {}), ...(published ? { published } : {}) })}\n`,
      )
    } else {
      io.stdout.write(`${result.version}\n`)
    }
    if (rejected && result.gate) {
      throw new TrainerError(
        'GATE_FAILED',
        `Version ${result.version} was rejected by the quality gate: ${result.gate.reasons.join('; ')}. ` +
          `It is recorded in the registry (manifest "gate") but ${publisher ? 'was not published; the live version stays' : 'must not go live'}. ${GATE_HINT}`,
      )
    }
  } finally {
    await publisher?.close()
  }
}

async function publish(
  publisher: Publisher,
  storage: Storage,
  version: string,
  config: EdgerecConfig,
  logger: TrainLogger,
): Promise<PublishReport> {
  logger.info(`Publishing ${version} (${config.publish?.provider ?? 'local'} target)…`)
  // A forced version carries gate.forced in its manifest, so the publisher accepts it.
  const report = await publisher.publish(storage, version)
  for (const warning of report.warnings) logger.warn(warning)
  logger.info(
    `Published ${report.version}: ${report.shards} shards, ${(report.bytes / 1048576).toFixed(2)} MiB in ${(report.durationMs / 1000).toFixed(1)} s; models/live → ${report.pointer.version}` +
      (report.pruned.length > 0 ? `; pruned ${report.pruned.join(', ')}` : '') +
      '.',
  )
  return report
}

/**
 * `train` with a cloud `compute`: one job, followed to its end. The job runs the quality gate
 * against popularity (its verdict is in the manifest); `--publish` publishes only after the job
 * succeeded and only a version whose gate passed (or `--force`).
 */
async function runCloudTrain(
  command: ModelCommand,
  config: EdgerecConfig & { compute: CloudComputeConfig },
  io: CliIo,
  logger: TrainLogger,
): Promise<void> {
  for (const [flag, given] of [
    ['--output', command.outputDir !== undefined],
    ['--demo-events', command.demoEvents !== undefined],
  ] as const) {
    if (given)
      throw new TrainerError(
        'USAGE',
        `${flag} applies to training on this machine, but the config's compute is '${config.compute.provider}' (a cloud job writes to config.storage). Drop ${flag}, or add --local to train here.`,
      )
  }
  const options: CloudTrainOptions = { logger }
  if (command.versionId !== undefined) options.version = command.versionId
  if (command.publish) {
    // The job's gate compares with the live version, read from the registry by id (see liveFromRegistry).
    const publisher = await createPublisher(config.publish)
    try {
      const live = await readLivePointer(publisher.target)
      if (live) options.liveVersion = live.version
    } finally {
      await publisher.close()
    }
  }
  if (command.force) options.force = true
  const result = await trainInCloud(config, options)
  const gate = result.manifest.gate
  const rejected = gate !== undefined && !gate.passed && !gate.forced
  if (gate)
    logger.info(
      gate.passed
        ? `Quality gate passed in the job: ${gate.metric}@${gate.k} ${gate.candidate.toFixed(4)} vs popularity ${gate.popularity.toFixed(4)}.`
        : `Quality gate failed in the job${gate.forced ? ' (forced through)' : ''}: ${gate.reasons.join('; ')}.`,
    )
  if (command.publish && gate === undefined && !command.force) {
    throw new TrainerError(
      'GATE_FAILED',
      `Version ${result.version} has no quality-gate verdict (too few test users to judge it), so it was not published. Add more data, or --force to publish anyway.`,
    )
  }
  let published: PublishReport | undefined
  if (command.publish && !rejected) {
    const publisher = await createPublisher(config.publish)
    try {
      published = await publish(publisher, result.storage, result.version, config, logger)
    } finally {
      await publisher.close()
    }
  }
  if (command.json) {
    const { storage: _storage, ...rest } = result
    io.stdout.write(`${JSON.stringify({ ...rest, ...(published ? { published } : {}) })}\n`)
  } else {
    io.stdout.write(`${result.version}\n`)
  }
  if (rejected && gate) {
    throw new TrainerError(
      'GATE_FAILED',
      `Version ${result.version} was rejected by the quality gate: ${gate.reasons.join('; ')}. ` +
        `It is recorded in the registry (manifest "gate") but ${command.publish ? 'was not published; the live version stays' : 'must not go live'}. ${GATE_HINT}`,
    )
  }
}

/** `schedule create|list|delete` in the cloud account's own scheduler. */
async function runSchedule(command: ScheduleCommand, io: CliIo): Promise<void> {
  const logger = consoleLogger(io.stderr, { quiet: command.model.quiet })
  const config = await configFor(command.model, io.cwd)
  if (!isCloudCompute(config.compute)) {
    throw new TrainerError(
      'CONFIG_INVALID',
      `schedule keeps a recurring training job in the cloud account's scheduler, so the config needs a cloud compute (compute.provider 'sagemaker', 'vertex-ai' or 'azure-ml'); it has ${config.compute ? `'${config.compute.provider}'` : 'none (local)'}. ` +
        'To retrain this machine or any compute on a cron, use CI: examples/github-actions/retrain.yml.',
    )
  }
  const scheduler = await createScheduler(config.compute)
  try {
    await scheduleAction(command, config, scheduler, io, logger)
  } finally {
    await scheduler.close?.()
  }
}

async function scheduleAction(
  command: ScheduleCommand,
  config: EdgerecConfig,
  scheduler: Scheduler,
  io: CliIo,
  logger: TrainLogger,
): Promise<void> {
  const provider = scheduler.provider
  switch (command.action) {
    case 'create': {
      const job = cloudJobConfig(config, provider)
      const run: TrainingRun = { config: { inline: job.inline }, output: job.output, name: 'edgerec-train' }
      if (command.model.force) run.args = ['--force']
      const spec: ScheduleSpec = { name: command.name!, cron: command.cron!, run }
      if (command.timezone) spec.timezone = command.timezone
      const info = await scheduler.create(spec)
      logger.info(
        `Created schedule ${info.name}: ${info.expression} (${info.timezone ?? 'UTC'}) starts one ${provider} training job per firing, writing versions to the registry. ` +
          'Scheduled jobs do not publish: publish from CI or by hand (see docs/cloud.md).',
      )
      io.stdout.write(command.model.json ? `${JSON.stringify(info)}\n` : `${info.name}\n`)
      return
    }
    case 'list': {
      const schedules = await scheduler.list()
      if (command.model.json) io.stdout.write(`${JSON.stringify(schedules)}\n`)
      else
        for (const s of schedules)
          io.stdout.write(`${s.name}\t${s.expression}\t${s.timezone ?? 'UTC'}\t${s.state}\n`)
      if (schedules.length === 0) logger.info('No edgerec schedules.')
      return
    }
    case 'delete': {
      await scheduler.delete(command.name!)
      logger.info(`Deleted schedule ${command.name}.`)
      return
    }
  }
}

async function runGenerate(command: GenerateCommand, io: CliIo): Promise<void> {
  const logger = consoleLogger(io.stderr, { quiet: command.quiet })
  const users = command.users
  const options: GenerateOptions = { events: command.events ?? (users ?? 400) * 25 }
  if (users !== undefined) options.users = users
  if (command.items !== undefined) options.items = command.items
  if (command.categories !== undefined) options.categories = command.categories
  if (command.seed !== undefined) options.seed = command.seed
  if (command.days !== undefined) options.days = command.days
  if (command.taste !== undefined) options.taste = command.taste
  const out = resolve(io.cwd, command.out)
  const path = join(out, `events.${command.format}`)
  const catalogPath = join(out, 'catalog.json')
  logger.info(`Generating ${options.events.toLocaleString('en-US')} events into ${path}…`)
  const files = await writeGeneratedData(options, {
    path,
    catalogPath,
    format: command.format,
    onProgress: (n) => {
      if (n % 1_000_000 === 0) logger.info(`  ${n.toLocaleString('en-US')} events`)
    },
  })
  if (command.json) io.stdout.write(`${JSON.stringify(files)}\n`)
  else io.stdout.write(`${files.eventsPath}\n${files.catalogPath}\n`)
}

/**
 * Runs `edgerec-train` with `argv` (without `node` and the script) and returns the exit code:
 * 0 ok, 1 failure, 2 usage error. Errors are printed as `error CODE: message`.
 *
 * @example
 * ```ts
 * const code = await runCli(['generate', '--users', '100', '--out', dir], { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() })
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const command = parseCommandLine(argv)
    switch (command.command) {
      case 'help':
        io.stdout.write(helpFor(command.topic))
        return 0
      case 'version':
        io.stdout.write(`${packageVersion()}\n`)
        return 0
      case 'generate':
        await runGenerate(command, io)
        return 0
      case 'evaluate':
        await runEvaluate(command, io)
        return 0
      case 'train':
        await runTrain(command, io)
        return 0
      case 'schedule':
        await runSchedule(command, io)
        return 0
      case 'recommend':
        await runRecommend(command, io)
        return 0
      case 'import-factors':
        await runImportFactors(command, io)
        return 0
    }
  } catch (error) {
    if (isEdgerecError(error)) {
      io.stderr.write(`error ${error.code}: ${error.message}\n`)
      return error.code === 'USAGE' ? 2 : 1
    }
    const e = error instanceof Error ? error : new Error(String(error))
    io.stderr.write(
      `error INTERNAL: ${e.message}\n${e.stack ?? ''}\nThis is a bug in edgerec-train; please report it with the command you ran.\n`,
    )
    return 1
  }
}

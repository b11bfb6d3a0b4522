/**
 * Command-line parsing of `edgerec-train`: flags → a typed command, with flag overrides merged
 * over the config file. No I/O here, so every rule is testable.
 *
 * @module
 */

import { parseArgs } from 'node:util'
import {
  type ColumnMapping,
  type EventSourceConfig,
  type FileSourceConfig,
  parseDelimiter,
} from '@edgerec/adapters'
import type { AlsOptions } from '../als/index.js'
import type { EdgerecConfig } from '../config/config.js'
import { TrainerError } from '../errors.js'
import type { SplitKind } from '../evaluation/index.js'
import { parseValueTransform } from '../weighting/index.js'
import { parseRecommend, type RecommendCommand } from './recommend.js'
import { type ImportFactorsCommand, parseImportFactors } from './spark.js'

/** The usage text printed by `edgerec-train --help`. */
export const USAGE = `edgerec-train: train, evaluate and export implicit-feedback ALS recommenders.

Usage:
  edgerec-train train    [options]   read events, evaluate, train, write a model version
  edgerec-train evaluate [options]   split, train on the train part, print metrics vs popularity
  edgerec-train schedule create --cron "17 3 * * *" [--name n] [--timezone tz] [options]
  edgerec-train schedule list | schedule delete <name>
                                     a recurring training job in the account's own scheduler
                                     (sagemaker: EventBridge Scheduler; vertex-ai: Cloud Scheduler;
                                     azure-ml: the workspace's schedules)
  edgerec-train tune     [options]   = evaluate --tune: search hyperparameters, base vs tuned on test
  edgerec-train generate [options]   write synthetic e-commerce events (NDJSON/CSV) + catalog JSON
  edgerec-train recommend --users all|FILE --out FILE [--k 10] [filters] [rules]
                                     batch recommendations of a model version as NDJSON or
                                     Parquet (--format ndjson|parquet, default by --out's
                                     extension); filters:
                                     --category a,b --tag x --min-price n --max-price n
                                     --available true|false|any --filter <expression>;
                                     rules as the worker applies them: --rules <rules.json>
                                     (PUT /v1/admin/rules document) --max-per-category n
                                     --diversity 0..1;
                                     --output <registry dir> --version-id <id> (default: newest)
                                     --threads <n> worker threads (default 1)
  edgerec-train import-factors --factors <ALSModel.save dir> --id-maps <dir> [--interactions f]
                             [--output <registry dir>] [--version-id id] [--publish --force]
                                     int8 model version from a Spark MLlib ALS run (docs/cloud.md)
  edgerec-train help | --help | --version
  edgerec-train <command> --help      the options of one command (also: edgerec-train help <command>)

With no input and no config, train/evaluate use generated demo data (.edgerec/demo/) and write
models to .edgerec/models (local disk).

Input (train, evaluate, tune):
  --config <file>            edgerec.config.ts (default: ./edgerec.config.{ts,mts,mjs,js} if present)
  --input <file>             events file (.ndjson/.jsonl, .csv/.tsv/.dat/.txt, .parquet; optionally .gz)
  --format <f>               ndjson | csv | tsv | parquet (default: from the file name)
  --delimiter <d>            delimited text: tab | comma | semicolon | pipe | space | <chars> such as ::
                             (default: detected from the first line)
  --no-header / --header     the first row is data / a header (default: a header unless all numbers);
                             without a header, columns are 1-based positions: user, item, value, time
  --columns <map>            user=..,item=..,value=..,timestamp=..,type=.. (names or 1-based positions)
  --user-col/--item-col/--value-col/--time-col/--type-col <name>   the same, one by one
                             (--value-col none ignores a rating/count column found by name)
  --time-unit <u>            auto | s | ms (numeric timestamps; default auto)
  --time-format <fmt>        strftime format of text dates that are not ISO-8601, e.g. %d-%m-%Y
  --sqlite <file>            the edge worker's events table in a local SQLite file
  --binary                   every interaction has value 1 (= --transform binary)
  --transform <t>            value transform of each pair's total: none | log1p | binary | clip:<max>
                             (log1p for play counts)
  --half-life-days <d>       time decay of event weights
  --min-user-interactions <n>, --min-item-interactions <n>
  --max-bad-rows <n>, --max-bad-fraction <f>   fail when the input has more bad rows

ALS (train, evaluate, tune):
  --factors <n> (64)  --regularization <λ> (0.05)  --alpha <a> (1)  --iterations <n> (15)
  --cg-steps <n> (3)  --solver cg|cholesky (cg)  --threads <n> (0 = all cores)  --seed <n> (42)
  --loss                     compute the training loss after each iteration

Evaluation (train, evaluate, tune):
  --eval / --no-eval         evaluate before training (train; default on)
  --split temporal|random|leave-one-out (temporal)  --test-fraction <f> (0.2)  --k <n> (10)
  --json                     print one JSON object (evaluate: every metric; train: the result)
  --report <file.html>       write one self-contained HTML page with plots (metrics@K, buckets,
                             loss, tuning trials, score distributions); train also writes
                             models/<version>/report.html into the registry

Tuning (train, evaluate, tune):
  --tune                     hyperparameter search on a validation split carved from train
                             (the base configuration is always a trial; test metrics of both shown)
  --trials <n>               candidates including the base (default 27 for halving, 10 for random)
  --tune-strategy <s>        halving | random | grid (default halving = successive halving)

Train output (train):
  --output <dir>             local model registry folder (default .edgerec/models at the project
                             root; EDGEREC_OUTPUT wins)
  --version-id <id>          version name (default: time-based)
  --publish                  publish the new version with the config's publish target
                             (default: the local wrangler dev state) if it passes the quality gate.
                             After a cloud job: publishes only once the job succeeded.
  --local                    train on this machine even when the config's compute names a
                             cloud (sagemaker, vertex-ai, azure-ml: then train submits one job;
                             spark: the ALS fits run as one PySpark job, the rest here)
  --if-stale                 skip (exit 0) unless the publish target's live version is old or
                             events arrived after its cut-off; for scheduled runs
  --max-age-hours <h>        with --if-stale: retrain when live is this old (default 168)
  --min-new-events <n>       with --if-stale: retrain at this many new events (default 1)

Quality gate (train):
  --force                    accept (and publish) a version whose quality gate failed
  --gate-margin <f>          required lift over popularity on ndcg@K, relative (default 0.05)
  --gate-max-drop <f>        allowed drop against the live version, relative (default 0.02)
  --no-gate                  no quality gate (nothing recorded; every version may be published)
  --gate-live-version <id>   compare with this version from the model registry as the live one
                             (set by train for the cloud job it submits)

Run (train, evaluate, tune):
  --demo-events <n>          size of the generated demo data (default 100000)
  --quiet                    only warnings and errors on stderr

Generate (generate):
  --events <n>               events to write (default: 25 per user)
  --users <n>  --items <n>  --categories <n>  --seed <n>  --days <n>
  --taste <f>                share of sessions driven by the user's own taste, 0..1 (default 1;
                             0 = popularity dominates)
  --out <dir>                output folder (default .edgerec/generated)
  --format ndjson|csv        events file format (default ndjson)

Exit codes: 0 ok, 1 failure (the message names an error code), 2 usage error.
`

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  input: { type: 'string', short: 'i' },
  format: { type: 'string' },
  columns: { type: 'string' },
  'user-col': { type: 'string' },
  'item-col': { type: 'string' },
  'value-col': { type: 'string' },
  'time-col': { type: 'string' },
  'type-col': { type: 'string' },
  'time-unit': { type: 'string' },
  'time-format': { type: 'string' },
  delimiter: { type: 'string' },
  header: { type: 'boolean' },
  'no-header': { type: 'boolean' },
  transform: { type: 'string' },
  sqlite: { type: 'string' },
  binary: { type: 'boolean' },
  'half-life-days': { type: 'string' },
  'min-user-interactions': { type: 'string' },
  'min-item-interactions': { type: 'string' },
  'max-bad-rows': { type: 'string' },
  'max-bad-fraction': { type: 'string' },
  factors: { type: 'string' },
  regularization: { type: 'string' },
  alpha: { type: 'string' },
  iterations: { type: 'string' },
  'cg-steps': { type: 'string' },
  solver: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  loss: { type: 'boolean' },
  eval: { type: 'boolean' },
  'no-eval': { type: 'boolean' },
  split: { type: 'string' },
  'test-fraction': { type: 'string' },
  k: { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
  output: { type: 'string', short: 'o' },
  'version-id': { type: 'string' },
  tune: { type: 'boolean' },
  trials: { type: 'string' },
  'tune-strategy': { type: 'string' },
  publish: { type: 'boolean' },
  force: { type: 'boolean' },
  'gate-margin': { type: 'string' },
  'gate-max-drop': { type: 'string' },
  'no-gate': { type: 'boolean' },
  local: { type: 'boolean' },
  'if-stale': { type: 'boolean' },
  'gate-live-version': { type: 'string' },
  cron: { type: 'string' },
  name: { type: 'string' },
  timezone: { type: 'string' },
  'max-age-hours': { type: 'string' },
  'min-new-events': { type: 'string' },
  'demo-events': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  events: { type: 'string' },
  users: { type: 'string' },
  items: { type: 'string' },
  categories: { type: 'string' },
  days: { type: 'string' },
  taste: { type: 'string' },
  out: { type: 'string' },
} as const

/** Parsed flag values (strings for numbers; converted by the command builders). */
export type ParsedFlags = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values']

/** `train` or `evaluate`: the config with flag overrides applied. */
export interface ModelCommand {
  command: 'train' | 'evaluate'
  configPath?: string
  /** Flag overrides, merged over the config file by {@link applyOverrides}. */
  overrides: ConfigOverrides
  json: boolean
  quiet: boolean
  publish: boolean
  /** Accept a version whose quality gate failed. */
  force: boolean
  /** `--local`: train on this machine even when the config's compute names a cloud. */
  local: boolean
  /**
   * `--gate-live-version <id>`: compare with this version from the model registry instead of the
   * publish target's live version (what a cloud job gets from the CLI that submitted it).
   */
  gateLiveVersion?: string
  /** `--if-stale` (with its thresholds): skip the run when the live model is still fresh. */
  ifStale?: { maxAgeHours?: number; minNewEvents?: number }
  /** Write the HTML report here. */
  reportPath?: string
  outputDir?: string
  versionId?: string
  demoEvents?: number
}

/** `generate`. */
export interface GenerateCommand {
  command: 'generate'
  events?: number
  users?: number
  items?: number
  categories?: number
  seed?: number
  days?: number
  /** Scales the users' taste (0 = popularity dominates). */
  taste?: number
  out: string
  format: 'ndjson' | 'csv'
  json: boolean
  quiet: boolean
}

/** `schedule create|list|delete`: a recurring training job in the cloud account's scheduler. */
export interface ScheduleCommand {
  command: 'schedule'
  action: 'create' | 'list' | 'delete'
  /** The config and flag overrides of the scheduled run (like `train`). */
  model: ModelCommand
  /** Schedule name (create, delete); always starts with `edgerec`. */
  name?: string
  /** 5-field cron (create). */
  cron?: string
  /** IANA time zone of the cron (create). Default UTC. */
  timezone?: string
}

/** Any parsed command line. */
export type CliCommand =
  | ModelCommand
  | GenerateCommand
  | ScheduleCommand
  | RecommendCommand
  | ImportFactorsCommand
  | { command: 'help'; topic?: string }
  | { command: 'version' }

/** What flags change in a config. */
export interface ConfigOverrides {
  events?: EventSourceConfig
  /** Column mapping / time unit without `--input`: applied to the config's file source. */
  columns?: ColumnMapping
  timeUnit?: 'auto' | 's' | 'ms'
  /** Delimiter, header and time format without `--input`: applied to the config's file source. */
  file?: Pick<FileSourceConfig, 'delimiter' | 'header' | 'timeFormat'>
  weighting: NonNullable<EdgerecConfig['weighting']>
  badRows: NonNullable<EdgerecConfig['badRows']>
  als: Partial<Omit<AlsOptions, 'onIteration'>>
  evaluation: NonNullable<EdgerecConfig['evaluation']>
  tuning?: NonNullable<EdgerecConfig['tuning']>
  gate?: NonNullable<EdgerecConfig['gate']>
}

function usage(message: string): TrainerError {
  return new TrainerError('USAGE', `${message} Run edgerec-train --help for the options.`)
}

function number(
  flags: ParsedFlags,
  name: keyof ParsedFlags,
  check: 'int' | 'positive' | 'fraction' | 'nonneg',
): number | undefined {
  const raw = flags[name]
  if (raw === undefined) return undefined
  const text = String(raw).trim()
  const value = text === '' ? Number.NaN : Number(text)
  const ok =
    check === 'int'
      ? Number.isInteger(value) && value >= 0
      : check === 'positive'
        ? Number.isFinite(value) && value > 0
        : check === 'fraction'
          ? Number.isFinite(value) && value >= 0 && value <= 1
          : Number.isFinite(value) && value >= 0
  if (!ok) {
    const want = {
      int: 'an integer ≥ 0',
      positive: 'a number > 0',
      fraction: 'a number in [0, 1]',
      nonneg: 'a number ≥ 0',
    }[check]
    throw usage(`--${name} must be ${want}, got ${JSON.stringify(raw)}.`)
  }
  return value
}

function oneOf<T extends string>(
  flags: ParsedFlags,
  name: keyof ParsedFlags,
  allowed: readonly T[],
): T | undefined {
  const raw = flags[name]
  if (raw === undefined) return undefined
  if (!(allowed as readonly string[]).includes(String(raw))) {
    throw usage(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}.`)
  }
  return raw as T
}

const COLUMN_KEYS = ['user', 'item', 'value', 'timestamp', 'type', 'anonymousUser'] as const

/** Parses `user=userId,item=movieId,...`. */
export function parseColumns(text: string): ColumnMapping {
  const mapping: ColumnMapping = {}
  for (const part of text.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    const key = (eq < 0 ? part : part.slice(0, eq)).trim()
    const value = eq < 0 ? '' : part.slice(eq + 1).trim()
    const field = key === 'time' ? 'timestamp' : key
    if (!(COLUMN_KEYS as readonly string[]).includes(field) || value === '') {
      throw usage(
        `--columns takes field=column pairs with fields ${COLUMN_KEYS.join(', ')}; got ${JSON.stringify(part)}.`,
      )
    }
    ;(mapping as Record<string, string>)[field] = value
  }
  return mapping
}

function columnsFrom(flags: ParsedFlags): ColumnMapping | undefined {
  const mapping: ColumnMapping = flags.columns ? parseColumns(flags.columns) : {}
  if (flags['user-col']) mapping.user = flags['user-col']
  if (flags['item-col']) mapping.item = flags['item-col']
  if (flags['value-col']) mapping.value = flags['value-col'] === 'none' ? false : flags['value-col']
  if (flags['time-col']) mapping.timestamp = flags['time-col']
  if (flags['type-col']) mapping.type = flags['type-col']
  return Object.keys(mapping).length > 0 ? mapping : undefined
}

function modelCommand(command: 'train' | 'evaluate', flags: ParsedFlags): ModelCommand {
  if (flags.input && flags.sqlite) throw usage('Give either --input or --sqlite, not both.')
  if (flags.eval && flags['no-eval']) throw usage('Give either --eval or --no-eval.')
  if (flags.header && flags['no-header']) throw usage('Give either --header or --no-header.')
  const columns = columnsFrom(flags)
  const timeUnit = oneOf(flags, 'time-unit', ['auto', 's', 'ms'] as const)
  const file: NonNullable<ConfigOverrides['file']> = {}
  if (flags.delimiter !== undefined) {
    try {
      file.delimiter = parseDelimiter(flags.delimiter)
    } catch (error) {
      throw usage(`--delimiter: ${(error as Error).message}`)
    }
  }
  if (flags.header) file.header = true
  if (flags['no-header']) file.header = false
  if (flags['time-format'] !== undefined) {
    if (!flags['time-format'].includes('%')) {
      throw usage(
        `--time-format takes a strftime format such as %d-%m-%Y, got ${JSON.stringify(flags['time-format'])}.`,
      )
    }
    file.timeFormat = flags['time-format']
  }
  const overrides: ConfigOverrides = { weighting: {}, badRows: {}, als: {}, evaluation: {} }
  if (flags.input) {
    const format = oneOf(flags, 'format', ['ndjson', 'csv', 'tsv', 'parquet'] as const)
    const events: EventSourceConfig = { kind: format ?? 'file', path: flags.input, ...file }
    if (columns) events.columns = columns
    if (timeUnit) events.timeUnit = timeUnit
    overrides.events = events
  } else if (flags.sqlite) {
    if (Object.keys(file).length > 0)
      throw usage('--delimiter / --header / --time-format apply to file inputs, not --sqlite.')
    overrides.events = { kind: 'sqlite', path: flags.sqlite }
  } else {
    if (flags.format) throw usage('--format needs --input.')
    if (columns) overrides.columns = columns
    if (timeUnit) overrides.timeUnit = timeUnit
    if (Object.keys(file).length > 0) overrides.file = file
  }
  const w = overrides.weighting
  if (flags.binary) w.binary = true
  if (flags.transform !== undefined) {
    try {
      w.transform = parseValueTransform(flags.transform)
    } catch (error) {
      throw usage(`--transform: ${(error as Error).message}`)
    }
    if (flags.binary && w.transform !== 'binary') throw usage('--binary contradicts --transform; give one.')
  }
  const halfLife = number(flags, 'half-life-days', 'positive')
  if (halfLife !== undefined) w.halfLifeDays = halfLife
  const minU = number(flags, 'min-user-interactions', 'int')
  if (minU !== undefined) w.minUserInteractions = minU
  const minI = number(flags, 'min-item-interactions', 'int')
  if (minI !== undefined) w.minItemInteractions = minI
  const maxBad = number(flags, 'max-bad-rows', 'int')
  if (maxBad !== undefined) overrides.badRows.maxBadRows = maxBad
  const maxBadFraction = number(flags, 'max-bad-fraction', 'fraction')
  if (maxBadFraction !== undefined) overrides.badRows.maxBadFraction = maxBadFraction

  const a = overrides.als
  const factors = number(flags, 'factors', 'int')
  if (factors !== undefined) a.factors = factors
  const regularization = number(flags, 'regularization', 'nonneg')
  if (regularization !== undefined) a.regularization = regularization
  const alpha = number(flags, 'alpha', 'positive')
  if (alpha !== undefined) a.alpha = alpha
  const iterations = number(flags, 'iterations', 'int')
  if (iterations !== undefined) a.iterations = iterations
  const cgSteps = number(flags, 'cg-steps', 'int')
  if (cgSteps !== undefined) a.cgSteps = cgSteps
  const solver = oneOf(flags, 'solver', ['cg', 'cholesky'] as const)
  if (solver) a.solver = solver
  const threads = number(flags, 'threads', 'int')
  if (threads !== undefined) a.threads = threads
  const seed = number(flags, 'seed', 'int')
  if (seed !== undefined) a.seed = seed
  if (flags.loss) a.computeLoss = true

  const e = overrides.evaluation
  if (flags.eval) e.enabled = true
  if (flags['no-eval']) e.enabled = false
  const split = oneOf<SplitKind>(flags, 'split', ['temporal', 'random', 'leave-one-out'])
  if (split) e.split = split
  const testFraction = number(flags, 'test-fraction', 'fraction')
  if (testFraction !== undefined) {
    if (testFraction === 0 || testFraction === 1)
      throw usage('--test-fraction must be strictly between 0 and 1.')
    e.testFraction = testFraction
  }
  const k = number(flags, 'k', 'int')
  if (k !== undefined) {
    if (k < 1) throw usage('--k must be ≥ 1.')
    e.k = k
  }
  if (flags.tune || flags.trials !== undefined || flags['tune-strategy'] !== undefined) {
    overrides.tuning = { enabled: true }
    const trials = number(flags, 'trials', 'int')
    if (trials !== undefined) {
      if (trials < 1) throw usage('--trials must be ≥ 1.')
      overrides.tuning.trials = trials
    }
    const strategy = oneOf(flags, 'tune-strategy', ['random', 'halving', 'grid'] as const)
    if (strategy) overrides.tuning.strategy = strategy
  }

  const margin = number(flags, 'gate-margin', 'nonneg')
  const maxDrop = number(flags, 'gate-max-drop', 'fraction')
  if (flags['no-gate'] && (margin !== undefined || maxDrop !== undefined))
    throw usage('Give either --no-gate or --gate-margin/--gate-max-drop.')
  if (margin !== undefined || maxDrop !== undefined || flags['no-gate']) {
    overrides.gate = {}
    if (flags['no-gate']) overrides.gate.enabled = false
    if (margin !== undefined) overrides.gate.minLiftOverPopularity = margin
    if (maxDrop !== undefined) {
      if (maxDrop === 1) throw usage('--gate-max-drop must be below 1.')
      overrides.gate.maxDropVsLive = maxDrop
    }
  }

  const result: ModelCommand = {
    command,
    overrides,
    json: flags.json === true,
    quiet: flags.quiet === true,
    publish: flags.publish === true,
    force: flags.force === true,
    local: flags.local === true,
  }
  if (flags.config) result.configPath = flags.config
  if (flags.report) result.reportPath = flags.report
  if (flags.output) result.outputDir = flags.output
  if (flags['version-id']) result.versionId = flags['version-id']
  if (flags['gate-live-version']) result.gateLiveVersion = flags['gate-live-version']
  const demoEvents = number(flags, 'demo-events', 'int')
  if (demoEvents !== undefined) result.demoEvents = demoEvents
  const maxAgeHours = number(flags, 'max-age-hours', 'positive')
  const minNewEvents = number(flags, 'min-new-events', 'int')
  if ((maxAgeHours !== undefined || minNewEvents !== undefined) && !flags['if-stale'])
    throw usage('--max-age-hours and --min-new-events are thresholds of --if-stale; add --if-stale.')
  if (flags['if-stale']) {
    result.ifStale = {}
    if (maxAgeHours !== undefined) result.ifStale.maxAgeHours = maxAgeHours
    if (minNewEvents !== undefined) result.ifStale.minNewEvents = Math.max(1, minNewEvents)
  }
  if (command === 'evaluate') {
    for (const flag of [
      'output',
      'version-id',
      'publish',
      'local',
      'if-stale',
      'gate-live-version',
      'max-age-hours',
      'min-new-events',
      'no-eval',
      'eval',
      'force',
      'gate-margin',
      'gate-max-drop',
      'no-gate',
    ] as const) {
      if (flags[flag] !== undefined) throw usage(`--${flag} is a train option; evaluate writes nothing.`)
    }
  }
  return result
}

function generateCommand(flags: ParsedFlags): GenerateCommand {
  const result: GenerateCommand = {
    command: 'generate',
    out: flags.out ?? flags.output ?? '.edgerec/generated',
    format: oneOf(flags, 'format', ['ndjson', 'csv'] as const) ?? 'ndjson',
    json: flags.json === true,
    quiet: flags.quiet === true,
  }
  for (const key of ['events', 'users', 'items', 'categories', 'seed'] as const) {
    const value = number(flags, key, 'int')
    if (value !== undefined) {
      if (key !== 'seed' && value < 1) throw usage(`--${key} must be ≥ 1.`)
      result[key] = value
    }
  }
  const days = number(flags, 'days', 'positive')
  if (days !== undefined) result.days = days
  const taste = number(flags, 'taste', 'fraction')
  if (taste !== undefined) result.taste = taste
  return result
}

const SCHEDULE_ONLY_FLAGS = ['cron', 'name', 'timezone'] as const

function scheduleCommand(rest: readonly string[], flags: ParsedFlags): ScheduleCommand {
  const [action, positionalName, ...extra] = rest
  if (action !== 'create' && action !== 'list' && action !== 'delete')
    throw usage(`schedule needs an action: create, list or delete (got ${JSON.stringify(action ?? '')}).`)
  if (extra.length > 0) throw usage(`Unexpected argument ${JSON.stringify(extra[0])}.`)
  const given = Object.keys(flags).filter((key) => flags[key as keyof ParsedFlags] !== undefined)
  const wrong = given.find(
    (key) => MODEL_ONLY_FLAGS.has(key) || ['publish', 'local', 'output', 'if-stale'].includes(key),
  )
  if (wrong) throw usage(`--${wrong} is not a schedule option.`)
  const raw = positionalName ?? flags.name
  const name = raw === undefined ? undefined : raw.startsWith('edgerec') ? raw : `edgerec-${raw}`
  const result: ScheduleCommand = { command: 'schedule', action, model: modelCommand('train', flags) }
  if (action === 'create') {
    if (!flags.cron)
      throw usage(
        'schedule create needs --cron "<minute> <hour> <day> <month> <weekday>", e.g. --cron "17 3 * * *".',
      )
    result.cron = flags.cron
    result.name = name ?? 'edgerec-train'
    if (flags.timezone) result.timezone = flags.timezone
  } else {
    const misplaced = SCHEDULE_ONLY_FLAGS.find((key) => key !== 'name' && flags[key] !== undefined)
    if (misplaced) throw usage(`--${misplaced} is a schedule create option.`)
    if (action === 'delete') {
      if (name === undefined) throw usage('schedule delete needs the schedule name (see schedule list).')
      result.name = name
    }
  }
  return result
}

const GENERATE_FLAGS = new Set([
  'events',
  'users',
  'items',
  'categories',
  'seed',
  'days',
  'taste',
  'out',
  'output',
  'format',
  'json',
  'quiet',
])
const MODEL_ONLY_FLAGS = new Set(['events', 'users', 'items', 'categories', 'days', 'taste', 'out'])

/**
 * Parses `argv` (without `node` and the script).
 *
 * @throws TrainerError `USAGE` for unknown commands or flags and bad values
 */
export function parseCommandLine(argv: readonly string[]): CliCommand {
  if (argv[0] === 'recommend') return parseRecommend(argv.slice(1))
  if (argv[0] === 'import-factors' && !argv.includes('--help') && !argv.includes('-h'))
    return parseImportFactors(argv.slice(1))
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (cause) {
    throw new TrainerError(
      'USAGE',
      `${(cause as Error).message}. Run edgerec-train --help for the options.`,
      { cause },
    )
  }
  const { values: flags, positionals } = parsed
  if (flags.version) return { command: 'version' }
  const [command = flags.help ? 'help' : 'train', ...rest] = positionals
  if (command === 'help') return rest[0] ? { command: 'help', topic: rest[0] } : { command: 'help' }
  if (flags.help) return positionals.length > 0 ? { command: 'help', topic: command } : { command: 'help' }
  if (command === 'schedule') return scheduleCommand(rest, flags)
  if (rest.length > 0) throw usage(`Unexpected argument ${JSON.stringify(rest[0])}.`)
  const given = Object.keys(flags).filter((key) => flags[key as keyof ParsedFlags] !== undefined)
  switch (command) {
    case 'train':
    case 'evaluate': {
      const wrong = given.find((key) => MODEL_ONLY_FLAGS.has(key))
      if (wrong) throw usage(`--${wrong} is a generate option.`)
      const scheduleFlag = SCHEDULE_ONLY_FLAGS.find((key) => flags[key] !== undefined)
      if (scheduleFlag) throw usage(`--${scheduleFlag} is a schedule option.`)
      return modelCommand(command, flags)
    }
    case 'tune': {
      // `tune` = `evaluate --tune`: search, then base vs tuned on the test split.
      const wrong = given.find((key) => MODEL_ONLY_FLAGS.has(key))
      if (wrong) throw usage(`--${wrong} is a generate option.`)
      const parsed = modelCommand('evaluate', flags)
      parsed.overrides.tuning = { ...parsed.overrides.tuning, enabled: true }
      return parsed
    }
    case 'generate': {
      const wrong = given.find((key) => !GENERATE_FLAGS.has(key))
      if (wrong) throw usage(`--${wrong} is not a generate option.`)
      return generateCommand(flags)
    }
    default:
      throw usage(`Unknown command ${JSON.stringify(command)}: use train, evaluate, tune or generate.`)
  }
}

/**
 * Merges flag overrides over a config file: a flag wins over the file, sections are merged key by key.
 *
 * @example
 * ```ts
 * applyOverrides({ als: { factors: 32 } }, parsed.overrides) // flags' --factors wins
 * ```
 */
export function applyOverrides(config: EdgerecConfig, overrides: ConfigOverrides): EdgerecConfig {
  const merged: EdgerecConfig = { ...config }
  if (overrides.events) merged.events = overrides.events
  else if ((overrides.columns || overrides.timeUnit || overrides.file) && merged.events) {
    const events = merged.events
    if (events.kind === 'sqlite' || events.kind === 'd1' || events.kind === 'archive') {
      throw usage(
        '--columns / --*-col / --time-unit / --time-format / --delimiter / --header apply to file inputs only; the config reads SQL or the event archive.',
      )
    }
    merged.events = {
      ...events,
      ...(overrides.columns ? { columns: { ...events.columns, ...overrides.columns } } : {}),
      ...(overrides.timeUnit ? { timeUnit: overrides.timeUnit } : {}),
      ...overrides.file,
    }
  } else if (overrides.columns || overrides.timeUnit || overrides.file) {
    throw usage(
      '--columns / --*-col / --time-unit / --time-format / --delimiter / --header need --input (or events in the config).',
    )
  }
  const section = <K extends 'weighting' | 'badRows' | 'als' | 'evaluation'>(key: K): void => {
    if (Object.keys(overrides[key]).length > 0)
      merged[key] = { ...config[key], ...overrides[key] } as EdgerecConfig[K]
  }
  section('weighting')
  section('badRows')
  section('als')
  section('evaluation')
  if (overrides.tuning) merged.tuning = { ...config.tuning, ...overrides.tuning }
  if (overrides.gate) merged.gate = { ...config.gate, ...overrides.gate }
  return merged
}

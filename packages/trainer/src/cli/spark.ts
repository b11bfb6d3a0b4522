/**
 * The Spark path of `edgerec-train` (docs/cloud.md, "Spark"): `import-factors` turns a Spark `ALSModel.save()` into an int8 model version through
 * `exportModel`, and publishes it with the configured publisher.
 *
 * @module
 */
import { basename, dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createPublisher, createStorage, type StorageConfig } from '@edgerec/adapters'
import { resolveThreads } from '../als/index.js'
import { loadConfig, storageFromEnv } from '../config/config.js'
import { TrainerError } from '../errors.js'
import { describeCandidates, exportModel } from '../export/index.js'
import { itemCounts, trendingScores } from '../popularity/index.js'
import { importSparkFactors } from '../spark/import.js'
import { projectRoot } from './invocation.js'
import { consoleLogger, type OutputStream } from './progress.js'

/** `import-factors`. */
export interface ImportFactorsCommand {
  command: 'import-factors'
  factors: string
  idMaps: string
  interactions?: string
  outputDir?: string
  versionId?: string
  configPath?: string
  publish: boolean
  force: boolean
  json: boolean
  quiet: boolean
}

const OPTIONS = {
  factors: { type: 'string' },
  'id-maps': { type: 'string' },
  interactions: { type: 'string' },
  output: { type: 'string' },
  'version-id': { type: 'string' },
  config: { type: 'string', short: 'c' },
  publish: { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const

function usage(message: string): TrainerError {
  return new TrainerError('USAGE', `${message} Run edgerec-train --help for the options.`)
}

/** Parses the arguments after `import-factors`. */
export function parseImportFactors(argv: readonly string[]): ImportFactorsCommand {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true }).values
  } catch (cause) {
    throw usage(`${(cause as Error).message}.`)
  }
  const str = (name: string) => values[name] as string | undefined
  const factors = str('factors')
  if (!factors) throw usage('import-factors needs --factors <directory written by ALSModel.save()>.')
  const idMaps = str('id-maps')
  if (!idMaps)
    throw usage('import-factors needs --id-maps <directory holding users.json, items.json, params.json>.')
  const command: ImportFactorsCommand = {
    command: 'import-factors',
    factors,
    idMaps,
    publish: values.publish === true,
    force: values.force === true,
    json: values.json === true,
    quiet: values.quiet === true,
  }
  if (str('interactions')) command.interactions = str('interactions')!
  if (str('output')) command.outputDir = str('output')!
  if (str('version-id')) command.versionId = str('version-id')!
  if (str('config')) command.configPath = str('config')!
  return command
}

interface Io {
  stdout: OutputStream
  stderr: OutputStream
  cwd: string
}

function registryConfig(
  outputDir: string | undefined,
  configured: StorageConfig | undefined,
  cwd: string,
): StorageConfig {
  if (outputDir !== undefined) return { provider: 'local', root: resolve(cwd, outputDir) }
  const chosen = storageFromEnv() ?? configured
  if (chosen === undefined) return { provider: 'local', root: join(projectRoot(cwd), '.edgerec', 'models') }
  return chosen.provider === 'local' ? { ...chosen, root: resolve(cwd, chosen.root) } : chosen
}

/**
 * Runs `import-factors`. Imported factors carry no quality-gate verdict (the gate evaluates a model
 * trained on a train split; Spark trained on everything), so `--publish` needs `--force`, like a
 * local `train --no-eval --publish`.
 */
export async function runImportFactors(command: ImportFactorsCommand, io: Io): Promise<void> {
  const logger = consoleLogger(io.stderr, { quiet: command.quiet })
  if (command.publish && !command.force) {
    throw new TrainerError(
      'USAGE',
      'Imported Spark factors have no quality-gate verdict (the gate needs a model trained on a train split), so --publish needs --force. Evaluate the Spark run yourself, then add --force.',
    )
  }
  const { config } = await loadConfig(command.configPath, io.cwd)
  logger.info(`Reading the Spark ALS model in ${command.factors}…`)
  const folder = async (path: string) => createStorage({ provider: 'local', root: resolve(io.cwd, path) })
  const imported = await importSparkFactors({
    factors: { storage: await folder(command.factors), key: '' },
    idMaps: { storage: await folder(command.idMaps), key: '' },
    ...(command.interactions
      ? {
          interactions: command.interactions.endsWith('.parquet')
            ? { storage: await folder(dirname(command.interactions)), key: basename(command.interactions) }
            : { storage: await folder(command.interactions), key: '' },
        }
      : {}),
  })
  const { model, data, params } = imported
  logger.info(
    `Imported ${model.users.toLocaleString('en-US')} users × ${model.items.toLocaleString('en-US')} items, rank ${model.factors}.`,
  )
  const registry = registryConfig(command.outputDir, config.storage, io.cwd)
  const storage = await createStorage(registry)
  const exportOptions: Parameters<typeof exportModel>[1] = {
    storage,
    ...config.export,
    onCandidates: (done, total) => logger.progress?.('candidates', done, total, 'users'),
    // The candidates (one scan per trained user) on as many threads as ALS would use.
    threads: resolveThreads(config.als?.threads ?? 0),
  }
  if (command.versionId !== undefined) exportOptions.version = command.versionId
  const exported = await exportModel(
    {
      model,
      data,
      als: params.als,
      eventWeights: params.eventWeights,
      ...(params.halfLifeDays !== undefined ? { halfLifeDays: params.halfLifeDays } : {}),
      popularity: itemCounts(data.matrix),
      trending: trendingScores(data.matrix, {
        halfLifeDays: config.trendingHalfLifeDays ?? 7,
        now: data.trainedUntil,
      }),
    },
    exportOptions,
  )
  const candidateLine = describeCandidates(exported)
  if (candidateLine) logger.info(candidateLine)
  logger.info(
    `Wrote model version ${exported.version} (${(exported.bytes / 1048576).toFixed(2)} MiB, ${exported.keys.length} objects).`,
  )
  let published: unknown
  if (command.publish) {
    const publisher = await createPublisher(config.publish)
    try {
      logger.info(`Publishing ${exported.version} (${config.publish?.provider ?? 'local'} target)…`)
      const report = await publisher.publish(storage, exported.version, { force: true })
      for (const warning of report.warnings) logger.warn(warning)
      logger.info(`Published ${report.version}; models/live → ${report.pointer.version}.`)
      published = report
    } finally {
      await publisher.close()
    }
  }
  io.stdout.write(
    command.json
      ? `${JSON.stringify({ version: exported.version, bytes: exported.bytes, manifest: exported.manifest, ...(published ? { published } : {}) })}\n`
      : `${exported.version}\n`,
  )
}

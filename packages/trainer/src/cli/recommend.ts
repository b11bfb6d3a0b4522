/**
 * `edgerec-train recommend`: batch recommendations from a model version in a model registry
 * (docs/trainer.md, "Batch recommendations").
 *
 * @module
 */

import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createStorage } from '@edgerec/adapters'
import { type ItemFilterSpec, type MerchandisingRules, parseFilterExpression } from '@edgerec/core'
import {
  type BatchFormat,
  batchRecommend,
  batchRecommendThreads,
  compileBatchRules,
  formatOf,
  readUserList,
} from '../batch/recommend.js'
import { loadConfig, storageFromEnv } from '../config/config.js'
import { TrainerError } from '../errors.js'

/** `recommend`. */
export interface RecommendCommand {
  command: 'recommend'
  users: 'all' | string
  k: number
  out: string
  filter: ItemFilterSpec
  /** `ndjson` or `parquet` (default: by the extension of `out`). */
  format: BatchFormat
  /** A rules document (JSON file, as `PUT /v1/admin/rules`). */
  rulesPath?: string
  maxPerCategory?: number
  diversity?: number
  outputDir?: string
  versionId?: string
  configPath?: string
  json: boolean
  /** Worker threads (default 1: the calling thread). */
  threads: number
}

const OPTIONS = {
  users: { type: 'string' },
  k: { type: 'string' },
  out: { type: 'string', short: 'o' },
  category: { type: 'string' },
  tag: { type: 'string' },
  'min-price': { type: 'string' },
  'max-price': { type: 'string' },
  available: { type: 'string' },
  filter: { type: 'string' },
  format: { type: 'string' },
  rules: { type: 'string' },
  'max-per-category': { type: 'string' },
  diversity: { type: 'string' },
  output: { type: 'string' },
  'version-id': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  threads: { type: 'string' },
} as const

function usage(message: string): TrainerError {
  return new TrainerError('USAGE', `${message} Run edgerec-train --help for the options.`)
}

const list = (raw: string | undefined) =>
  raw
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < 0) throw usage(`--${name} must be a number ≥ 0, got ${JSON.stringify(raw)}.`)
  return n
}

/** Parses the arguments after `recommend`. */
export function parseRecommend(argv: readonly string[]): RecommendCommand {
  let values: Record<string, string | boolean | undefined>
  try {
    const parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: false, strict: true })
    values = parsed.values
  } catch (cause) {
    throw usage(`${(cause as Error).message}.`)
  }
  const str = (name: string) => values[name] as string | undefined
  const users = str('users')
  if (!users) throw usage('recommend needs --users all or --users <file with one user id per line>.')
  const out = str('out')
  if (!out) throw usage('recommend needs --out <file.ndjson|file.parquet>.')
  const formatArg = str('format')
  if (formatArg !== undefined && formatArg !== 'ndjson' && formatArg !== 'parquet')
    throw usage('--format must be ndjson or parquet.')
  const maxPerCategory = number('max-per-category', str('max-per-category'))
  if (
    maxPerCategory !== undefined &&
    (!Number.isInteger(maxPerCategory) || maxPerCategory < 1 || maxPerCategory > 100)
  )
    throw usage('--max-per-category must be an integer in 1..100.')
  const diversity = number('diversity', str('diversity'))
  if (diversity !== undefined && diversity > 1) throw usage('--diversity must be in [0, 1].')
  const k = number('k', str('k')) ?? 10
  if (!Number.isInteger(k) || k < 1 || k > 1000) throw usage('--k must be an integer in 1..1000.')
  const filter: ItemFilterSpec = {}
  const categories = list(str('category'))
  if (categories?.length) filter.categories = categories
  const tags = list(str('tag'))
  if (tags?.length) filter.tags = tags
  const min = number('min-price', str('min-price'))
  if (min !== undefined) filter.minPrice = min
  const max = number('max-price', str('max-price'))
  if (max !== undefined) filter.maxPrice = max
  const available = str('available')
  if (available !== undefined) {
    if (available === 'true' || available === 'false') filter.available = available === 'true'
    else if (available === 'any') filter.available = 'any'
    else throw usage('--available must be true, false or any.')
  }
  const expression = str('filter')
  if (expression !== undefined) {
    const parsed = parseFilterExpression(expression)
    if (!parsed.ok) throw usage(parsed.message)
    filter.expression = parsed.node
  }
  const threads = number('threads', str('threads')) ?? 1
  if (!Number.isInteger(threads) || threads < 1 || threads > 64)
    throw usage('--threads must be an integer in 1..64.')
  const command: RecommendCommand = {
    command: 'recommend',
    users,
    k,
    out,
    filter,
    format: formatOf(out, formatArg as BatchFormat | undefined),
    json: values.json === true,
    threads,
  }
  if (str('rules')) command.rulesPath = str('rules')!
  if (maxPerCategory !== undefined) command.maxPerCategory = maxPerCategory
  if (diversity !== undefined) command.diversity = diversity
  if (str('output')) command.outputDir = str('output')!
  if (str('version-id')) command.versionId = str('version-id')!
  if (str('config')) command.configPath = str('config')!
  return command
}

/** Runs `recommend`: prints the output path (or a JSON summary with `--json`). */
export async function runRecommend(
  command: RecommendCommand,
  io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown }; cwd: string },
): Promise<void> {
  const storageConfig = command.outputDir
    ? { provider: 'local' as const, root: resolve(io.cwd, command.outputDir) }
    : (storageFromEnv() ??
      (await loadConfig(command.configPath, io.cwd)).config.storage ?? {
        provider: 'local' as const,
        root: resolve(io.cwd, '.edgerec/models'),
      })
  const resolved =
    storageConfig.provider === 'local'
      ? { ...storageConfig, root: resolve(io.cwd, storageConfig.root) }
      : storageConfig
  const users: 'all' | string[] =
    command.users === 'all' ? 'all' : await readUserList(resolve(io.cwd, command.users))
  let rules: MerchandisingRules | undefined
  if (command.rulesPath) {
    const path = resolve(io.cwd, command.rulesPath)
    let document: unknown
    try {
      document = JSON.parse(await readFile(path, 'utf8'))
    } catch (cause) {
      throw new TrainerError(
        'USAGE',
        `Cannot read the rules ${path}: ${(cause as Error).message}. Give a JSON rules document (docs/catalog.md).`,
        { cause },
      )
    }
    rules = compileBatchRules(document).source
  }
  const common = {
    ...(command.versionId ? { version: command.versionId } : {}),
    users,
    k: command.k,
    filter: command.filter,
    ...(rules ? { rules } : {}),
    ...(command.maxPerCategory !== undefined ? { maxPerCategory: command.maxPerCategory } : {}),
    ...(command.diversity !== undefined ? { diversity: command.diversity } : {}),
    out: resolve(io.cwd, command.out),
    format: command.format,
  }
  const result =
    command.threads > 1
      ? await batchRecommendThreads({ ...common, storageConfig: resolved, threads: command.threads })
      : await batchRecommend({
          ...common,
          storage: await createStorage(resolved),
          onProgress: (done, total) =>
            io.stderr.write(`  ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} users\n`),
        })
  io.stderr.write(
    `Wrote recommendations for ${result.users.toLocaleString('en-US')} users (${result.modelUsers.toLocaleString('en-US')} from the model) of ${result.version} to ${result.out}.\n`,
  )
  io.stdout.write(command.json ? `${JSON.stringify(result)}\n` : `${result.out}\n`)
}

/**
 * `npm run deploy`: puts the edge worker on a Cloudflare account in one command.
 *
 * 1. checks the wrangler login (`wrangler whoami`);
 * 2. finds or creates the D1 database, the KV namespace, the R2 bucket and the queues that
 *    wrangler.jsonc binds (rate limiters need nothing created: their `namespace_id` is chosen in the
 *    config);
 * 3. writes `wrangler.deploy.json` (git-ignored): wrangler.jsonc with the real resource ids (and
 *    `--origins` as `ALLOWED_ORIGINS`);
 * 4. applies the D1 migrations (`wrangler d1 migrations apply --remote`);
 * 5. deploys with the keys as secrets (`wrangler deploy --secrets-file`: new random keys on the
 *    first deploy or with `--rotate-keys`, the given ones with `EDGEREC_PUBLISHABLE_KEY` /
 *    `EDGEREC_SECRET_KEY`, untouched otherwise; and `USER_TOKEN_SECRET`, which signs user tokens,
 *    once); with the current values in `EDGEREC_PREVIOUS_PUBLISHABLE_KEY` /
 *    `EDGEREC_PREVIOUS_SECRET_KEY` / `EDGEREC_PREVIOUS_USER_TOKEN_SECRET`, a rotation keeps them
 *    valid for a window (`PREVIOUS_*` secrets set with the new ones; docs/online.md, "Rotating keys
 *    and secrets");
 * 6. prints the endpoint, the keys it set, and a curl to try.
 *
 * `--dry-run` touches no account: it prints the plan, writes the config with placeholder ids and
 * bundles with `wrangler deploy --dry-run`. Guide: docs/deploy.md.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspectKeys } from '../src/config.ts'
import { PACKAGE_DIR, type WranglerRun, wrangler } from './wrangler.ts'

/** The generated config, next to wrangler.jsonc so its relative paths (main, migrations) hold. */
export const DEPLOY_CONFIG = 'wrangler.deploy.json'
/** The secrets the worker needs (wrangler.jsonc `secrets.required`). */
export const KEY_NAMES = ['PUBLISHABLE_KEY', 'SECRET_KEY'] as const
/** Placeholder ids of wrangler.jsonc (and of a dry run). */
const PLACEHOLDER_D1 = '00000000-0000-0000-0000-000000000000'
const PLACEHOLDER_KV = '00000000000000000000000000000000'

/** Command-line options. */
export interface DeployOptions {
  dryRun: boolean
  /** `ALLOWED_ORIGINS` to deploy with (default: the config's). */
  origins?: string
  /** Generate new keys even if the worker has them. */
  rotateKeys: boolean
  /** Source config (default wrangler.jsonc). */
  config: string
}

/** The part of a wrangler config this script reads and rewrites. */
export interface WorkerConfig {
  name: string
  d1_databases?: { binding: string; database_name: string; database_id: string }[]
  kv_namespaces?: { binding: string; id: string }[]
  r2_buckets?: { binding: string; bucket_name: string }[]
  queues?: { producers?: { queue: string }[]; consumers?: { queue: string }[] }
  ratelimits?: { name: string; namespace_id: string }[]
  vars?: Record<string, string>
  [key: string]: unknown
}

/** What exists on the account (or, in a dry run, nothing). */
export interface AccountState {
  /** database_name → id */
  d1: Map<string, string>
  /** KV namespace title → id */
  kv: Map<string, string>
  r2: Set<string>
  queues: Set<string>
}

/** Parses `npm run deploy -- …` arguments. */
export function parseArgs(argv: readonly string[]): DeployOptions {
  const options: DeployOptions = { dryRun: false, rotateKeys: false, config: 'wrangler.jsonc' }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--dry-run') options.dryRun = true
    else if (arg === '--rotate-keys') options.rotateKeys = true
    else if (arg === '--origins') options.origins = argv[++i]
    else if (arg === '--config' || arg === '-c') options.config = argv[++i] ?? options.config
    else if (arg === '--help' || arg === '-h') {
      console.log(
        'npm run deploy -- [--dry-run] [--origins https://shop.example,https://www.shop.example] [--rotate-keys] [--config wrangler.jsonc]',
      )
      process.exit(0)
    } else throw new Error(`Unknown option ${arg}. Run npm run deploy -- --help.`)
  }
  if (
    options.origins !== undefined &&
    !/^(\*|https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*)$/.test(options.origins)
  )
    throw new Error(
      `--origins takes "*" or comma-separated origins like https://shop.example; got ${options.origins}.`,
    )
  return options
}

/** The KV namespace title this script uses for a binding: `<worker>-<binding>`. */
export function kvTitle(config: WorkerConfig, binding: string): string {
  return `${config.name}-${binding}`
}

/** Every queue the config produces to or consumes from. */
export function queueNames(config: WorkerConfig): string[] {
  const names = [...(config.queues?.producers ?? []), ...(config.queues?.consumers ?? [])].map((q) => q.queue)
  return [...new Set(names)]
}

/** The wrangler commands that create what `state` lacks, in order. */
export function creations(config: WorkerConfig, state: AccountState): string[][] {
  const commands: string[][] = []
  for (const db of config.d1_databases ?? [])
    if (!state.d1.has(db.database_name)) commands.push(['d1', 'create', db.database_name])
  for (const kv of config.kv_namespaces ?? [])
    if (!state.kv.has(kvTitle(config, kv.binding)))
      commands.push(['kv', 'namespace', 'create', kvTitle(config, kv.binding)])
  for (const bucket of config.r2_buckets ?? [])
    if (!state.r2.has(bucket.bucket_name)) commands.push(['r2', 'bucket', 'create', bucket.bucket_name])
  for (const queue of queueNames(config))
    if (!state.queues.has(queue)) commands.push(['queues', 'create', queue])
  return commands
}

/**
 * The config to deploy: the source config with the account's resource ids (placeholders where the
 * state has none, as in a dry run) and `origins` as `ALLOWED_ORIGINS`.
 */
export function deployConfig(config: WorkerConfig, state: AccountState, origins?: string): WorkerConfig {
  const out: WorkerConfig = structuredClone(config)
  delete out.$schema
  for (const db of out.d1_databases ?? []) db.database_id = state.d1.get(db.database_name) ?? PLACEHOLDER_D1
  for (const kv of out.kv_namespaces ?? [])
    kv.id = state.kv.get(kvTitle(config, kv.binding)) ?? PLACEHOLDER_KV
  if (origins !== undefined) out.vars = { ...out.vars, ALLOWED_ORIGINS: origins }
  return out
}

/** Values of the three secrets a deploy may set (`undefined`: not set by this deploy). */
export interface KeyValues {
  publishable?: string
  secret?: string
  userToken?: string
}

const ROTATED = [
  { kind: 'publishable', name: 'PUBLISHABLE_KEY', previous: 'PREVIOUS_PUBLISHABLE_KEY' },
  { kind: 'secret', name: 'SECRET_KEY', previous: 'PREVIOUS_SECRET_KEY' },
  { kind: 'userToken', name: 'USER_TOKEN_SECRET', previous: 'PREVIOUS_USER_TOKEN_SECRET' },
] as const

/** The values being replaced, from `EDGEREC_PREVIOUS_*` (blank counts as not given). */
export function previousValues(env: Record<string, string | undefined>): KeyValues {
  const values: KeyValues = {}
  for (const { kind, previous } of ROTATED) {
    const value = env[`EDGEREC_${previous}`]
    if (value !== undefined && value.trim() !== '') values[kind] = value
  }
  return values
}

/**
 * The rotation-window secrets to set with new keys: `PREVIOUS_<name>` for each old value given for
 * a secret this deploy replaces, checked as the worker checks it (`inspectKeys`), so a value the
 * worker would ignore stops the deploy instead.
 *
 * @throws Error when an old value is given for a secret this deploy does not replace, or is one the
 * worker would ignore (too short, equal to the new value, equal to a key of the other kind)
 */
export function previousSecrets(previous: KeyValues, next: KeyValues): Record<string, string> {
  const errors: string[] = []
  const bindings: Record<string, string | undefined> = {
    PUBLISHABLE_KEY: next.publishable,
    SECRET_KEY: next.secret,
    USER_TOKEN_SECRET: next.userToken,
  }
  for (const { kind, name, previous: variable } of ROTATED) {
    if (previous[kind] === undefined) continue
    if (next[kind] === undefined)
      errors.push(
        `EDGEREC_${variable} is given but this deploy does not replace ${name}: rotate with --rotate-keys (or give the new value in EDGEREC_${name}), or drop EDGEREC_${variable}.`,
      )
    else bindings[variable] = previous[kind]
  }
  errors.push(...inspectKeys(bindings).problems.map((p) => `EDGEREC_${p.message}`))
  if (errors.length > 0) throw new Error(errors.join('\n'))
  const secrets: Record<string, string> = {}
  for (const { previous: variable } of ROTATED) {
    const value = bindings[variable]
    if (value !== undefined) secrets[variable] = value
  }
  return secrets
}

/** A new key: prefix + 32 random bytes, base64url (256 bits). */
export function newKey(prefix: 'pk_live_' | 'sk_live_'): string {
  return prefix + randomBytes(32).toString('base64url')
}

/** The deployed URL in `wrangler deploy`'s output. */
export function deployedUrl(output: string): string | undefined {
  return /https:\/\/[a-z0-9.-]+\.workers\.dev/i.exec(output)?.[0]
}

/** The lines printed after a deploy: endpoint, keys and curls to try. */
export function summary(
  endpoint: string,
  keys: { publishable?: string; secret?: string; userToken?: string },
  dryRun = false,
  window: readonly string[] = [],
): string {
  const key = keys.publishable ?? '<your publishable key>'
  const lines = [
    `Endpoint: ${endpoint}`,
    dryRun
      ? 'Keys: generated at deploy time and printed once (or given in EDGEREC_PUBLISHABLE_KEY / EDGEREC_SECRET_KEY)'
      : keys.publishable
        ? `Publishable key (for pages and apps): ${keys.publishable}`
        : 'Keys: unchanged (--rotate-keys sets new ones)',
    keys.secret ? `Secret key (admin; store it now, it is not shown again): ${keys.secret}` : '',
    keys.userToken
      ? `User token secret (your backend signs user tokens with it, docs/privacy.md; not shown again): ${keys.userToken}`
      : '',
    window.length > 0
      ? `Rotation window open: the old values (${window.join(', ')}) stay valid until you close it, once clients use the new ones (docs/online.md, "Rotating keys and secrets"):\n  ${window.map((name) => `npx wrangler secret delete ${name} -c ${DEPLOY_CONFIG}`).join('\n  ')}`
      : '',
    'Try:',
    `  curl ${endpoint}/v1/health`,
    `  curl -H 'Authorization: Bearer ${key}' '${endpoint}/v1/popular?k=5'`,
    `  curl -H 'Authorization: Bearer ${key}' -X POST ${endpoint}/v1/events --data '{"events":[{"id":"${crypto.randomUUID()}","anonymousId":"a1","itemId":"sku-1","type":"view","timestamp":${Date.now()}}]}'`,
    'Next: train and publish a model (docs/trainer.md, docs/cloud.md); until then reads answer from event popularity.',
  ]
  return lines.filter(Boolean).join('\n')
}

function must(run: WranglerRun, what: string): WranglerRun {
  if (run.status !== 0) throw new Error(`${what} failed:\n${run.stderr || run.stdout}`)
  return run
}

function show(args: readonly string[]): string {
  return `wrangler ${args.join(' ')}`
}

/** Reads what the account holds, through wrangler. */
function readAccount(config: WorkerConfig): AccountState {
  const state: AccountState = { d1: new Map(), kv: new Map(), r2: new Set(), queues: new Set() }
  const d1 = JSON.parse(must(wrangler(['d1', 'list', '--json']), 'Listing D1 databases').stdout) as {
    name: string
    uuid: string
  }[]
  for (const db of d1) state.d1.set(db.name, db.uuid)
  const kv = JSON.parse(must(wrangler(['kv', 'namespace', 'list']), 'Listing KV namespaces').stdout) as {
    id: string
    title: string
  }[]
  for (const ns of kv) state.kv.set(ns.title, ns.id)
  // NOTE: `r2 bucket list` and `queues list` print tables; `info` answers per name with its exit status.
  for (const bucket of config.r2_buckets ?? [])
    if (wrangler(['r2', 'bucket', 'info', bucket.bucket_name]).status === 0) state.r2.add(bucket.bucket_name)
  for (const queue of queueNames(config))
    if (wrangler(['queues', 'info', queue]).status === 0) state.queues.add(queue)
  return state
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  // NOTE: wrangler's own reader: JSONC, and the same defaults wrangler deploy applies.
  const { experimental_readRawConfig } = await import('wrangler')
  const config = experimental_readRawConfig({ config: join(PACKAGE_DIR, options.config) })
    .rawConfig as WorkerConfig
  const started = performance.now()
  const step = (text: string) => console.log(`\n▶ ${text}`)

  let state: AccountState = { d1: new Map(), kv: new Map(), r2: new Set(), queues: new Set() }
  if (options.dryRun) {
    console.log('Dry run: no Cloudflare account is touched; resource ids are placeholders.')
  } else {
    step('Cloudflare login (wrangler whoami)')
    must(
      wrangler(['whoami']),
      'wrangler whoami (run `npx wrangler login` or set CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)',
    )
    state = readAccount(config)
  }

  step('Resources (D1, KV, R2, queues)')
  for (const command of creations(config, state)) {
    console.log(`  ${options.dryRun ? 'would run' : 'running'}: ${show(command)}`)
    if (!options.dryRun) must(wrangler(command), show(command))
  }
  for (const limiter of config.ratelimits ?? [])
    console.log(`  rate limiter ${limiter.name}: namespace ${limiter.namespace_id} (nothing to create)`)
  if (!options.dryRun) state = readAccount(config)
  const missing = creations(config, state)
  if (!options.dryRun && missing.length > 0)
    throw new Error(
      `Still missing after creating: ${missing.map(show).join('; ')}. Check the account's permissions.`,
    )

  step(`Config → ${DEPLOY_CONFIG}`)
  writeFileSync(
    join(PACKAGE_DIR, DEPLOY_CONFIG),
    `${JSON.stringify(deployConfig(config, state, options.origins), null, 2)}\n`,
  )
  for (const db of config.d1_databases ?? [])
    console.log(
      `  D1 ${db.binding}: ${db.database_name} ${state.d1.get(db.database_name) ?? '(placeholder id)'}`,
    )
  for (const kv of config.kv_namespaces ?? [])
    console.log(
      `  KV ${kv.binding}: ${kvTitle(config, kv.binding)} ${state.kv.get(kvTitle(config, kv.binding)) ?? '(placeholder id)'}`,
    )

  for (const db of config.d1_databases ?? []) {
    const command = ['d1', 'migrations', 'apply', db.database_name, '--remote', '-c', DEPLOY_CONFIG]
    step(`D1 migrations (${show(command)})`)
    if (options.dryRun) console.log('  would run it')
    else must(wrangler(command, PACKAGE_DIR, { CI: 'true' }), show(command))
  }

  step('Keys (secrets)')
  const keys: { publishable?: string; secret?: string; userToken?: string } = {}
  let existing: string[] = []
  if (!options.dryRun) {
    const listed = wrangler(['secret', 'list', '--format', 'json', '-c', DEPLOY_CONFIG])
    // NOTE: fails when the worker does not exist yet (first deploy): no secrets then.
    if (listed.status === 0) existing = (JSON.parse(listed.stdout) as { name: string }[]).map((s) => s.name)
  }
  const given = { publishable: process.env.EDGEREC_PUBLISHABLE_KEY, secret: process.env.EDGEREC_SECRET_KEY }
  const setKeys =
    options.rotateKeys || given.publishable || given.secret || KEY_NAMES.some((k) => !existing.includes(k))
  const scratch = mkdtempSync(join(tmpdir(), 'edgerec-deploy-'))
  const secretsFile = join(scratch, 'secrets.json')
  try {
    if (setKeys) {
      keys.publishable = given.publishable ?? newKey('pk_live_')
      keys.secret = given.secret ?? newKey('sk_live_')
    } else console.log('  the worker has both keys: unchanged')
    // The secret that signs user tokens (x-edgerec-user-token, docs/privacy.md): set once, kept after.
    const tokenSecret = process.env.EDGEREC_USER_TOKEN_SECRET
    if (tokenSecret || options.rotateKeys || !existing.includes('USER_TOKEN_SECRET'))
      keys.userToken = tokenSecret ?? randomBytes(32).toString('base64url')
    const previous = previousValues(process.env)
    const window = previousSecrets(previous, {
      ...(setKeys ? { publishable: keys.publishable, secret: keys.secret } : {}),
      ...(keys.userToken ? { userToken: keys.userToken } : {}),
    })
    if (options.rotateKeys && Object.keys(window).length === 0)
      console.log(
        '  no rotation window: clients holding the old keys, recIds and user tokens are refused at once. To keep them valid for a while, give the current values in EDGEREC_PREVIOUS_PUBLISHABLE_KEY, EDGEREC_PREVIOUS_SECRET_KEY and EDGEREC_PREVIOUS_USER_TOKEN_SECRET (docs/online.md, "Rotating keys and secrets").',
      )
    const secrets = {
      ...(setKeys ? { PUBLISHABLE_KEY: keys.publishable, SECRET_KEY: keys.secret } : {}),
      ...(keys.userToken ? { USER_TOKEN_SECRET: keys.userToken } : {}),
      ...window,
    }
    writeFileSync(secretsFile, JSON.stringify(secrets))
    chmodSync(secretsFile, 0o600)
    if (Object.keys(secrets).length > 0)
      console.log(
        `  ${options.dryRun ? 'would set' : 'setting'} ${Object.keys(secrets).join(', ')} with the deploy (--secrets-file)`,
      )

    const command = [
      'deploy',
      '-c',
      DEPLOY_CONFIG,
      ...(Object.keys(secrets).length > 0 && !options.dryRun ? ['--secrets-file', secretsFile] : []),
    ]
    if (options.dryRun) command.push('--dry-run', '--outdir', join(scratch, 'bundle'))
    step(show(command.map((a) => (a === secretsFile ? '<keys file>' : a))))
    const deployed = must(wrangler(command), 'wrangler deploy')
    const size = /Total Upload: .*/.exec(deployed.stdout)?.[0]
    if (size) console.log(`  ${size}`)
    const endpoint = options.dryRun
      ? `https://${config.name}.<your-subdomain>.workers.dev`
      : deployedUrl(deployed.stdout)
    if (!endpoint)
      throw new Error(
        `Deployed, but no workers.dev URL in wrangler's output (a custom route?):\n${deployed.stdout}`,
      )
    console.log(
      `\n${options.dryRun ? 'Dry run done' : 'Deployed'} in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
    )
    console.log(summary(endpoint, options.dryRun ? {} : keys, options.dryRun, Object.keys(window)))
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(`edgerec deploy: ${error.message}`)
    process.exit(1)
  })
}

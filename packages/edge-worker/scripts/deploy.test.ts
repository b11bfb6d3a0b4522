/**
 * `npm run deploy`, as far as a machine without a Cloudflare account can run it: the whole command
 * in `--dry-run` (real wrangler: config read, generated config written, bundle built offline), and the
 * planning functions the cloud path uses (what to create for a given account state, the config with
 * the account's ids, the printed endpoint and curls). The cloud calls themselves (whoami, create,
 * migrations --remote, deploy with secrets) are not run here: see docs/deploy.md.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type AccountState,
  creations,
  DEPLOY_CONFIG,
  deployConfig,
  deployedUrl,
  newKey,
  parseArgs,
  previousSecrets,
  previousValues,
  queueNames,
  summary,
  type WorkerConfig,
} from './deploy.ts'
import { PACKAGE_DIR } from './wrangler.ts'

const OFFLINE = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  CLOUDFLARE_API_TOKEN: '',
}

const config: WorkerConfig = {
  name: 'edgerec',
  d1_databases: [
    { binding: 'DB', database_name: 'edgerec', database_id: '00000000-0000-0000-0000-000000000000' },
  ],
  kv_namespaces: [{ binding: 'MODELS_KV', id: '00000000000000000000000000000000' }],
  r2_buckets: [{ binding: 'MODELS_R2', bucket_name: 'edgerec-models' }],
  queues: { producers: [{ queue: 'edgerec-events' }], consumers: [{ queue: 'edgerec-events' }] },
  ratelimits: [{ name: 'EVENTS_RATE_LIMITER', namespace_id: '7301' }],
  vars: { ALLOWED_ORIGINS: '*', FALLBACK_LIST: 'popular' },
}
const empty = (): AccountState => ({ d1: new Map(), kv: new Map(), r2: new Set(), queues: new Set() })

afterAll(() => rmSync(join(PACKAGE_DIR, DEPLOY_CONFIG), { force: true }))

describe('npm run deploy -- --dry-run', () => {
  it('should plan every resource, write the deploy config and bundle the worker, offline', () => {
    const run = spawnSync(
      process.execPath,
      ['scripts/deploy.ts', '--dry-run', '--origins', 'https://shop.example'],
      { cwd: PACKAGE_DIR, encoding: 'utf8', env: { ...process.env, ...OFFLINE } },
    )
    expect(run.status, run.stderr).toBe(0)
    for (const line of [
      'would run: wrangler d1 create edgerec',
      'would run: wrangler kv namespace create edgerec-MODELS_KV',
      'would run: wrangler r2 bucket create edgerec-models',
      'would run: wrangler queues create edgerec-events',
      'rate limiter EVENTS_RATE_LIMITER: namespace 7301 (nothing to create)',
      'wrangler d1 migrations apply edgerec --remote -c wrangler.deploy.json',
      'would set PUBLISHABLE_KEY, SECRET_KEY, USER_TOKEN_SECRET with the deploy (--secrets-file)',
      'Total Upload:',
      'Dry run done',
      "curl -H 'Authorization: Bearer",
    ])
      expect(run.stdout).toContain(line)
    const written = JSON.parse(readFileSync(join(PACKAGE_DIR, DEPLOY_CONFIG), 'utf8')) as WorkerConfig
    const source = (written.vars ?? {}) as Record<string, string>
    expect(source.ALLOWED_ORIGINS).toBe('https://shop.example')
    expect(written.main).toBe('src/index.ts')
    expect(written.secrets).toEqual({ required: ['PUBLISHABLE_KEY', 'SECRET_KEY'] })
    expect(written.d1_databases?.[0]).toMatchObject({
      binding: 'DB',
      database_name: 'edgerec',
      migrations_dir: 'drizzle',
    })
    expect(written.$schema).toBeUndefined()
    // No key is printed or written in a dry run.
    expect(run.stdout).not.toMatch(/[ps]k_live_/)
  })

  it('should refuse unknown options and malformed origins with a message', () => {
    expect(() => parseArgs(['--prod'])).toThrow(/Unknown option --prod/)
    expect(() => parseArgs(['--origins', 'shop.example'])).toThrow(/comma-separated origins/)
    expect(parseArgs(['--origins', 'https://a.example,https://b.example', '--rotate-keys'])).toMatchObject({
      origins: 'https://a.example,https://b.example',
      rotateKeys: true,
      dryRun: false,
    })
  })
})

describe('deploy planning', () => {
  it('should create only what the account lacks', () => {
    expect(creations(config, empty())).toEqual([
      ['d1', 'create', 'edgerec'],
      ['kv', 'namespace', 'create', 'edgerec-MODELS_KV'],
      ['r2', 'bucket', 'create', 'edgerec-models'],
      ['queues', 'create', 'edgerec-events'],
    ])
    const existing: AccountState = {
      d1: new Map([['edgerec', 'd1-uuid']]),
      kv: new Map([['edgerec-MODELS_KV', 'kv-id']]),
      r2: new Set(['edgerec-models']),
      queues: new Set(['edgerec-events']),
    }
    expect(creations(config, existing)).toEqual([])
    expect(queueNames(config)).toEqual(['edgerec-events'])
  })

  it("should put the account's ids into the deploy config and leave the source untouched", () => {
    const state: AccountState = {
      ...empty(),
      d1: new Map([['edgerec', 'd1-uuid']]),
      kv: new Map([['edgerec-MODELS_KV', 'kv-id']]),
    }
    const out = deployConfig(config, state, 'https://shop.example')
    expect(out.d1_databases?.[0]?.database_id).toBe('d1-uuid')
    expect(out.kv_namespaces?.[0]?.id).toBe('kv-id')
    expect(out.vars).toEqual({ ALLOWED_ORIGINS: 'https://shop.example', FALLBACK_LIST: 'popular' })
    expect(config.d1_databases?.[0]?.database_id).toBe('00000000-0000-0000-0000-000000000000')
    expect(deployConfig(config, state).vars?.ALLOWED_ORIGINS).toBe('*')
  })

  it('should make 256-bit keys, find the workers.dev URL and print working curls', () => {
    const key = newKey('pk_live_')
    expect(key).toMatch(/^pk_live_[A-Za-z0-9_-]{43}$/)
    expect(newKey('pk_live_')).not.toBe(key)
    const output =
      'Uploaded edgerec (3.1 sec)\nDeployed edgerec triggers (0.5 sec)\n  https://edgerec.acme.workers.dev\n'
    expect(deployedUrl(output)).toBe('https://edgerec.acme.workers.dev')
    expect(deployedUrl('no url')).toBeUndefined()
    const text = summary('https://edgerec.acme.workers.dev', {
      publishable: 'pk_live_x',
      secret: 'sk_live_y',
      userToken: 'uts',
    })
    expect(text).toContain('Endpoint: https://edgerec.acme.workers.dev')
    expect(text).toContain(
      "curl -H 'Authorization: Bearer pk_live_x' 'https://edgerec.acme.workers.dev/v1/popular?k=5'",
    )
    expect(text).toContain('sk_live_y')
    expect(text).toContain('User token secret (your backend signs user tokens with it')
    expect(summary('https://e.workers.dev', {})).toContain('Keys: unchanged')
  })

  it('should set the old values as PREVIOUS_* for a rotation window, checked as the worker checks them', () => {
    const old = { publishable: newKey('pk_live_'), secret: newKey('sk_live_'), userToken: 'u'.repeat(43) }
    const next = { publishable: newKey('pk_live_'), secret: newKey('sk_live_'), userToken: 'n'.repeat(43) }
    expect(
      previousValues({
        EDGEREC_PREVIOUS_SECRET_KEY: old.secret,
        EDGEREC_PREVIOUS_PUBLISHABLE_KEY: ' ',
        EDGEREC_SECRET_KEY: 'ignored here',
      }),
    ).toEqual({ secret: old.secret })
    expect(previousSecrets(old, next)).toEqual({
      PREVIOUS_PUBLISHABLE_KEY: old.publishable,
      PREVIOUS_SECRET_KEY: old.secret,
      PREVIOUS_USER_TOKEN_SECRET: old.userToken,
    })
    expect(previousSecrets({}, next)).toEqual({})
    // An old value for a secret this deploy keeps, or one the worker would ignore, stops the deploy.
    expect(() =>
      previousSecrets({ userToken: old.userToken }, { publishable: next.publishable, secret: next.secret }),
    ).toThrow(
      'EDGEREC_PREVIOUS_USER_TOKEN_SECRET is given but this deploy does not replace USER_TOKEN_SECRET',
    )
    expect(() => previousSecrets({ secret: 'sk_short' }, next)).toThrow(
      'EDGEREC_PREVIOUS_SECRET_KEY is shorter than 16 characters',
    )
    expect(() => previousSecrets({ secret: next.secret }, next)).toThrow(
      'EDGEREC_PREVIOUS_SECRET_KEY equals SECRET_KEY',
    )
    expect(() => previousSecrets({ secret: next.publishable }, next)).toThrow(
      'EDGEREC_PREVIOUS_SECRET_KEY equals PUBLISHABLE_KEY',
    )
    const text = summary('https://e.workers.dev', next, false, ['PREVIOUS_SECRET_KEY'])
    expect(text).toContain('Rotation window open')
    expect(text).toContain('npx wrangler secret delete PREVIOUS_SECRET_KEY -c wrangler.deploy.json')
  })

  it('should stop a --rotate-keys dry run whose old value the worker would ignore, with the reason', () => {
    const run = spawnSync(process.execPath, ['scripts/deploy.ts', '--dry-run', '--rotate-keys'], {
      cwd: PACKAGE_DIR,
      encoding: 'utf8',
      env: { ...process.env, ...OFFLINE, EDGEREC_PREVIOUS_SECRET_KEY: 'sk_short' },
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('edgerec deploy: EDGEREC_PREVIOUS_SECRET_KEY is shorter than 16 characters')
    expect(run.stdout).not.toContain('Dry run done')
  })
})

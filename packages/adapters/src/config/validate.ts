import { AdapterError } from '../errors.js'
import type { ComputeConfig, PublishConfig, SparkComputeConfig, StorageConfig } from './types.js'

interface FieldSpec {
  /** `record`: an object of string values; `storage`: a nested storage config. */
  type: 'string' | 'number' | 'boolean' | 'string[]' | 'record' | 'storage'
  required?: boolean
  /** Checked on strings. */
  pattern?: RegExp
  /** Says what the pattern wants, e.g. "an s3:// URI". */
  expected?: string
  /** Positive integer (numbers). */
  positiveInteger?: boolean
}

type ProviderSpecs = Record<string, Record<string, FieldSpec>>

const url: FieldSpec = { type: 'string', pattern: /^https?:\/\/[^\s]+$/, expected: 'an http(s) URL' }
const prefix: FieldSpec = {
  type: 'string',
  pattern: /^[^/].*$|^$/,
  expected: 'a key prefix not starting with /',
}
const envName: FieldSpec = {
  type: 'string',
  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  expected: 'the NAME of an environment variable (not its value)',
}
const keep: FieldSpec = { type: 'number', positiveInteger: true }
const memoryBudgetMiB: FieldSpec = { type: 'number', positiveInteger: true }
const userCacheMiB: FieldSpec = { type: 'number', positiveInteger: true }
const partitionCacheMiB: FieldSpec = { type: 'number', positiveInteger: true }

const STORAGE_SPECS: ProviderSpecs = {
  local: { root: { type: 'string', required: true } },
  s3: {
    bucket: {
      type: 'string',
      required: true,
      pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      expected: 'an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
    },
    region: { type: 'string' },
    prefix,
    endpoint: url,
    forcePathStyle: { type: 'boolean' },
  },
  r2: {
    accountId: {
      type: 'string',
      required: true,
      pattern: /^[0-9a-f]{32}$/,
      expected: 'a 32-hex Cloudflare account id',
    },
    bucket: { type: 'string', required: true },
    prefix,
    endpoint: url,
  },
  gcs: {
    bucket: { type: 'string', required: true },
    projectId: { type: 'string' },
    prefix,
    apiEndpoint: url,
  },
  'azure-blob': {
    container: {
      type: 'string',
      required: true,
      pattern: /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/,
      expected: 'an Azure container name (3-63 lowercase letters, digits, hyphens)',
    },
    accountUrl: url,
    connectionStringEnv: envName,
    prefix,
  },
  kv: {
    accountId: {
      type: 'string',
      required: true,
      pattern: /^[0-9a-f]{32}$/,
      expected: 'a 32-hex Cloudflare account id',
    },
    namespaceId: { type: 'string', required: true },
    apiTokenEnv: envName,
    apiBase: url,
  },
}

const roleArn: FieldSpec = {
  type: 'string',
  required: true,
  pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
  expected: 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
}

/** Fields of `compute: { provider: 'spark' }` shared by every platform. */
const SPARK_COMMON: Record<string, FieldSpec> = {
  platform: { type: 'string', required: true },
  staging: { type: 'storage' },
  entryPointUri: {
    type: 'string',
    pattern: /^(s3|gs|abfss|dbfs|file):\/\/?\S+\.py$|^\/Workspace\/\S+\.py$/,
    expected: 'a URI of a .py file (s3://, gs://, abfss://, dbfs:/ or /Workspace/…)',
  },
  sparkConf: { type: 'record' },
  partRows: { type: 'number', positiveInteger: true },
}

const COMPUTE_SPECS: ProviderSpecs = {
  local: { command: { type: 'string[]' }, cwd: { type: 'string' } },
  sagemaker: {
    region: { type: 'string' },
    schedulerRoleArn: {
      type: 'string',
      pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
      expected: 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    roleArn: {
      type: 'string',
      required: true,
      pattern: /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
      expected: 'an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    },
    image: { type: 'string', required: true },
    instanceType: {
      type: 'string',
      pattern: /^ml\./,
      expected: 'a SageMaker instance type such as ml.m5.xlarge',
    },
    outputS3Uri: {
      type: 'string',
      required: true,
      pattern: /^s3:\/\/[^/]+/,
      expected: 'an s3://bucket/prefix URI',
    },
  },
  spark: SPARK_COMMON,
  'vertex-ai': {
    projectId: { type: 'string', required: true },
    location: {
      type: 'string',
      required: true,
      pattern: /^[a-z]+-[a-z]+\d+$/,
      expected: 'a region such as us-central1',
    },
    image: { type: 'string', required: true },
    machineType: { type: 'string' },
    serviceAccount: { type: 'string' },
    baseOutputUri: { type: 'string', pattern: /^gs:\/\/[^/]+/, expected: 'a gs://bucket/prefix URI' },
    apiEndpoint: { type: 'string' },
    schedulerServiceAccount: {
      type: 'string',
      pattern: /^[^@\s]+@[^@\s]+\.iam\.gserviceaccount\.com$/,
      expected: 'a service account email (<name>@<project>.iam.gserviceaccount.com)',
    },
    schedulerLocation: {
      type: 'string',
      pattern: /^[a-z]+-[a-z]+\d+$/,
      expected: 'a region such as us-central1',
    },
  },
  'azure-ml': {
    subscriptionId: {
      type: 'string',
      required: true,
      pattern: /^[0-9a-fA-F-]{36}$/,
      expected: 'a subscription GUID',
    },
    resourceGroup: { type: 'string', required: true },
    workspace: { type: 'string', required: true },
    computeName: { type: 'string', required: true },
    environmentId: { type: 'string', required: true },
    instanceType: { type: 'string' },
    experimentName: { type: 'string' },
    endpoint: url,
  },
}

/** `compute: { provider: 'spark', platform }`: the fields of each platform. */
const SPARK_SPECS: ProviderSpecs = {
  'emr-serverless': {
    ...SPARK_COMMON,
    region: { type: 'string' },
    applicationId: {
      type: 'string',
      required: true,
      pattern: /^[0-9a-z]{16}$/,
      expected: 'an EMR Serverless application id (16 lowercase letters and digits)',
    },
    executionRoleArn: roleArn,
    logUri: { type: 'string', pattern: /^s3:\/\/[^/]+/, expected: 'an s3://bucket/prefix URI' },
  },
  dataproc: {
    ...SPARK_COMMON,
    projectId: { type: 'string', required: true },
    region: {
      type: 'string',
      required: true,
      pattern: /^[a-z]+-[a-z]+\d+$/,
      expected: 'a region such as europe-west1',
    },
    serviceAccount: {
      type: 'string',
      pattern: /^[^@\s]+@[^@\s]+$/,
      expected: 'a service account e-mail',
    },
    runtimeVersion: { type: 'string' },
    subnetworkUri: { type: 'string' },
    apiEndpoint: { type: 'string' },
  },
  databricks: {
    ...SPARK_COMMON,
    host: {
      type: 'string',
      required: true,
      pattern: /^https:\/\/[^\s/]+\/?$/,
      expected: 'an https:// workspace URL',
    },
    tokenEnv: envName,
    existingClusterId: { type: 'string' },
    sparkVersion: { type: 'string' },
    nodeTypeId: { type: 'string' },
    numWorkers: { type: 'number' },
    instanceProfileArn: {
      type: 'string',
      pattern: /^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/,
      expected: 'an instance profile ARN',
    },
  },
}

/**
 * Storage providers each Spark platform's job can read and write its staging files on: `s3` for
 * EMR Serverless, `gcs` for Dataproc, any of `s3`, `gcs`, `azure-blob` for Databricks.
 */
export const SPARK_STAGING: Readonly<Record<SparkComputeConfig['platform'], readonly string[]>> = {
  'emr-serverless': ['s3'],
  dataproc: ['gcs'],
  databricks: ['s3', 'gcs', 'azure-blob'],
}

/**
 * Bounds of `compute.partRows` (rows per staged Parquet part file) for Spark: below 100 is most
 * likely a unit slip (`partRows: 1` meant as "1 million") and would stage a file per handful of
 * pairs; above 50,000,000 one part's encoding (about 13 bytes a row, in memory on the staging
 * machine) passes 600 MiB.
 */
export const SPARK_PART_ROWS = { min: 100, max: 50_000_000 } as const

/**
 * The problems of a Spark compute config beyond its fields: the platform, the staging storage the
 * job can reach, a Databricks cluster.
 */
function sparkProblems(config: Record<string, unknown>): {
  fields?: Record<string, FieldSpec>
  problems: string[]
} {
  const platform = config.platform
  if (typeof platform !== 'string' || !(platform in SPARK_SPECS)) {
    return {
      problems: [
        `compute.platform must be one of ${Object.keys(SPARK_SPECS)
          .map((p) => `'${p}'`)
          .join(', ')} for provider 'spark'; got ${JSON.stringify(platform)}.`,
      ],
    }
  }
  const problems: string[] = []
  const staging = config.staging as { provider?: unknown } | undefined
  if (staging && typeof staging === 'object' && typeof staging.provider === 'string') {
    const allowed = SPARK_STAGING[platform as SparkComputeConfig['platform']]
    if (!allowed.includes(staging.provider))
      problems.push(
        `compute.staging.provider must be ${allowed.map((p) => `'${p}'`).join(' or ')} for Spark on ${platform} (the job reads its inputs there); got '${staging.provider}'.`,
      )
    if (staging.provider === 'azure-blob' && !(staging as { accountUrl?: unknown }).accountUrl)
      problems.push(
        'compute.staging.accountUrl is required for an azure-blob staging container: the Databricks job reads it as abfss://<container>@<account>.dfs.core.windows.net.',
      )
  }
  const partRows = config.partRows
  if (
    typeof partRows === 'number' &&
    Number.isInteger(partRows) &&
    (partRows < SPARK_PART_ROWS.min || partRows > SPARK_PART_ROWS.max)
  )
    problems.push(
      `compute.partRows must be between ${SPARK_PART_ROWS.min.toLocaleString('en-US')} and ${SPARK_PART_ROWS.max.toLocaleString('en-US')} rows per staged Parquet part file; got ${partRows}. ` +
        'Leave it out for the default 1,000,000.',
    )
  if (platform === 'databricks' && config.existingClusterId === undefined && config.nodeTypeId === undefined)
    problems.push(
      "compute.nodeTypeId (e.g. 'i3.xlarge') or compute.existingClusterId is required for Spark on databricks.",
    )
  if (
    platform === 'databricks' &&
    config.numWorkers !== undefined &&
    (!Number.isInteger(config.numWorkers) || (config.numWorkers as number) < 0)
  )
    problems.push(`compute.numWorkers must be a whole number ≥ 0; got ${JSON.stringify(config.numWorkers)}.`)
  return { fields: SPARK_SPECS[platform]!, problems }
}

const PUBLISH_SPECS: ProviderSpecs = {
  local: {
    workerConfig: { type: 'string' },
    persistTo: { type: 'string' },
    keep,
    memoryBudgetMiB,
    userCacheMiB,
    partitionCacheMiB,
  },
  cloudflare: {
    accountId: {
      type: 'string',
      required: true,
      pattern: /^[0-9a-f]{32}$/,
      expected: 'a 32-hex Cloudflare account id',
    },
    r2Bucket: { type: 'string', required: true },
    kvNamespaceId: { type: 'string', required: true },
    apiTokenEnv: envName,
    r2Endpoint: url,
    kvApiBase: url,
    keep,
    memoryBudgetMiB,
    userCacheMiB,
    partitionCacheMiB,
  },
}

const SECRET_LIKE = /secret|token|password|passwd|credential|accesskey|apikey|privatekey|connectionstring$/i

function typeOk(value: unknown, spec: FieldSpec): boolean {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' && value.length > 0
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'string[]':
      return (
        Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0)
      )
    case 'record':
      return (
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === 'string')
      )
    case 'storage':
      return value !== null && typeof value === 'object' && !Array.isArray(value)
  }
}

const describeType = (spec: FieldSpec): string =>
  spec.type === 'string[]'
    ? 'a non-empty array of strings'
    : spec.type === 'record'
      ? 'an object of string values'
      : spec.type === 'storage'
        ? "a storage config like { provider: 's3', bucket }"
        : spec.type === 'string'
          ? 'a non-empty string'
          : `a ${spec.type}`

/**
 * Problems of one provider config, each naming the field and the provider, e.g.
 * `storage.bucket is required for provider 's3'.` Empty when the config is valid.
 */
export function providerConfigProblems(role: 'storage' | 'compute' | 'publish', input: unknown): string[] {
  const specs = role === 'storage' ? STORAGE_SPECS : role === 'compute' ? COMPUTE_SPECS : PUBLISH_SPECS
  const providers = Object.keys(specs)
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return [
      `${role} must be an object like { provider: '${providers[0]}', … } (providers: ${providers.join(', ')}).`,
    ]
  }
  const config = input as Record<string, unknown>
  const provider = config.provider
  if (typeof provider !== 'string' || !(provider in specs)) {
    return [
      `${role}.provider must be one of ${providers.map((p) => `'${p}'`).join(', ')}; got ${JSON.stringify(provider)}.`,
    ]
  }
  let fields = specs[provider]!
  const problems: string[] = []
  if (role === 'compute' && provider === 'spark') {
    const spark = sparkProblems(config)
    problems.push(...spark.problems)
    if (!spark.fields) return problems
    fields = spark.fields
  }
  for (const [name, spec] of Object.entries(fields)) {
    const value = config[name]
    if (value === undefined) {
      if (spec.required) problems.push(`${role}.${name} is required for provider '${provider}'.`)
      continue
    }
    if (!typeOk(value, spec)) {
      problems.push(
        `${role}.${name} must be ${describeType(spec)} for provider '${provider}'; got ${JSON.stringify(value)}.`,
      )
      continue
    }
    if (spec.pattern && typeof value === 'string' && !spec.pattern.test(value)) {
      problems.push(
        `${role}.${name} must be ${spec.expected} for provider '${provider}'; got ${JSON.stringify(value)}.`,
      )
    }
    if (spec.positiveInteger && (!Number.isInteger(value) || (value as number) < 1)) {
      problems.push(`${role}.${name} must be a positive integer for provider '${provider}'; got ${value}.`)
    }
    if (spec.type === 'storage') {
      for (const problem of providerConfigProblems('storage', value))
        problems.push(
          problem.replace(/^storage\./, `${role}.${name}.`).replace(/^storage /, `${role}.${name} `),
        )
    }
  }
  for (const name of Object.keys(config)) {
    if (name === 'provider' || name in fields) continue
    if (SECRET_LIKE.test(name)) {
      problems.push(
        `${role}.${name} looks like a secret: secrets never go in edgerec.config.ts. ` +
          `Provider '${provider}' reads credentials from its standard chain (or an env var named by a *Env field).`,
      )
    } else {
      problems.push(
        `${role}.${name} is not a field of provider '${provider}' (known: ${Object.keys(fields).join(', ')}).`,
      )
    }
  }
  return problems
}

function check<T>(role: 'storage' | 'compute' | 'publish', input: unknown): T {
  const problems = providerConfigProblems(role, input)
  if (problems.length > 0) {
    throw new AdapterError(
      'CONFIG_INVALID',
      `Invalid ${role} config: ${problems.join(' ')} Fix edgerec.config.ts (see docs/cloud.md for every provider's fields).`,
    )
  }
  return input as T
}

/** Validates a `storage` config; throws a `CONFIG_INVALID` AdapterError listing every problem. */
export function validateStorageConfig(input: unknown): StorageConfig {
  return check<StorageConfig>('storage', input)
}

/** Validates a `compute` config; throws a `CONFIG_INVALID` AdapterError listing every problem. */
export function validateComputeConfig(input: unknown): ComputeConfig {
  return check<ComputeConfig>('compute', input)
}

/** Validates a `publish` config; throws a `CONFIG_INVALID` AdapterError listing every problem. */
export function validatePublishConfig(input: unknown): PublishConfig {
  return check<PublishConfig>('publish', input)
}

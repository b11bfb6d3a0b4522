/**
 * `edgerec-train train` with `compute: { provider: 'spark', platform: 'emr-serverless' }`, through the
 * CLI entry, against aws-sdk-client-mock (AWS's recommended mock of SDK v3 clients) for EMR
 * Serverless and a real S3 server (s3rver) for the events, the staging prefix and the model
 * registry. No Spark runs here: the mocked StartJobRun "runs the job" with `runSparkJobHere`, which
 * trains on the Parquet the trainer uploaded and saves factors in Spark's `ALSModel.save()` schema
 * to the job's output prefix; the read-back, evaluation, int8 export, gate and publish are real.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  EMRServerlessClient,
  GetJobRunCommand,
  type GetJobRunCommandOutput,
  StartJobRunCommand,
  type StartJobRunCommandInput,
} from '@aws-sdk/client-emr-serverless'
import { createPublisher, createStorage, listAll, listCompleteVersions } from '@edgerec/adapters'
import { type ModelManifest, manifestKey } from '@edgerec/core'
import { mockClient } from 'aws-sdk-client-mock'
import { parquetReadObjects } from 'hyparquet'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type JobWorld, startJobWorld } from '../cloud/harness.test-helpers.js'
import { parseWithJobScript, runSparkJobHere, sparkJobArgs } from './spark.test-helpers.js'
import { SPARK_JOB_FILE } from './train-on-spark.js'

const compute = {
  provider: 'spark',
  platform: 'emr-serverless',
  region: 'eu-west-1',
  applicationId: '00fabc1234567890',
  executionRoleArn: 'arn:aws:iam::123456789012:role/edgerec-spark',
  sparkConf: { 'spark.executor.memory': '4g' },
}

const jobRun = (state: string, stateDetails = ''): GetJobRunCommandOutput => ({
  jobRun: {
    applicationId: compute.applicationId,
    jobRunId: '00fjobrun0001',
    arn: 'arn',
    createdBy: 'me',
    createdAt: new Date(),
    updatedAt: new Date(),
    executionRole: compute.executionRoleArn,
    state: state as never,
    stateDetails,
    releaseLabel: 'emr-7.5.0',
    jobDriver: { sparkSubmit: { entryPoint: 's3://x' } },
  },
  $metadata: {},
})

describe('edgerec-train train on Spark (EMR Serverless)', () => {
  const emr = mockClient(EMRServerlessClient)
  let world: JobWorld
  beforeAll(async () => {
    world = await startJobWorld()
  })
  afterAll(async () => {
    emr.restore()
    await world.stop()
  })
  beforeEach(() => emr.reset())

  /** StartJobRun "runs the job": Spark's part, against the staging bucket. */
  const runJobOnStart = () =>
    emr.on(StartJobRunCommand).callsFake(async (input: StartJobRunCommandInput) => {
      await runSparkJobHere(world.registry, input.jobDriver?.sparkSubmit?.entryPointArguments ?? [])
      return { applicationId: input.applicationId, jobRunId: '00fjobrun0001', arn: 'arn' }
    })

  it('should write Parquet inputs, submit the PySpark job, read its factors back, evaluate, gate and publish', async () => {
    runJobOnStart()
    emr
      .on(GetJobRunCommand)
      .resolvesOnce(jobRun('SUBMITTED'))
      .resolvesOnce(jobRun('RUNNING'))
      .resolves(jobRun('SUCCESS'))
    const publish = {
      provider: 'local' as const,
      workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
      persistTo: join(world.dir, 'state'),
    }
    const config = await world.writeConfig({
      compute,
      publish,
      evaluation: { split: 'random', k: 5 },
    })
    const run = await world.cli(['train', '--config', config, '--json', '--publish', '--force'])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)

    const calls = emr.commandCalls(StartJobRunCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]!.args[0].input
    const name = input.name!
    expect(name).toMatch(/^edgerec-spark-\d{14}-[0-9a-f]{4}$/)
    const stagingRun = /--output s3:\/\/models\/(spark\/edgerec-spark-\d{14}-[0-9a-f]{4})\/output/.exec(
      input.jobDriver?.sparkSubmit?.entryPointArguments?.join(' ') ?? '',
    )?.[1]
    expect(stagingRun).toBeDefined()
    const prefix = `s3://models/${stagingRun}/`
    expect(input).toEqual({
      applicationId: compute.applicationId,
      clientToken: name,
      executionRoleArn: compute.executionRoleArn,
      name,
      jobDriver: {
        sparkSubmit: {
          entryPoint: `${prefix}edgerec_als.py`,
          entryPointArguments: sparkJobArgs(prefix, { rank: 4, maxIter: 2 }),
          sparkSubmitParameters: '--conf spark.executor.memory=4g',
        },
      },
      executionTimeoutMinutes: 240,
      tags: { edgerec: 'train' },
    })
    // The job script itself (python3, its own argparse) accepts exactly these arguments.
    const args = input.jobDriver?.sparkSubmit?.entryPointArguments ?? []
    expect(await parseWithJobScript(args)).toEqual({
      interactions: `${prefix}input/interactions`,
      train: `${prefix}input/train`,
      output: `${prefix}output`,
      rank: 4,
      reg_param: Number(args[args.indexOf('--reg-param') + 1]),
      alpha: Number(args[args.indexOf('--alpha') + 1]),
      max_iter: 2,
      seed: Number(args[args.indexOf('--seed') + 1]),
      checkpoint_dir: null,
    })
    for (const call of emr.commandCalls(GetJobRunCommand))
      expect(call.args[0].input).toEqual({ applicationId: compute.applicationId, jobRunId: '00fjobrun0001' })

    // The inputs and the shipped script are in the staging bucket.
    const staging = await createStorage(world.registry)
    const key = (suffix: string) => `${stagingRun}/${suffix}`
    expect(new TextDecoder().decode(await staging.get(key('edgerec_als.py')))).toBe(
      await readFile(SPARK_JOB_FILE, 'utf8'),
    )
    const interactions = await parquetReadObjects({
      file: (await staging.get(key('input/interactions/part-00000.parquet')))!.slice().buffer as ArrayBuffer,
    })
    expect(Object.keys(interactions[0]!).sort()).toEqual(['item', 'rating', 'user'])
    const users = JSON.parse(new TextDecoder().decode(await staging.get(key('input/users.json')))) as string[]
    const items = JSON.parse(new TextDecoder().decode(await staging.get(key('input/items.json')))) as string[]
    expect(Math.max(...interactions.map((r) => Number(r.user)))).toBeLessThan(users.length)
    expect(Math.max(...interactions.map((r) => Number(r.item)))).toBeLessThan(items.length)
    expect((await listAll(staging, key('output/all/itemFactors/'))).length).toBeGreaterThanOrEqual(2)

    const result = JSON.parse(run.out) as {
      version: string
      manifest: ModelManifest
      spark: { job: { provider: string; id: string }; url: string; staging: string }
      published: { pointer: { version: string } }
    }
    expect(result.spark.job).toMatchObject({ provider: 'emr-serverless', id: '00fjobrun0001' })
    expect(result.spark.staging).toBe(prefix)
    expect(result.spark.url).toBe(
      `https://eu-west-1.console.aws.amazon.com/emr/home?region=eu-west-1#/serverless-applications/${compute.applicationId}/job-runs/00fjobrun0001`,
    )
    expect(run.err).toContain(`Job 00fjobrun0001 submitted. Console: ${result.spark.url}`)
    expect(run.err).toMatch(/pending \(SUBMITTED\)\n/)
    expect(run.err).toMatch(/running \(RUNNING\)\n/)
    expect(run.err).toMatch(/succeeded \(SUCCESS\)\n/)
    expect(run.err).toMatch(/ndcg@5: ALS \d\.\d{4}, ALS int8 \d\.\d{4}, popularity \d\.\d{4}/)
    expect(run.err).not.toContain('Training on all')

    // The same manifest as a local run: int8 shards, evaluation, gate verdict.
    const manifest = result.manifest
    expect(manifest.dims).toBe(4)
    expect(manifest.counts.users).toBe(users.length)
    expect(manifest.counts.items).toBe(items.length)
    expect(manifest.evaluation?.k).toBe(5)
    expect(manifest.gate).toBeDefined()
    expect(await staging.get(manifestKey(result.version))).toBeDefined()
    expect(result.published.pointer.version).toBe(result.version)
    const publisher = await createPublisher(publish)
    try {
      expect((await publisher.live())?.version).toBe(result.version)
    } finally {
      await publisher.close()
    }
  })

  it('should fail with JOB_FAILED, write no version and publish nothing when the job failed', async () => {
    emr
      .on(StartJobRunCommand)
      .resolves({ applicationId: compute.applicationId, jobRunId: '00fjobrun0001', arn: 'a' })
    emr
      .on(GetJobRunCommand)
      .resolvesOnce(jobRun('RUNNING'))
      .resolves(jobRun('FAILED', 'Job failed, please check complete logs. ExitCode: 1.'))
    const registry = await createStorage(world.registry)
    const before = (await listCompleteVersions(registry)).length
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error JOB_FAILED: emr-serverless job 00fjobrun0001 failed \(FAILED\): Job failed/,
    )
    expect(run.err).not.toContain('Publishing')
    expect(run.out).toBe('')
    expect((await listCompleteVersions(registry)).length).toBe(before)
  })

  it('should fail with JOB_FAILED when the job was cancelled', async () => {
    emr
      .on(StartJobRunCommand)
      .resolves({ applicationId: compute.applicationId, jobRunId: '00fjobrun0001', arn: 'a' })
    emr
      .on(GetJobRunCommand)
      .resolvesOnce(jobRun('CANCELLING'))
      .resolves(jobRun('CANCELLED', 'Cancelled by user'))
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/cancelling \(CANCELLING\)/)
    expect(run.err).toMatch(/error JOB_FAILED: emr-serverless job 00fjobrun0001 was cancelled/)
    expect(run.err).not.toContain('Publishing')
  })

  it('should say the credentials expired when AWS refuses the token, and poll nothing', async () => {
    emr.on(StartJobRunCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error AUTH: .*expired.*Refresh the AWS credentials/)
    expect(emr.commandCalls(GetJobRunCommand)).toHaveLength(0)
  })

  it('should refuse a staging storage on this machine before reading anything', async () => {
    const config = await world.writeConfig({ compute, storage: { provider: 'local', root: 'registry' } })
    const run = await world.cli(['train', '--config', config])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error CONFIG_INVALID: compute 'spark' \(emr-serverless\) trains in a Spark job/)
    expect(emr.calls()).toHaveLength(0)
  })

  it('should refuse a compute.partRows out of bounds before reading anything', async () => {
    const config = await world.writeConfig({ compute: { ...compute, partRows: 1 } })
    const run = await world.cli(['train', '--config', config])
    expect(run.code).toBe(1)
    expect(run.err).toContain(
      'CONFIG_INVALID: Invalid compute config: compute.partRows must be between 100 and 50,000,000 rows per staged Parquet part file; got 1.',
    )
    expect(run.err).not.toContain('Writing')
    expect(emr.calls()).toHaveLength(0)
  })

  it('should refuse tuning with a Spark compute', async () => {
    const config = await world.writeConfig({ compute, tuning: { enabled: true } })
    const run = await world.cli(['train', '--config', config])
    expect(run.code).toBe(1)
    expect(run.err).toContain('Tuning runs its trials on this machine')
    expect(emr.calls()).toHaveLength(0)
  })

  it('should train on this machine with --local and call no EMR API', async () => {
    const config = await world.writeConfig({ compute, evaluation: { enabled: false } })
    const run = await world.cli(['train', '--config', config, '--local'])
    expect(run.code).toBe(0)
    expect(run.err).toContain(
      "--local: training on this machine; the config's compute 'spark' (emr-serverless) is not used.",
    )
    expect(emr.calls()).toHaveLength(0)
  })
})

describe('edgerec_als.py', () => {
  it('should be valid Python (python3 -m py_compile; no Spark runs here)', async () => {
    const file = fileURLToPath(SPARK_JOB_FILE)
    // The bytecode goes to a temporary cache, not next to the packaged file.
    const cache = await mkdtemp(join(tmpdir(), 'edgerec-pycache-'))
    try {
      const { stderr } = await promisify(execFile)('python3', ['-m', 'py_compile', file], {
        env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
      })
      expect(stderr).toBe('')
    } finally {
      await rm(cache, { recursive: true, force: true })
    }
    const source = await readFile(file, 'utf8')
    expect(source).toContain('implicitPrefs=True')
    // Each input is a directory of part files read as one table; the saves are Spark's own
    // ALSModel layout (userFactors / itemFactors: id int, features array<float>).
    expect(source).toContain('spark.read.parquet(uri).select("user", "item", "rating")')
    expect(source).toContain('model.write().overwrite().save(output)')
  })
})

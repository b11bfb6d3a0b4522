/**
 * `edgerec-train train` with `compute: { provider: 'sagemaker' }`, through the CLI entry, against
 * aws-sdk-client-mock (AWS's recommended mock of SDK v3 clients): only an AWS account can run a
 * training job. The mocked CreateTrainingJob runs the image's real entrypoint script locally with
 * the request's arguments and environment, so the job trains for real against s3rver and the CLI
 * then reads the version it wrote.
 */

import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CreateTrainingJobCommand,
  type CreateTrainingJobCommandInput,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker'
import { createPublisher, createStorage, listCompleteVersions } from '@edgerec/adapters'
import { manifestKey } from '@edgerec/core'
import { mockClient } from 'aws-sdk-client-mock'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type CliRun, type JobWorld, startJobWorld } from './harness.test-helpers.js'

const compute = {
  provider: 'sagemaker',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::123456789012:role/edgerec-training',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/edgerec-trainer:1',
  instanceType: 'ml.c5.2xlarge',
  outputS3Uri: 's3://models/sagemaker/',
}

const describeResponse = (
  fields: Partial<DescribeTrainingJobCommandOutput>,
): DescribeTrainingJobCommandOutput => ({
  TrainingJobName: 'job',
  TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/job',
  AlgorithmSpecification: { TrainingInputMode: 'File' },
  ResourceConfig: { InstanceType: 'ml.c5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
  StoppingCondition: { MaxRuntimeInSeconds: 14_400 },
  CreationTime: new Date(),
  ModelArtifacts: { S3ModelArtifacts: 's3://models/sagemaker/job/output/model.tar.gz' },
  TrainingJobStatus: 'InProgress',
  SecondaryStatus: 'Starting',
  $metadata: {},
  ...fields,
})

describe('edgerec-train train on SageMaker', () => {
  const sagemaker = mockClient(SageMakerClient)
  let world: JobWorld
  let job: CliRun | undefined
  beforeAll(async () => {
    world = await startJobWorld()
  })
  afterAll(async () => {
    sagemaker.restore()
    await world.stop()
  })
  beforeEach(() => {
    sagemaker.reset()
    job = undefined
  })

  /** CreateTrainingJob "runs the job": the image's entrypoint with the request's arguments and environment. */
  const runJobOnCreate = () =>
    sagemaker.on(CreateTrainingJobCommand).callsFake(async (input: CreateTrainingJobCommandInput) => {
      job = await world.entrypoint(
        input.AlgorithmSpecification?.ContainerArguments ?? [],
        input.Environment ?? {},
      )
      return {
        TrainingJobArn: `arn:aws:sagemaker:eu-west-1:123456789012:training-job/${input.TrainingJobName}`,
      }
    })

  it('should submit one training job with the full request, follow it and report the version it wrote', async () => {
    runJobOnCreate()
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(describeResponse({ SecondaryStatus: 'Starting' }))
      .resolvesOnce(describeResponse({ SecondaryStatus: 'Training' }))
      .resolves(describeResponse({ TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' }))
    const publish = {
      provider: 'local' as const,
      workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
      persistTo: join(world.dir, 'state'),
    }
    const config = await world.writeConfig({ compute, publish, evaluation: { split: 'random', k: 5 } })
    const run = await world.cli(['train', '--config', config, '--json', '--publish'])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)
    expect(job?.code).toBe(0)

    const calls = sagemaker.commandCalls(CreateTrainingJobCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]!.args[0].input
    expect(input.TrainingJobName).toMatch(/^edgerec-train-\d{14}-[0-9a-f]{4}$/)
    expect(input).toEqual({
      TrainingJobName: input.TrainingJobName,
      RoleArn: compute.roleArn,
      AlgorithmSpecification: {
        TrainingImage: compute.image,
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['/usr/local/bin/edgerec-entrypoint'],
        ContainerArguments: ['train'],
      },
      ResourceConfig: { InstanceType: 'ml.c5.2xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      OutputDataConfig: { S3OutputPath: compute.outputS3Uri },
      StoppingCondition: { MaxRuntimeInSeconds: 14_400 },
      Environment: {
        // The config minus compute (the job trains where it runs), storage and publish.
        EDGEREC_CONFIG_JSON: JSON.stringify({
          events: { kind: 'ndjson', path: 'events.ndjson', storage: world.events },
          als: { factors: 4, iterations: 2, threads: 1 },
          evaluation: { split: 'random', k: 5 },
        }),
        EDGEREC_OUTPUT: JSON.stringify(world.registry),
      },
      Tags: [{ Key: 'edgerec', Value: 'train' }],
    })
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand).length).toBeGreaterThanOrEqual(3)
    for (const call of sagemaker.commandCalls(DescribeTrainingJobCommand))
      expect(call.args[0].input).toEqual({ TrainingJobName: input.TrainingJobName })

    const result = JSON.parse(run.out) as {
      job: { provider: string; id: string }
      url: string
      version: string
      manifest: { version: string; evaluation: { k: number } }
      published: { pointer: { version: string } }
    }
    expect(result.job).toMatchObject({ provider: 'sagemaker', id: input.TrainingJobName })
    expect(result.url).toBe(
      `https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/${input.TrainingJobName}`,
    )
    expect(result.manifest.version).toBe(result.version)
    expect(result.manifest.evaluation.k).toBe(5)
    const registry = await createStorage(world.registry)
    expect(await registry.get(manifestKey(result.version))).not.toBeNull()
    expect(run.err).toContain(`Job ${input.TrainingJobName} submitted. Console: ${result.url}`)
    expect(run.err).toMatch(/pending \(InProgress\): Starting\n/)
    expect(run.err).toMatch(/running \(InProgress\): Training\n/)
    expect(run.err).toMatch(/succeeded \(Completed\): Completed\n/)
    expect(run.err).toContain(`wrote model version ${result.version} to s3:models`)
    expect(run.err).toMatch(/ndcg@5: ALS \d\.\d{4}, ALS int8 \d\.\d{4}, popularity \d\.\d{4}/)
    // Published from this machine after the job succeeded: the live pointer names the job's version.
    expect(result.published.pointer.version).toBe(result.version)
    const publisher = await createPublisher(publish)
    try {
      expect((await publisher.live())?.version).toBe(result.version)
    } finally {
      await publisher.close()
    }
  })

  it('should have the job compare with the live version, read from the registry by id', async () => {
    // The previous test published a version: it is live on the local publish target.
    const publish = {
      provider: 'local' as const,
      workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
      persistTo: join(world.dir, 'state'),
    }
    const publisher = await createPublisher(publish)
    const live = (await publisher.live())?.version
    await publisher.close()
    expect(live).toBeDefined()
    runJobOnCreate()
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolves(describeResponse({ TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' }))
    const config = await world.writeConfig({ compute, publish, evaluation: { split: 'random', k: 5 } })
    const run = await world.cli(['train', '--config', config, '--json', '--publish'])
    const input = sagemaker.commandCalls(CreateTrainingJobCommand)[0]!.args[0].input
    expect(input.AlgorithmSpecification?.ContainerArguments).toEqual(['train', '--gate-live-version', live])
    expect(job?.err).toContain(`Quality gate: comparing with the live version ${live}`)
    const registry = await createStorage(world.registry)
    const versions = (await listCompleteVersions(registry)).map((v) => v.version)
    const manifest = JSON.parse(
      new TextDecoder().decode((await registry.get(manifestKey(versions.at(-1)!)))!),
    ) as { gate: { live?: { version: string } } }
    expect(manifest.gate.live?.version).toBe(live)
    expect(run.err).toMatch(/Quality gate (passed|failed) in the job/)
  })

  it('should report a version the quality gate rejected in the job, and publish nothing', async () => {
    runJobOnCreate()
    // SageMaker fails a job whose process exits non-zero; the trainer does when the gate rejects.
    sagemaker.on(DescribeTrainingJobCommand).callsFake(async () =>
      describeResponse({
        TrainingJobStatus: 'Failed',
        SecondaryStatus: 'Failed',
        FailureReason: `AlgorithmError: ${job?.err.trim().split('\n').at(-1) ?? ''}, exit code: ${job?.code}`,
      }),
    )
    const config = await world.writeConfig({
      compute,
      evaluation: { split: 'random', k: 5 },
      gate: { minLiftOverPopularity: 1000 },
    })
    const run = await world.cli(['train', '--config', config, '--publish'])
    expect(job?.code).toBe(1)
    expect(job?.err).toContain('error GATE_FAILED')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error GATE_FAILED: sagemaker job edgerec-train-\S+ wrote version \S+, but the quality gate rejected it: .*was not published/,
    )
    expect(run.err).not.toContain('Publishing')
  })

  it('should fail with JOB_FAILED and publish nothing when the job failed', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn' })
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(describeResponse({ SecondaryStatus: 'Training' }))
      .resolves(
        describeResponse({
          TrainingJobStatus: 'Failed',
          SecondaryStatus: 'Failed',
          FailureReason: 'AlgorithmError: error NO_INTERACTIONS: no interactions left',
        }),
      )
    const config = await world.writeConfig({ compute })
    const run = await world.cli(['train', '--config', config, '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error JOB_FAILED: sagemaker job edgerec-train-\S+ failed \(Failed\): Failed: AlgorithmError: error NO_INTERACTIONS/,
    )
    expect(run.err).not.toContain('Publishing')
    expect(run.out).toBe('')
  })

  it('should fail with JOB_FAILED when the job was stopped', async () => {
    sagemaker.on(CreateTrainingJobCommand).resolves({ TrainingJobArn: 'arn' })
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(describeResponse({ TrainingJobStatus: 'Stopping', SecondaryStatus: 'Stopping' }))
      .resolves(describeResponse({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' }))
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/cancelling \(Stopping\)/)
    expect(run.err).toMatch(/error JOB_FAILED: sagemaker job \S+ was cancelled/)
    expect(run.err).not.toContain('Publishing')
  })

  it('should say the credentials expired when AWS refuses the token, before any job exists', async () => {
    sagemaker.on(CreateTrainingJobCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error AUTH: .*expired.*Refresh the AWS credentials/)
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)).toHaveLength(0)
  })

  it('should refuse events on this machine before submitting anything', async () => {
    const config = await world.writeConfig({ compute, events: { kind: 'ndjson', path: 'events.ndjson' } })
    const run = await world.cli(['train', '--config', config])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error CONFIG_INVALID: compute 'sagemaker' trains in the cloud, but events.path/)
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0)
  })

  it('should train on this machine with --local, say so, and call no SageMaker API', async () => {
    const config = await world.writeConfig({ compute, evaluation: { enabled: false } })
    const run = await world.cli(['train', '--config', config, '--local'])
    expect(run.code).toBe(0)
    expect(run.err).toContain(
      "--local: training on this machine; the config's compute 'sagemaker' is not used.",
    )
    expect(sagemaker.calls()).toHaveLength(0)
    const registry = await createStorage(world.registry)
    expect(await registry.get(manifestKey(run.out.trim()))).not.toBeNull()
  })
})

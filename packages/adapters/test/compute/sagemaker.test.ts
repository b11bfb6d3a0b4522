/**
 * SageMakerCompute against aws-sdk-client-mock, the AWS-endorsed mock of SDK v3 clients: only an AWS
 * account can run a training job, so these tests check the requests the adapter builds and how it
 * maps every job state and failure.
 */
import {
  CreateTrainingJobCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  ResourceLimitExceeded,
  SageMakerClient,
  StopTrainingJobCommand,
} from '@aws-sdk/client-sagemaker'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SageMakerCompute } from '../../src/aws/compute.js'
import { CONTAINER_ENTRYPOINT } from '../../src/compute/container.js'
import { AdapterError } from '../../src/errors.js'

const options = {
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::123456789012:role/edgerec-training',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/edgerec-trainer:1',
  outputS3Uri: 's3://my-models/sagemaker/',
}

const describeResponse = (
  fields: Partial<DescribeTrainingJobCommandOutput>,
): DescribeTrainingJobCommandOutput => ({
  TrainingJobName: 'job',
  TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:123456789012:training-job/job',
  AlgorithmSpecification: { TrainingInputMode: 'File' },
  ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
  StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  CreationTime: new Date(),
  ModelArtifacts: { S3ModelArtifacts: 's3://my-models/sagemaker/job/output/model.tar.gz' },
  TrainingJobStatus: 'InProgress',
  SecondaryStatus: 'Starting',
  $metadata: {},
  ...fields,
})

describe('SageMakerCompute', () => {
  const client = new SageMakerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' },
  })
  const sagemaker = mockClient(client)
  beforeEach(() => sagemaker.reset())
  afterEach(() => sagemaker.reset())

  it('should send a CreateTrainingJob request that runs the trainer image with the config and output', async () => {
    sagemaker
      .on(CreateTrainingJobCommand)
      .resolves({ TrainingJobArn: 'arn:aws:sagemaker:eu-west-1:1:training-job/x', $metadata: {} })
    const compute = new SageMakerCompute({ ...options, client })
    const handle = await compute.submit({
      name: 'nightly',
      config: { path: '/app/edgerec.config.ts' },
      args: ['--factors', '64'],
      env: { LOG_LEVEL: 'info' },
      machine: { instanceType: 'ml.c5.2xlarge', diskGb: 50 },
      maxRuntimeSeconds: 7200,
      output: { provider: 's3', bucket: 'my-models', region: 'eu-west-1' },
    })
    const calls = sagemaker.commandCalls(CreateTrainingJobCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]!.args[0].input
    expect(handle).toMatchObject({ provider: 'sagemaker', id: input.TrainingJobName })
    expect(input.TrainingJobName).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(input.RoleArn).toBe(options.roleArn)
    expect(input.AlgorithmSpecification).toEqual({
      TrainingImage: options.image,
      TrainingInputMode: 'File',
      ContainerEntrypoint: [CONTAINER_ENTRYPOINT],
      ContainerArguments: ['train', '--factors', '64'],
    })
    expect(input.ResourceConfig).toEqual({
      InstanceType: 'ml.c5.2xlarge',
      InstanceCount: 1,
      VolumeSizeInGB: 50,
    })
    expect(input.OutputDataConfig).toEqual({ S3OutputPath: 's3://my-models/sagemaker/' })
    expect(input.StoppingCondition).toEqual({ MaxRuntimeInSeconds: 7200 })
    expect(input.Environment).toEqual({
      LOG_LEVEL: 'info',
      EDGEREC_CONFIG: '/app/edgerec.config.ts',
      EDGEREC_OUTPUT: '{"provider":"s3","bucket":"my-models","region":"eu-west-1"}',
    })
  })

  it('should refuse an inline config longer than SageMaker allows in one environment value', async () => {
    const compute = new SageMakerCompute({ ...options, client })
    const inline = { notes: 'x'.repeat(600) }
    await expect(compute.submit({ config: { inline } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('EDGEREC_CONFIG_JSON'),
    })
    expect(sagemaker.commandCalls(CreateTrainingJobCommand)).toHaveLength(0)
  })

  it('should follow the job through its states and report them in order', async () => {
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(describeResponse({ SecondaryStatus: 'Starting' }))
      .resolvesOnce(
        describeResponse({
          SecondaryStatus: 'Training',
          SecondaryStatusTransitions: [
            {
              Status: 'Training',
              StartTime: new Date(),
              StatusMessage: 'Training image download completed.',
            },
          ],
        }),
      )
      .resolves(describeResponse({ TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed' }))
    const compute = new SageMakerCompute({ ...options, client })
    const handle = { provider: 'sagemaker', id: 'job', submittedAt: new Date().toISOString() }
    const seen: string[] = []
    const final = await compute.wait(handle, {
      pollIntervalMs: 1,
      onStatus: (s) => seen.push(`${s.state}/${s.message}`),
    })
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual([
      'pending/Starting',
      'running/Training: Training image download completed.',
      'succeeded/Completed',
    ])
    expect(sagemaker.commandCalls(DescribeTrainingJobCommand)[0]!.args[0].input).toEqual({
      TrainingJobName: 'job',
    })
  })

  it('should stream status transitions as log lines until the job ends', async () => {
    sagemaker
      .on(DescribeTrainingJobCommand)
      .resolvesOnce(describeResponse({ SecondaryStatus: 'Downloading' }))
      .resolves(describeResponse({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' }))
    const compute = new SageMakerCompute({ ...options, client })
    const handle = { provider: 'sagemaker', id: 'job', submittedAt: new Date().toISOString() }
    const lines: string[] = []
    // logs() polls every 15 s in production; the second poll is what ends this loop, so read one line
    // per call with follow: false to keep the test fast.
    for await (const line of compute.logs(handle, { follow: false })) lines.push(line.message)
    for await (const line of compute.logs(handle, { follow: false })) lines.push(line.message)
    expect(lines).toEqual(['InProgress: Downloading', 'Stopped: Stopped'])
  })

  it('should map a failed job to JOB_FAILED with the failure reason', async () => {
    sagemaker.on(DescribeTrainingJobCommand).resolves(
      describeResponse({
        TrainingJobStatus: 'Failed',
        SecondaryStatus: 'Failed',
        FailureReason: 'AlgorithmError: exit code 1',
      }),
    )
    const compute = new SageMakerCompute({ ...options, client })
    const handle = { provider: 'sagemaker', id: 'job', submittedAt: new Date().toISOString() }
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('AlgorithmError: exit code 1'),
    })
  })

  it('should map a job that failed for capacity to QUOTA_EXCEEDED', async () => {
    sagemaker.on(DescribeTrainingJobCommand).resolves(
      describeResponse({
        TrainingJobStatus: 'Failed',
        SecondaryStatus: 'Failed',
        FailureReason: 'CapacityError: Unable to provision requested ML compute capacity.',
      }),
    )
    const compute = new SageMakerCompute({ ...options, client })
    const handle = { provider: 'sagemaker', id: 'job', submittedAt: new Date().toISOString() }
    await expect(compute.wait(handle, { pollIntervalMs: 1 })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    })
  })

  it('should map ResourceLimitExceeded at submission to QUOTA_EXCEEDED', async () => {
    sagemaker.on(CreateTrainingJobCommand).rejects(
      new ResourceLimitExceeded({
        message: 'The account-level service limit ml.p3.2xlarge for training job usage is 0 Instances.',
        $metadata: { httpStatusCode: 400 },
      }),
    )
    const compute = new SageMakerCompute({ ...options, client })
    const error = await compute.submit({}).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('quota increase'),
    })
  })

  it('should stop a job with StopTrainingJob', async () => {
    sagemaker.on(StopTrainingJobCommand).resolves({ $metadata: {} })
    const compute = new SageMakerCompute({ ...options, client })
    await compute.cancel({ provider: 'sagemaker', id: 'job-1', submittedAt: new Date().toISOString() })
    expect(sagemaker.commandCalls(StopTrainingJobCommand)[0]!.args[0].input).toEqual({
      TrainingJobName: 'job-1',
    })
  })
})

describe('SageMakerCompute without credentials', () => {
  const saved = { ...process.env }
  beforeEach(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/edgerec/credentials'
    process.env.AWS_CONFIG_FILE = '/nonexistent/edgerec/config'
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
  })
  afterEach(() => {
    process.env = { ...saved }
  })

  it('should report CREDENTIALS_MISSING from the real AWS default credential chain', async () => {
    const compute = new SageMakerCompute(options)
    const error = await compute.submit({}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'CREDENTIALS_MISSING',
      message: expect.stringContaining('AWS_PROFILE'),
    })
  })
})

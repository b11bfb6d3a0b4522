/**
 * EmrServerlessCompute against aws-sdk-client-mock, the AWS-endorsed mock of SDK v3 clients: only an
 * AWS account can run a Spark job, so these tests check the StartJobRun request the adapter builds
 * and how it maps every job state and failure.
 */
import {
  CancelJobRunCommand,
  EMRServerlessClient,
  GetJobRunCommand,
  type GetJobRunCommandOutput,
  StartJobRunCommand,
} from '@aws-sdk/client-emr-serverless'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCompute } from '../../src/config/create-compute.js'
import { EmrServerlessCompute } from '../../src/emr-serverless/compute.js'
import { AdapterError } from '../../src/errors.js'

const options = {
  region: 'eu-west-1',
  applicationId: '00fabc1234567890',
  executionRoleArn: 'arn:aws:iam::123456789012:role/edgerec-spark',
  logUri: 's3://my-logs/emr/',
  sparkConf: { 'spark.executor.memory': '8g' },
}

const pyspark = {
  mainPythonFileUri: 's3://staging/spark/run-1/edgerec_als.py',
  args: ['--input', 's3://staging/spark/run-1/input', '--output', 's3://staging/spark/run-1/output'],
  sparkConf: { 'spark.executor.instances': '4' },
}

const jobRun = (state: string, stateDetails?: string): GetJobRunCommandOutput => ({
  jobRun: {
    applicationId: options.applicationId,
    jobRunId: '00fjobrun0001',
    arn: 'arn',
    createdBy: 'me',
    createdAt: new Date(),
    updatedAt: new Date(),
    executionRole: options.executionRoleArn,
    state: state as never,
    stateDetails: stateDetails ?? '',
    releaseLabel: 'emr-7.5.0',
    jobDriver: { sparkSubmit: { entryPoint: pyspark.mainPythonFileUri } },
  },
  $metadata: {},
})

const handle = { provider: 'emr-serverless', id: '00fjobrun0001', submittedAt: new Date().toISOString() }

describe('EmrServerlessCompute', () => {
  const emr = mockClient(EMRServerlessClient)
  beforeEach(() => emr.reset())
  afterEach(() => emr.reset())

  it('should start a job run with the script, its arguments, role, Spark properties and log URI', async () => {
    emr
      .on(StartJobRunCommand)
      .resolves({ applicationId: options.applicationId, jobRunId: '00fjobrun0001', arn: 'a' })
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    const job = await compute.submit({
      name: 'nightly',
      pyspark,
      maxRuntimeSeconds: 7200,
      output: { provider: 's3', bucket: 'staging' },
    })
    expect(job).toMatchObject({
      provider: 'emr-serverless',
      id: '00fjobrun0001',
      output: { bucket: 'staging' },
    })
    const calls = emr.commandCalls(StartJobRunCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]!.args[0].input
    expect(input.name).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(input).toEqual({
      applicationId: options.applicationId,
      clientToken: input.name,
      executionRoleArn: options.executionRoleArn,
      name: input.name,
      jobDriver: {
        sparkSubmit: {
          entryPoint: pyspark.mainPythonFileUri,
          entryPointArguments: pyspark.args,
          sparkSubmitParameters: '--conf spark.executor.memory=8g --conf spark.executor.instances=4',
        },
      },
      configurationOverrides: {
        monitoringConfiguration: { s3MonitoringConfiguration: { logUri: 's3://my-logs/emr/' } },
      },
      executionTimeoutMinutes: 120,
      tags: { edgerec: 'train' },
    })
  })

  it('should be built by createCompute from a spark config', async () => {
    const compute = await createCompute({ provider: 'spark', platform: 'emr-serverless', ...options })
    expect(compute.provider).toBe('emr-serverless')
    expect(compute).toBeInstanceOf(EmrServerlessCompute)
  })

  it('should refuse a run without a PySpark job', async () => {
    const compute = new EmrServerlessCompute(options)
    const error = await compute.submit({ args: ['train'] }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('runs a PySpark script'),
    })
    expect(emr.commandCalls(StartJobRunCommand)).toHaveLength(0)
  })

  it('should follow a run from submitted to success, polling GetJobRun with the application id', async () => {
    emr
      .on(GetJobRunCommand)
      .resolvesOnce(jobRun('SUBMITTED'))
      .resolvesOnce(jobRun('SCHEDULED'))
      .resolvesOnce(jobRun('RUNNING'))
      .resolves(jobRun('SUCCESS'))
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    const seen: string[] = []
    const final = await compute.wait(handle, {
      pollIntervalMs: 1,
      onStatus: (s) => seen.push(`${s.state}/${s.providerState}`),
    })
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual(['pending/SUBMITTED', 'pending/SCHEDULED', 'running/RUNNING', 'succeeded/SUCCESS'])
    for (const call of emr.commandCalls(GetJobRunCommand))
      expect(call.args[0].input).toEqual({ applicationId: options.applicationId, jobRunId: '00fjobrun0001' })
    const result = await compute.result(handle)
    expect(result.status.state).toBe('succeeded')
    expect(result.version).toBeUndefined()
  })

  it('should map a failed run to JOB_FAILED with its state details', async () => {
    emr
      .on(GetJobRunCommand)
      .resolves(
        jobRun(
          'FAILED',
          'Job failed, please check complete logs in configured logging destination. ExitCode: 1.',
        ),
      )
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringMatching(
        /emr-serverless job 00fjobrun0001 failed \(FAILED\): Job failed.*ExitCode: 1/,
      ),
    })
  })

  it('should map a run that failed for capacity to QUOTA_EXCEEDED', async () => {
    emr.on(GetJobRunCommand).resolves(jobRun('FAILED', 'Application has reached its maximum capacity'))
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED' })
  })

  it('should report a cancelled run as cancelled, and cancel with CancelJobRun', async () => {
    emr
      .on(GetJobRunCommand)
      .resolvesOnce(jobRun('CANCELLING'))
      .resolves(jobRun('CANCELLED', 'Job run cancelled by user'))
    emr.on(CancelJobRunCommand).resolves({ applicationId: options.applicationId, jobRunId: '00fjobrun0001' })
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    await compute.cancel(handle)
    expect(emr.commandCalls(CancelJobRunCommand)[0]!.args[0].input).toEqual({
      applicationId: options.applicationId,
      jobRunId: '00fjobrun0001',
    })
    const seen: string[] = []
    const final = await compute.wait(handle, {
      pollIntervalMs: 1,
      throwOnFailure: false,
      onStatus: (s) => seen.push(s.state),
    })
    expect(seen).toEqual(['cancelling', 'cancelled'])
    expect(final).toMatchObject({ state: 'cancelled', message: 'Job run cancelled by user' })
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('was cancelled') })
  })

  it('should say the credentials expired when AWS refuses the token', async () => {
    emr.on(StartJobRunCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    )
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    const error = await compute.submit({ pyspark }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'AUTH',
      message: expect.stringMatching(/expired.*Refresh the AWS credentials/),
    })
  })

  it('should name the missing permission when access is denied, and the application when it does not exist', async () => {
    emr
      .on(StartJobRunCommand)
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .rejectsOnce(
        Object.assign(new Error('Application does not exist'), { name: 'ResourceNotFoundException' }),
      )
    const compute = new EmrServerlessCompute({
      ...options,
      client: new EMRServerlessClient({ region: 'eu-west-1' }),
    })
    expect(await compute.submit({ pyspark }).catch((e: unknown) => e)).toMatchObject({
      code: 'AUTH',
      message: expect.stringContaining('iam:PassRole'),
    })
    expect(await compute.submit({ pyspark }).catch((e: unknown) => e)).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('compute.applicationId'),
    })
  })
})

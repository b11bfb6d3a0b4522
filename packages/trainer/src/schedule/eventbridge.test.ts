/**
 * `edgerec-train schedule create|list|delete` with a SageMaker compute, through the CLI entry,
 * against aws-sdk-client-mock (AWS's recommended mock of SDK v3 clients): only an AWS account can
 * hold an EventBridge Scheduler schedule.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler'
import { mockClient } from 'aws-sdk-client-mock'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'

const compute = {
  provider: 'sagemaker',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::123456789012:role/edgerec-training',
  schedulerRoleArn: 'arn:aws:iam::123456789012:role/edgerec-scheduler',
  image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/edgerec-trainer:1',
  outputS3Uri: 's3://acme-models/sagemaker/',
}
const events = {
  kind: 'ndjson',
  path: 'events/latest.ndjson',
  storage: { provider: 's3', bucket: 'acme-events' },
}
const storage = { provider: 's3', bucket: 'acme-models', region: 'eu-west-1' }

describe('edgerec-train schedule (EventBridge Scheduler → SageMaker)', () => {
  const scheduler = mockClient(SchedulerClient)
  let dir: string
  let configs = 0
  const saved = { key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-schedule-'))
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST'
    process.env.AWS_SECRET_ACCESS_KEY = 'test'
  })
  afterAll(async () => {
    scheduler.restore()
    for (const [key, value] of [
      ['AWS_ACCESS_KEY_ID', saved.key],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => scheduler.reset())

  const writeConfig = async (config: Record<string, unknown>): Promise<string> => {
    configs += 1
    const path = join(dir, `edgerec-${configs}.config.mjs`)
    await writeFile(path, `export default ${JSON.stringify(config)}\n`)
    return path
  }
  const cli = async (argv: string[]) => {
    let out = ''
    let err = ''
    const io: CliIo = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      cwd: dir,
    }
    const code = await runCli(argv, io)
    return { code, out, err }
  }

  it('should create a schedule whose target starts the same training job train would submit', async () => {
    scheduler.on(CreateScheduleCommand).resolves({
      ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/edgerec-nightly',
    })
    const config = await writeConfig({ events, storage, compute, als: { factors: 32 } })
    const run = await cli([
      'schedule',
      'create',
      '--config',
      config,
      '--cron',
      '17 3 * * *',
      '--name',
      'nightly',
      '--timezone',
      'Europe/Berlin',
      '--iterations',
      '20',
    ])
    expect(run.err).not.toContain('error')
    expect(run.code).toBe(0)
    expect(run.out).toBe('edgerec-nightly\n')
    const calls = scheduler.commandCalls(CreateScheduleCommand)
    expect(calls).toHaveLength(1)
    const input = calls[0]!.args[0].input
    expect({ ...input, Target: { ...input.Target, Input: undefined } }).toEqual({
      Name: 'edgerec-nightly',
      GroupName: 'default',
      ScheduleExpression: 'cron(17 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Description: 'edgerec: recurring training job (edgerec-train schedule)',
      Target: {
        Arn: 'arn:aws:scheduler:::aws-sdk:sagemaker:createTrainingJob',
        RoleArn: compute.schedulerRoleArn,
        Input: undefined,
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    })
    // The target input is the full CreateTrainingJob request, named per firing.
    expect(JSON.parse(input.Target!.Input!)).toEqual({
      TrainingJobName: 'edgerec-<aws.scheduler.execution-id>',
      RoleArn: compute.roleArn,
      AlgorithmSpecification: {
        TrainingImage: compute.image,
        TrainingInputMode: 'File',
        ContainerEntrypoint: ['/usr/local/bin/edgerec-entrypoint'],
        ContainerArguments: ['train'],
      },
      ResourceConfig: { InstanceType: 'ml.m5.xlarge', InstanceCount: 1, VolumeSizeInGB: 30 },
      OutputDataConfig: { S3OutputPath: compute.outputS3Uri },
      StoppingCondition: { MaxRuntimeInSeconds: 14_400 },
      Environment: {
        EDGEREC_CONFIG_JSON: JSON.stringify({ events, als: { factors: 32, iterations: 20 } }),
        EDGEREC_OUTPUT: JSON.stringify(storage),
      },
      Tags: [{ Key: 'edgerec', Value: 'train' }],
    })
    expect(run.err).toContain('Created schedule edgerec-nightly: cron(17 3 * * ? *) (Europe/Berlin)')
  })

  it('should map a weekday cron to EventBridge day numbers', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' })
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'create', '--config', config, '--cron', '0 4 * * 1'])
    expect(run.code).toBe(0)
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input
    expect(input.Name).toBe('edgerec-train')
    expect(input.ScheduleExpression).toBe('cron(0 4 ? * 2 *)')
    expect(input.ScheduleExpressionTimezone).toBe('UTC')
  })

  it("should list edgerec's SageMaker schedules only", async () => {
    scheduler.on(ListSchedulesCommand).resolves({
      Schedules: [
        {
          Name: 'edgerec-nightly',
          Arn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/default/edgerec-nightly',
          State: 'ENABLED',
          Target: { Arn: 'arn:aws:scheduler:::aws-sdk:sagemaker:createTrainingJob' },
        },
        { Name: 'edgerec-other', State: 'ENABLED', Target: { Arn: 'arn:aws:lambda:eu-west-1:1:function:x' } },
      ],
    })
    scheduler.on(GetScheduleCommand).resolves({
      Name: 'edgerec-nightly',
      ScheduleExpression: 'cron(17 3 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
    })
    const run = await cli(['schedule', 'list', '--config', await writeConfig({ events, storage, compute })])
    expect(run.code).toBe(0)
    expect(run.out).toBe('edgerec-nightly\tcron(17 3 * * ? *)\tEurope/Berlin\tENABLED\n')
    expect(scheduler.commandCalls(ListSchedulesCommand)[0]!.args[0].input).toEqual({
      GroupName: 'default',
      NamePrefix: 'edgerec',
    })
    expect(scheduler.commandCalls(GetScheduleCommand)).toHaveLength(1)
  })

  it('should delete a schedule by name and say when it does not exist', async () => {
    scheduler.on(DeleteScheduleCommand).resolvesOnce({})
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'delete', 'nightly', '--config', config])
    expect(run.code).toBe(0)
    expect(scheduler.commandCalls(DeleteScheduleCommand)[0]!.args[0].input).toEqual({
      Name: 'edgerec-nightly',
      GroupName: 'default',
    })
    scheduler.on(DeleteScheduleCommand).rejects(
      new ResourceNotFoundException({
        message: 'Schedule edgerec-gone does not exist.',
        Message: 'Schedule edgerec-gone does not exist.',
        $metadata: {},
      }),
    )
    const missing = await cli(['schedule', 'delete', 'edgerec-gone', '--config', config])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('error NOT_FOUND: No schedule edgerec-gone in group default.')
  })

  it('should say the credentials expired when AWS refuses the token', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredTokenException',
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * * *'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error AUTH: .*credentials expired.*Refresh the AWS credentials/)
  })

  it('should refuse a config without schedulerRoleArn and a local compute, before any call', async () => {
    const { schedulerRoleArn: _role, ...withoutRole } = compute
    const noRole = await cli([
      'schedule',
      'create',
      '--config',
      await writeConfig({ events, storage, compute: withoutRole }),
      '--cron',
      '17 3 * * *',
    ])
    expect(noRole.err).toContain('error CONFIG_INVALID: compute.schedulerRoleArn is required')
    const local = await cli(['schedule', 'list', '--config', await writeConfig({ events, storage })])
    expect(local.err).toMatch(
      /error CONFIG_INVALID: schedule .* needs a cloud compute .*examples\/github-actions\/retrain.yml/,
    )
    expect(scheduler.calls()).toHaveLength(0)
  })

  it('should reject a malformed cron and a schedule action that does not exist', async () => {
    const config = await writeConfig({ events, storage, compute })
    const bad = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * *'])
    expect(bad.err).toContain('is not a 5-field cron expression')
    const action = await cli(['schedule', 'pause'])
    expect(action.code).toBe(2)
    expect(action.err).toContain('schedule needs an action: create, list or delete')
  })
})

/**
 * DatabricksCompute against msw: Databricks has no official JavaScript SDK for the Jobs API, so the
 * adapter calls the REST API with fetch, and msw (request interception at the fetch level) stands in
 * for a workspace. The tests check the whole runs/submit body, the token header, the status polling
 * and the mapping of failures.
 */
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCompute } from '../../src/config/create-compute.js'
import { DatabricksCompute } from '../../src/databricks/compute.js'

const host = 'https://dbc-1234.cloud.databricks.com'
const server = setupServer()

const options = {
  host,
  tokenEnv: 'EDGEREC_TEST_DATABRICKS_TOKEN',
  env: { EDGEREC_TEST_DATABRICKS_TOKEN: 'dapi-test-token' },
  nodeTypeId: 'i3.xlarge',
  numWorkers: 4,
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/edgerec-spark',
  sparkConf: { 'spark.executor.memory': '8g' },
}

const pyspark = {
  mainPythonFileUri: 's3://staging/spark/run-1/edgerec_als.py',
  args: ['--input', 's3://staging/spark/run-1/input', '--output', 's3://staging/spark/run-1/output'],
}

const handle = { provider: 'databricks', id: '7001', submittedAt: new Date().toISOString() }

const run = (life: string, result?: string, message = '') => ({
  run_id: 7001,
  run_page_url: `${host}/#job/1/run/7001`,
  state: { life_cycle_state: life, ...(result ? { result_state: result } : {}), state_message: message },
})

describe('DatabricksCompute', () => {
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  it('should POST runs/submit with the Python task, parameters, job cluster and Spark properties', async () => {
    const requests: Array<{ authorization: string | null; body: unknown }> = []
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/submit`, async ({ request }) => {
        requests.push({ authorization: request.headers.get('authorization'), body: await request.json() })
        return HttpResponse.json({ run_id: 7001 })
      }),
      http.get(`${host}/api/2.1/jobs/runs/get`, ({ request }) => {
        expect(new URL(request.url).searchParams.get('run_id')).toBe('7001')
        return HttpResponse.json({
          run_id: 7001,
          job_id: 55,
          run_page_url: `${host}/?o=1234567890#job/55/run/7001`,
          state: { life_cycle_state: 'PENDING' },
        })
      }),
    )
    const compute = new DatabricksCompute(options)
    const job = await compute.submit({ name: 'nightly', pyspark, maxRuntimeSeconds: 3600 })
    expect(job).toMatchObject({
      provider: 'databricks',
      id: '7001',
      url: `${host}/?o=1234567890#job/55/run/7001`,
    })
    expect(requests).toHaveLength(1)
    expect(requests[0]!.authorization).toBe('Bearer dapi-test-token')
    const body = requests[0]!.body as { run_name: string }
    expect(body.run_name).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(body).toEqual({
      run_name: body.run_name,
      timeout_seconds: 3600,
      tasks: [
        {
          task_key: 'edgerec_als',
          spark_python_task: { python_file: pyspark.mainPythonFileUri, parameters: pyspark.args },
          new_cluster: {
            spark_version: '15.4.x-scala2.12',
            node_type_id: 'i3.xlarge',
            num_workers: 4,
            spark_conf: { 'spark.executor.memory': '8g' },
            aws_attributes: { instance_profile_arn: options.instanceProfileArn },
            custom_tags: { edgerec: 'train' },
          },
        },
      ],
    })
  })

  it('should run on an existing cluster when one is configured', async () => {
    const compute = new DatabricksCompute({ host, env: {}, existingClusterId: '0101-123456-abcdef' })
    expect(compute.buildRequest({ pyspark }).tasks[0]).toEqual({
      task_key: 'edgerec_als',
      spark_python_task: { python_file: pyspark.mainPythonFileUri, parameters: pyspark.args },
      existing_cluster_id: '0101-123456-abcdef',
    })
  })

  it('should be built by createCompute from a spark config', async () => {
    const compute = await createCompute({
      provider: 'spark',
      platform: 'databricks',
      host,
      nodeTypeId: 'i3.xlarge',
    })
    expect(compute.provider).toBe('databricks')
  })

  it('should follow a run from pending to TERMINATED/SUCCESS with runs/get', async () => {
    const states = [run('PENDING'), run('RUNNING'), run('TERMINATING'), run('TERMINATED', 'SUCCESS')]
    const asked: string[] = []
    server.use(
      http.get(`${host}/api/2.1/jobs/runs/get`, ({ request }) => {
        asked.push(new URL(request.url).searchParams.get('run_id')!)
        return HttpResponse.json(states.shift())
      }),
    )
    const compute = new DatabricksCompute(options)
    const seen: string[] = []
    const final = await compute.wait(handle, {
      pollIntervalMs: 1,
      onStatus: (s) => seen.push(`${s.state}/${s.providerState}`),
    })
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual([
      'pending/PENDING',
      'running/RUNNING',
      'running/TERMINATING',
      'succeeded/TERMINATED/SUCCESS',
    ])
    expect(new Set(asked)).toEqual(new Set(['7001']))
  })

  it('should map a failed run to JOB_FAILED with its state message', async () => {
    server.use(
      http.get(`${host}/api/2.1/jobs/runs/get`, () =>
        HttpResponse.json(run('TERMINATED', 'FAILED', 'Workload failed, see run output for details')),
      ),
    )
    const error = await new DatabricksCompute(options)
      .wait(handle, { pollIntervalMs: 1 })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringMatching(/databricks job 7001 failed \(TERMINATED\/FAILED\): Workload failed/),
    })
  })

  it('should cancel with runs/cancel and report the run cancelled', async () => {
    let cancelled: unknown
    let canceledYet = false
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/cancel`, async ({ request }) => {
        cancelled = await request.json()
        canceledYet = true
        return HttpResponse.json({})
      }),
      http.get(`${host}/api/2.1/jobs/runs/get`, () =>
        HttpResponse.json(canceledYet ? run('TERMINATED', 'CANCELED', 'Run cancelled.') : run('RUNNING')),
      ),
    )
    const compute = new DatabricksCompute(options)
    await compute.cancel(handle)
    expect(cancelled).toEqual({ run_id: 7001 })
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('was cancelled') })
  })

  it('should say the token expired on HTTP 401, and name the env var', async () => {
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/submit`, () =>
        HttpResponse.json({ error_code: 'UNAUTHENTICATED', message: 'Token is expired.' }, { status: 401 }),
      ),
    )
    const error = await new DatabricksCompute(options).submit({ pyspark }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'AUTH',
      message: expect.stringMatching(/expired.*Token is expired.*EDGEREC_TEST_DATABRICKS_TOKEN/),
    })
  })

  it('should refuse to call without a token, naming the env var, before any request', async () => {
    const error = await new DatabricksCompute({ ...options, env: {} })
      .submit({ pyspark })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'CREDENTIALS_MISSING',
      message: expect.stringContaining('export EDGEREC_TEST_DATABRICKS_TOKEN=<token>'),
    })
  })

  it('should map HTTP 400 to CONFIG_INVALID with the workspace message', async () => {
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/submit`, () =>
        HttpResponse.json(
          { error_code: 'INVALID_PARAMETER_VALUE', message: 'Node type i9.huge is not supported' },
          { status: 400 },
        ),
      ),
    )
    const error = await new DatabricksCompute(options).submit({ pyspark }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('i9.huge') })
  })
})

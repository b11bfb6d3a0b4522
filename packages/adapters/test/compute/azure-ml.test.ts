/**
 * AzureMlCompute against msw, intercepting the ARM REST calls `@azure/arm-machinelearning` makes
 * (Microsoft's own SDK tests record and replay HTTP the same way): only an Azure subscription can
 * run a command job, so these tests check the requests the adapter sends and how it maps answers.
 */
import type { AccessToken, TokenCredential } from '@azure/identity'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AzureMlCompute } from '../../src/azure/compute.js'
import { CONTAINER_ENTRYPOINT } from '../../src/compute/container.js'
import { AdapterError } from '../../src/errors.js'

const subscriptionId = '00000000-1111-2222-3333-444444444444'
const workspaceUrl = `https://management.azure.com/subscriptions/${subscriptionId}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws`
const server = setupServer()

/** A token credential that hands out a fixed token, as Azure SDK tests do. */
const fakeCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: 'test-arm-token',
    expiresOnTimestamp: Date.now() + 3_600_000,
  }),
}

const options = {
  subscriptionId,
  resourceGroup: 'ml-rg',
  workspace: 'ml-ws',
  computeName: 'cpu-cluster',
  environmentId: 'azureml:edgerec-trainer:3',
  instanceType: 'Standard_D4s_v3',
}

const jobResource = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
  id: `/subscriptions/${subscriptionId}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws/jobs/${name}`,
  name,
  type: 'Microsoft.MachineLearningServices/workspaces/jobs',
  properties: {
    jobType: 'Command',
    command: 'x',
    environmentId: options.environmentId,
    status,
    ...extra,
  },
})

describe('AzureMlCompute', () => {
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  it('should PUT a command job that runs the trainer image with config, env, output and limits', async () => {
    const requests: Array<{
      url: URL
      authorization: string | null
      body: { properties: Record<string, unknown> }
    }> = []
    server.use(
      http.put(`${workspaceUrl}/jobs/:name`, async ({ request, params }) => {
        const body = (await request.json()) as { properties: Record<string, unknown> }
        requests.push({
          url: new URL(request.url),
          authorization: request.headers.get('authorization'),
          body,
        })
        return HttpResponse.json(jobResource(String(params.name), 'NotStarted'), { status: 201 })
      }),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    const handle = await compute.submit({
      name: 'nightly',
      config: { path: '/app/edgerec.config.ts' },
      args: ['--iterations', '20', "--note=it's"],
      maxRuntimeSeconds: 1800,
      output: {
        provider: 'azure-blob',
        container: 'models',
        accountUrl: 'https://acct.blob.core.windows.net',
      },
    })
    expect(requests).toHaveLength(1)
    const { url, authorization, body } = requests[0]!
    expect(authorization).toBe('Bearer test-arm-token')
    expect(url.pathname.endsWith(`/jobs/${handle.id}`)).toBe(true)
    expect(url.searchParams.get('api-version')).toBe('2022-10-01')
    expect(handle.id).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(body.properties).toMatchObject({
      jobType: 'Command',
      displayName: handle.id,
      experimentName: 'edgerec',
      computeId: `/subscriptions/${subscriptionId}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws/computes/cpu-cluster`,
      environmentId: 'azureml:edgerec-trainer:3',
      command: `${CONTAINER_ENTRYPOINT} train --iterations 20 '--note=it'\\''s'`,
      environmentVariables: {
        EDGEREC_CONFIG: '/app/edgerec.config.ts',
        EDGEREC_OUTPUT:
          '{"provider":"azure-blob","container":"models","accountUrl":"https://acct.blob.core.windows.net"}',
      },
      outputs: { model: { jobOutputType: 'uri_folder' } },
      limits: { jobLimitsType: 'Command', timeout: 'PT1800S' },
      resources: { instanceCount: 1, instanceType: 'Standard_D4s_v3' },
    })
  })

  it('should follow a job from queued to completed', async () => {
    const states = ['Queued', 'Running', 'Finalizing', 'Completed']
    server.use(
      http.get(`${workspaceUrl}/jobs/job-1`, () => HttpResponse.json(jobResource('job-1', states.shift()!))),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    const seen: string[] = []
    const final = await compute.wait(
      { provider: 'azure-ml', id: 'job-1', submittedAt: new Date().toISOString() },
      { pollIntervalMs: 1, onStatus: (s) => seen.push(`${s.state}/${s.providerState}`) },
    )
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual(['pending/Queued', 'running/Running', 'running/Finalizing', 'succeeded/Completed'])
  })

  it('should map a failed job to JOB_FAILED', async () => {
    server.use(
      http.get(`${workspaceUrl}/jobs/job-1`, () => HttpResponse.json(jobResource('job-1', 'Failed'))),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    const error = await compute
      .wait(
        { provider: 'azure-ml', id: 'job-1', submittedAt: new Date().toISOString() },
        { pollIntervalMs: 1 },
      )
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('azure-ml job job-1 failed (Failed)'),
    })
  })

  it('should map a quota error answer at submission to QUOTA_EXCEEDED', async () => {
    server.use(
      http.put(`${workspaceUrl}/jobs/:name`, () =>
        HttpResponse.json(
          {
            error: {
              code: 'QuotaExceeded',
              message:
                'Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.',
            },
          },
          { status: 400 },
        ),
      ),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    const error = await compute.submit({}).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('standardDSv3Family'),
    })
  })

  it('should map a 403 answer to AUTH', async () => {
    server.use(
      http.put(`${workspaceUrl}/jobs/:name`, () =>
        HttpResponse.json(
          {
            error: {
              code: 'AuthorizationFailed',
              message: 'The client does not have authorization to perform action.',
            },
          },
          { status: 403 },
        ),
      ),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    await expect(compute.submit({})).rejects.toMatchObject({ code: 'AUTH' })
  })

  it('should request cancellation with POST /cancel', async () => {
    let cancelled = false
    server.use(
      http.post(`${workspaceUrl}/jobs/job-1/cancel`, () => {
        cancelled = true
        return new HttpResponse(null, { status: 202 })
      }),
    )
    const compute = new AzureMlCompute({ ...options, credential: fakeCredential })
    await compute.cancel({ provider: 'azure-ml', id: 'job-1', submittedAt: new Date().toISOString() })
    expect(cancelled).toBe(true)
  })

  it('should report CREDENTIALS_MISSING when DefaultAzureCredential finds no credential', async () => {
    const saved = { ...process.env }
    for (const key of Object.keys(process.env))
      if (key.startsWith('AZURE_') || key.startsWith('IDENTITY_') || key.startsWith('MSI_'))
        delete process.env[key]
    // The real chain: env → workload identity → managed identity (IMDS, refused here by msw) → CLIs (not installed).
    process.env.PATH = '/nonexistent'
    try {
      const compute = new AzureMlCompute(options)
      const error = await compute.submit({}).catch((e: unknown) => e)
      expect(error).toMatchObject({
        code: 'CREDENTIALS_MISSING',
        message: expect.stringContaining('az login'),
      })
    } finally {
      process.env = saved
    }
  }, 60_000)
})

/**
 * `edgerec-train train` with `compute: { provider: 'azure-ml' }`, through the CLI entry, against
 * msw intercepting the real HTTP requests of `@azure/arm-machinelearning` and of
 * `DefaultAzureCredential`'s client-secret sign-in (AZURE_TENANT_ID/AZURE_CLIENT_ID/
 * AZURE_CLIENT_SECRET → Microsoft Entra ID token endpoint): only an Azure subscription can run a
 * command job. The mocked job PUT runs the job's command line (the image entrypoint) locally; the
 * job trains against s3rver.
 */
import { createStorage } from '@edgerec/adapters'
import { manifestKey } from '@edgerec/core'
import { HttpResponse, http, passthrough } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type CliRun, type JobWorld, startJobWorld } from './harness.test-helpers.js'
import { entraMetadata, login, tenant } from './identity.test-helpers.js'

const subscriptionId = '00000000-1111-2222-3333-444444444444'
const workspaceId = `/subscriptions/${subscriptionId}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws`
const workspaceUrl = `https://management.azure.com${workspaceId}`
const compute = {
  provider: 'azure-ml',
  subscriptionId,
  resourceGroup: 'ml-rg',
  workspace: 'ml-ws',
  computeName: 'cpu-cluster',
  environmentId: 'azureml:edgerec-trainer:3',
  instanceType: 'Standard_D4s_v3',
}
const AZURE_ENV = {
  AZURE_TENANT_ID: tenant,
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_CLIENT_SECRET: 'test-secret',
} as const

const jobResource = (name: string, status: string) => ({
  id: `${workspaceId}/jobs/${name}`,
  name,
  type: 'Microsoft.MachineLearningServices/workspaces/jobs',
  properties: { jobType: 'Command', command: 'x', environmentId: compute.environmentId, status },
})

describe('edgerec-train train on Azure ML', () => {
  const server = setupServer(http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()))
  let world: JobWorld
  const saved = Object.fromEntries(Object.keys(AZURE_ENV).map((key) => [key, process.env[key]]))
  beforeAll(async () => {
    world = await startJobWorld()
    Object.assign(process.env, AZURE_ENV)
    server.listen({ onUnhandledFrame: 'error' })
  })
  afterEach(() => server.resetHandlers())
  afterAll(async () => {
    server.close()
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await world.stop()
  })

  const tokenRequests: URLSearchParams[] = []
  const token = http.post(`${login}/${tenant}/oauth2/v2.0/token`, async ({ request }) => {
    tokenRequests.push(new URLSearchParams(await request.text()))
    return HttpResponse.json({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: 'arm-token',
    })
  })

  /** GET jobs/<name> answers these states in turn (the last one repeats). */
  const states = (...answers: string[]) => {
    let i = 0
    return http.get(`${workspaceUrl}/jobs/:name`, ({ request, params }) => {
      expect(request.headers.get('authorization')).toBe('Bearer arm-token')
      const status = answers[Math.min(i, answers.length - 1)]!
      i += 1
      return HttpResponse.json(jobResource(String(params.name), status))
    })
  }

  it('should PUT one command job with the full request, follow it and report the version it wrote', async () => {
    const puts: Array<{
      url: URL
      authorization: string | null
      body: { properties: Record<string, unknown> }
    }> = []
    let job: CliRun | undefined
    server.use(
      ...entraMetadata,
      token,
      http.put(`${workspaceUrl}/jobs/:name`, async ({ request, params }) => {
        const body = (await request.json()) as {
          properties: { command: string; environmentVariables: Record<string, string> }
        }
        puts.push({ url: new URL(request.url), authorization: request.headers.get('authorization'), body })
        job = await world.entrypointCommand(body.properties.command, body.properties.environmentVariables)
        return HttpResponse.json(jobResource(String(params.name), 'NotStarted'), { status: 201 })
      }),
      states('Queued', 'Preparing', 'Running', 'Finalizing', 'Completed'),
    )
    const config = await world.writeConfig({ compute, evaluation: { split: 'random', k: 5 } })
    const run = await world.cli(['train', '--config', config, '--json'])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)
    expect(job?.code).toBe(0)

    // DefaultAzureCredential → EnvironmentCredential: a client-credentials grant for ARM.
    expect(tokenRequests.at(-1)?.get('grant_type')).toBe('client_credentials')
    expect(tokenRequests.at(-1)?.get('client_id')).toBe(AZURE_ENV.AZURE_CLIENT_ID)
    expect(tokenRequests.at(-1)?.get('scope')).toContain('https://management.azure.com/.default')

    expect(puts).toHaveLength(1)
    const { url, authorization, body } = puts[0]!
    const name = url.pathname.split('/').at(-1)!
    expect(name).toMatch(/^edgerec-train-\d{14}-[0-9a-f]{4}$/)
    expect(authorization).toBe('Bearer arm-token')
    expect(url.searchParams.get('api-version')).toBe('2022-10-01')
    expect(body).toEqual({
      properties: {
        jobType: 'Command',
        displayName: name,
        experimentName: 'edgerec',
        computeId: `${workspaceId}/computes/cpu-cluster`,
        environmentId: 'azureml:edgerec-trainer:3',
        command: '/usr/local/bin/edgerec-entrypoint train',
        environmentVariables: {
          EDGEREC_CONFIG_JSON: JSON.stringify({
            events: { kind: 'ndjson', path: 'events.ndjson', storage: world.events },
            als: { factors: 4, iterations: 2, threads: 1 },
            evaluation: { split: 'random', k: 5 },
          }),
          EDGEREC_OUTPUT: JSON.stringify(world.registry),
        },
        outputs: { model: { jobOutputType: 'uri_folder' } },
        limits: { jobLimitsType: 'Command', timeout: 'PT14400S' },
        resources: { instanceCount: 1, instanceType: 'Standard_D4s_v3' },
        tags: body.properties.tags,
      },
    })

    const result = JSON.parse(run.out) as { job: { id: string }; url: string; version: string }
    expect(result.job.id).toBe(name)
    expect(result.url).toBe(
      `https://ml.azure.com/runs/${name}?wsid=/subscriptions/${compute.subscriptionId}/resourcegroups/${compute.resourceGroup}/workspaces/${compute.workspace}`,
    )
    expect(await (await createStorage(world.registry)).get(manifestKey(result.version))).not.toBeNull()
    for (const line of [
      'pending (Queued)',
      'pending (Preparing)',
      'running (Running)',
      'running (Finalizing)',
      'succeeded (Completed)',
    ])
      expect(run.err).toContain(line)
  })

  it('should fail with JOB_FAILED and publish nothing when the job failed', async () => {
    server.use(
      ...entraMetadata,
      token,
      http.put(`${workspaceUrl}/jobs/:name`, ({ params }) =>
        HttpResponse.json(jobResource(String(params.name), 'NotStarted'), { status: 201 }),
      ),
      states('Running', 'Failed'),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error JOB_FAILED: azure-ml job edgerec-train-\S+ failed \(Failed\)/)
    expect(run.err).not.toContain('Publishing')
  })

  it('should fail with JOB_FAILED when the job was canceled', async () => {
    server.use(
      ...entraMetadata,
      token,
      http.put(`${workspaceUrl}/jobs/:name`, ({ params }) =>
        HttpResponse.json(jobResource(String(params.name), 'NotStarted'), { status: 201 }),
      ),
      states('CancelRequested', 'Canceled'),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/error JOB_FAILED: azure-ml job edgerec-train-\S+ was cancelled/)
    expect(run.err).not.toContain('Publishing')
  })

  it('should say the client secret expired when Entra ID refuses it, before any job exists', async () => {
    let puts = 0
    server.use(
      ...entraMetadata,
      http.post(`${login}/${tenant}/oauth2/v2.0/token`, () =>
        HttpResponse.json(
          {
            error: 'invalid_client',
            error_description: `AADSTS7000222: The provided client secret keys for app '${AZURE_ENV.AZURE_CLIENT_ID}' are expired. Visit the Azure portal to create new keys for your app.`,
            error_codes: [7000222],
          },
          { status: 401 },
        ),
      ),
      http.put(`${workspaceUrl}/jobs/:name`, () => {
        puts += 1
        return HttpResponse.json({})
      }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Azure did not accept the credentials to create command job \S+ because they expired.*AADSTS7000222/s,
    )
    expect(run.err).toMatch(/new client secret|az login/)
    expect(puts).toBe(0)
  })
})

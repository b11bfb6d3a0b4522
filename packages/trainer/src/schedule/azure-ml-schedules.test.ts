/**
 * `edgerec-train schedule create|list|delete` with an Azure ML compute, through the CLI entry,
 * against msw intercepting the real HTTP requests of `@azure/arm-machinelearning` (workspace
 * schedules, API 2022-10-01) and of `DefaultAzureCredential`'s client-secret sign-in: only an
 * Azure subscription can hold an Azure ML schedule.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'
import { entraMetadata, login, tenant } from '../cloud/identity.test-helpers.js'

const subscriptionId = '00000000-1111-2222-3333-444444444444'
const workspaceId = `/subscriptions/${subscriptionId}/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/ml-ws`
const schedulesUrl = `https://management.azure.com${workspaceId}/schedules`
const compute = {
  provider: 'azure-ml',
  subscriptionId,
  resourceGroup: 'ml-rg',
  workspace: 'ml-ws',
  computeName: 'cpu-cluster',
  environmentId: 'azureml:edgerec-trainer:3',
  instanceType: 'Standard_D4s_v3',
}
const storage = {
  provider: 'azure-blob',
  container: 'models',
  accountUrl: 'https://acmeml.blob.core.windows.net',
}
const events = { kind: 'ndjson', path: 'events/latest.ndjson', storage: { ...storage, container: 'events' } }
const AZURE_ENV = {
  AZURE_TENANT_ID: tenant,
  AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
  AZURE_CLIENT_SECRET: 'test-secret',
} as const

/** A schedule resource as ARM answers it. */
const scheduleResource = (name: string, properties: Record<string, unknown>) => ({
  id: `${workspaceId}/schedules/${name}`,
  name,
  type: 'Microsoft.MachineLearningServices/workspaces/schedules',
  properties: { provisioningState: 'Succeeded', ...properties },
})
const jobAction = {
  actionType: 'CreateJob',
  jobDefinition: { jobType: 'Command', command: 'x', environmentId: 'e' },
}

describe('edgerec-train schedule (Azure ML schedules)', () => {
  const server = setupServer()
  let dir: string
  let configs = 0
  const saved = Object.fromEntries(Object.keys(AZURE_ENV).map((key) => [key, process.env[key]]))
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-azure-schedules-'))
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
    await rm(dir, { recursive: true, force: true })
  })

  const token = http.post(`${login}/${tenant}/oauth2/v2.0/token`, () =>
    HttpResponse.json({
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: 'arm-token',
    }),
  )
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

  it('should PUT a cron schedule whose action creates the same command job train would, as the managed identity', async () => {
    const puts: Array<{
      url: URL
      authorization: string | null
      body: { properties: Record<string, unknown> }
    }> = []
    server.use(
      ...entraMetadata,
      token,
      http.put(`${schedulesUrl}/:name`, async ({ request, params }) => {
        const body = (await request.json()) as { properties: Record<string, unknown> }
        puts.push({ url: new URL(request.url), authorization: request.headers.get('authorization'), body })
        return HttpResponse.json(scheduleResource(String(params.name), body.properties))
      }),
    )
    const config = await writeConfig({ events, storage, compute, als: { factors: 32 } })
    const run = await cli([
      'schedule',
      'create',
      '--config',
      config,
      '--cron',
      '17 3 * * 1-5',
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
    expect(puts).toHaveLength(1)
    const { url, authorization, body } = puts[0]!
    expect(authorization).toBe('Bearer arm-token')
    expect(url.pathname).toBe(`${workspaceId}/schedules/edgerec-nightly`)
    expect(url.searchParams.get('api-version')).toBe('2022-10-01')
    expect(body).toEqual({
      properties: {
        displayName: 'edgerec-nightly',
        description: 'edgerec: recurring training job (edgerec-train schedule)',
        isEnabled: true,
        tags: { edgerec: 'schedule' },
        // Azure ML takes Windows time zone names: Europe/Berlin is W. Europe Standard Time.
        trigger: { triggerType: 'Cron', expression: '17 3 * * 1-5', timeZone: 'W. Europe Standard Time' },
        action: {
          actionType: 'CreateJob',
          jobDefinition: {
            jobType: 'Command',
            displayName: 'edgerec-nightly',
            experimentName: 'edgerec',
            computeId: `${workspaceId}/computes/cpu-cluster`,
            environmentId: 'azureml:edgerec-trainer:3',
            command: '/usr/local/bin/edgerec-entrypoint train',
            environmentVariables: {
              EDGEREC_CONFIG_JSON: JSON.stringify({ events, als: { factors: 32, iterations: 20 } }),
              EDGEREC_OUTPUT: JSON.stringify(storage),
            },
            identity: { identityType: 'Managed' },
            outputs: { model: { jobOutputType: 'uri_folder' } },
            limits: { jobLimitsType: 'Command', timeout: 'PT14400S' },
            resources: { instanceCount: 1, instanceType: 'Standard_D4s_v3' },
            tags: { edgerec: 'train', 'edgerec-schedule': 'edgerec-nightly' },
          },
        },
      },
    })
    expect(run.err).toContain(
      'Created schedule edgerec-nightly: 17 3 * * 1-5 (W. Europe Standard Time) starts one azure-ml training job per firing',
    )
  })

  it('should default to UTC and accept a Windows time zone name as is', async () => {
    const triggers: unknown[] = []
    server.use(
      ...entraMetadata,
      token,
      http.put(`${schedulesUrl}/:name`, async ({ request, params }) => {
        const body = (await request.json()) as { properties: { trigger: unknown } }
        triggers.push(body.properties.trigger)
        return HttpResponse.json(scheduleResource(String(params.name), body.properties))
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    expect((await cli(['schedule', 'create', '--config', config, '--cron', '0 4 * * *'])).code).toBe(0)
    const windows = ['--timezone', 'Pacific Standard Time']
    const win = await cli(['schedule', 'create', '--config', config, '--cron', '0 4 * * *', ...windows])
    expect(win.code).toBe(0)
    expect(triggers).toEqual([
      { triggerType: 'Cron', expression: '0 4 * * *', timeZone: 'UTC' },
      { triggerType: 'Cron', expression: '0 4 * * *', timeZone: 'Pacific Standard Time' },
    ])
  })

  it('should refuse a time zone that is neither IANA nor Windows before any call', async () => {
    let calls = 0
    server.use(
      http.all(/management\.azure\.com|login\.microsoftonline\.com/, () => {
        calls += 1
        return HttpResponse.json({})
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli([
      'schedule',
      'create',
      '--config',
      config,
      '--cron',
      '0 4 * * *',
      '--timezone',
      'Mars/Olympus',
    ])
    expect(run.code).toBe(1)
    expect(run.err).toContain('error CONFIG_INVALID: "Mars/Olympus" is not a time zone Azure ML knows')
    expect(calls).toBe(0)
  })

  it("should list edgerec's job schedules only, enabled and disabled", async () => {
    const seen: URL[] = []
    server.use(
      ...entraMetadata,
      token,
      http.get(schedulesUrl, ({ request }) => {
        seen.push(new URL(request.url))
        expect(request.headers.get('authorization')).toBe('Bearer arm-token')
        return HttpResponse.json({
          value: [
            scheduleResource('edgerec-nightly', {
              isEnabled: true,
              trigger: { triggerType: 'Cron', expression: '17 3 * * *', timeZone: 'W. Europe Standard Time' },
              action: jobAction,
            }),
            scheduleResource('edgerec-weekly', {
              isEnabled: false,
              trigger: { triggerType: 'Cron', expression: '0 4 * * 0', timeZone: 'UTC' },
              action: jobAction,
            }),
            scheduleResource('edgerec-endpoint', {
              trigger: { triggerType: 'Cron', expression: '0 5 * * *' },
              action: { actionType: 'InvokeBatchEndpoint', endpointInvocationDefinition: {} },
            }),
            scheduleResource('team-pipeline', {
              trigger: { triggerType: 'Cron', expression: '0 6 * * *' },
              action: jobAction,
            }),
          ],
        })
      }),
    )
    const run = await cli(['schedule', 'list', '--config', await writeConfig({ events, storage, compute })])
    expect(run.err).not.toContain('error')
    expect(run.code).toBe(0)
    expect(run.out).toBe(
      'edgerec-nightly\t17 3 * * *\tW. Europe Standard Time\tEnabled\nedgerec-weekly\t0 4 * * 0\tUTC\tDisabled\n',
    )
    expect(seen).toHaveLength(1)
    expect(seen[0]!.searchParams.get('listViewType')).toBe('All')
  })

  it('should delete a schedule by name and say when it does not exist', async () => {
    const deleted: string[] = []
    server.use(
      ...entraMetadata,
      token,
      http.delete(`${schedulesUrl}/:name`, ({ params }) => {
        deleted.push(String(params.name))
        if (params.name === 'edgerec-gone') {
          return HttpResponse.json(
            { error: { code: 'UserError', message: 'Schedule edgerec-gone not found.' } },
            { status: 404 },
          )
        }
        return new HttpResponse(null, { status: 200 })
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'delete', 'nightly', '--config', config])
    expect(run.err).not.toContain('error')
    expect(run.code).toBe(0)
    const missing = await cli(['schedule', 'delete', 'edgerec-gone', '--config', config])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain('error NOT_FOUND: No schedule edgerec-gone in workspace ml-ws.')
    expect(deleted).toEqual(['edgerec-nightly', 'edgerec-gone'])
  })

  it('should say the client secret expired when Entra ID refuses it, before any schedule exists', async () => {
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
      http.put(`${schedulesUrl}/:name`, () => {
        puts += 1
        return HttpResponse.json({})
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * * *'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Azure did not accept the credentials to create schedule edgerec-train because they expired.*AADSTS7000222/s,
    )
    expect(puts).toBe(0)
  })
})

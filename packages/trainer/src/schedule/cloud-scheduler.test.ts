/**
 * `edgerec-train schedule create|list|delete` with a Vertex AI compute, through the CLI entry,
 * against msw intercepting the real HTTP requests of `@google-cloud/scheduler`'s REST transport
 * (`fallback: true`) with Application Default Credentials from a service-account key file: only a
 * GCP project can hold a Cloud Scheduler job.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../cli/run.js'
import { expectServiceAccountJwt, writeServiceAccountKey } from '../cloud/identity.test-helpers.js'

const compute = {
  provider: 'vertex-ai',
  projectId: 'acme-recs',
  location: 'europe-west4',
  image: 'europe-west4-docker.pkg.dev/acme-recs/edgerec/trainer:1',
  machineType: 'n2-standard-8',
  serviceAccount: 'edgerec-trainer@acme-recs.iam.gserviceaccount.com',
  schedulerServiceAccount: 'edgerec-scheduler@acme-recs.iam.gserviceaccount.com',
  baseOutputUri: 'gs://acme-edgerec-jobs/vertex',
}
const events = {
  kind: 'ndjson',
  path: 'events/latest.ndjson',
  storage: { provider: 'gcs', bucket: 'acme-events' },
}
const storage = { provider: 'gcs', bucket: 'acme-models' }
const parent = 'projects/acme-recs/locations/europe-west4'
const jobsUrl = `https://cloudscheduler.googleapis.com/v1/${parent}/jobs`
const vertexUri = `https://europe-west4-aiplatform.googleapis.com/v1/${parent}/customJobs`

/** A Cloud Scheduler job resource as the API answers it. */
const jobResource = (name: string, extra: Record<string, unknown> = {}) => ({
  name: `${parent}/jobs/${name}`,
  schedule: '17 3 * * *',
  timeZone: 'Europe/Berlin',
  state: 'ENABLED',
  httpTarget: { uri: vertexUri, httpMethod: 'POST' },
  ...extra,
})

describe('edgerec-train schedule (Cloud Scheduler → Vertex AI)', () => {
  const server = setupServer()
  let dir: string
  let configs = 0
  const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgerec-cloud-scheduler-'))
    process.env.GOOGLE_APPLICATION_CREDENTIALS = await writeServiceAccountKey(dir)
    server.listen({ onUnhandledFrame: 'error' })
  })
  afterEach(() => server.resetHandlers())
  afterAll(async () => {
    server.close()
    if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials
    await rm(dir, { recursive: true, force: true })
  })

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

  it('should create a job whose HTTP target creates the same custom job train would, as the scheduler service account', async () => {
    const created: Array<{ url: URL; authorization: string | null; body: Record<string, unknown> }> = []
    server.use(
      http.post(jobsUrl, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>
        created.push({ url: new URL(request.url), authorization: request.headers.get('authorization'), body })
        return HttpResponse.json({ ...body, state: 'ENABLED', userUpdateTime: '2026-12-03T12:00:00Z' })
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
    expect(created).toHaveLength(1)
    expectServiceAccountJwt(created[0]!.authorization)
    const body = created[0]!.body as { httpTarget: { body: string } }
    expect({ ...body, httpTarget: { ...body.httpTarget, body: undefined } }).toEqual({
      name: `${parent}/jobs/edgerec-nightly`,
      description: 'edgerec: recurring training job (edgerec-train schedule)',
      schedule: '17 3 * * 1-5',
      timeZone: 'Europe/Berlin',
      httpTarget: {
        uri: vertexUri,
        // The REST transport's protobuf → JSON serializer writes enums as numbers (HttpMethod.POST = 1).
        httpMethod: 1,
        headers: { 'Content-Type': 'application/json' },
        body: undefined,
        oauthToken: {
          serviceAccountEmail: compute.schedulerServiceAccount,
          scope: 'https://www.googleapis.com/auth/cloud-platform',
        },
      },
      retryConfig: { retryCount: 0 },
      attemptDeadline: '60s',
    })
    // The body each firing POSTs to customJobs.create: the CustomJob `train` would submit.
    expect(JSON.parse(Buffer.from(body.httpTarget.body, 'base64').toString('utf8'))).toEqual({
      displayName: 'edgerec-nightly',
      labels: { edgerec: 'train', 'edgerec-schedule': 'edgerec-nightly' },
      jobSpec: {
        workerPoolSpecs: [
          {
            machineSpec: { machineType: 'n2-standard-8' },
            replicaCount: 1,
            diskSpec: { bootDiskType: 'pd-ssd', bootDiskSizeGb: 100 },
            containerSpec: {
              imageUri: compute.image,
              command: ['/usr/local/bin/edgerec-entrypoint'],
              args: ['train'],
              env: [
                {
                  name: 'EDGEREC_CONFIG_JSON',
                  value: JSON.stringify({ events, als: { factors: 32, iterations: 20 } }),
                },
                { name: 'EDGEREC_OUTPUT', value: JSON.stringify(storage) },
              ],
            },
          },
        ],
        scheduling: { timeout: '14400s' },
        baseOutputDirectory: { outputUriPrefix: compute.baseOutputUri },
        serviceAccount: compute.serviceAccount,
      },
    })
    expect(run.err).toContain(
      'Created schedule edgerec-nightly: 17 3 * * 1-5 (Europe/Berlin) starts one vertex-ai training job per firing',
    )
  })

  it('should default to UTC and keep jobs in schedulerLocation when it is set', async () => {
    const bodies: Array<Record<string, unknown>> = []
    const otherParent = 'projects/acme-recs/locations/europe-west1'
    server.use(
      http.post(`https://cloudscheduler.googleapis.com/v1/${otherParent}/jobs`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>
        bodies.push(body)
        return HttpResponse.json(body)
      }),
    )
    const config = await writeConfig({
      events,
      storage,
      compute: { ...compute, schedulerLocation: 'europe-west1' },
    })
    const run = await cli(['schedule', 'create', '--config', config, '--cron', '0 4 * * *'])
    expect(run.code).toBe(0)
    expect(bodies[0]).toMatchObject({
      name: `${otherParent}/jobs/edgerec-train`,
      schedule: '0 4 * * *',
      timeZone: 'UTC',
      // The custom job still runs in compute.location.
      httpTarget: { uri: vertexUri },
    })
  })

  it("should list edgerec's Vertex AI jobs only, with their cron, time zone and state", async () => {
    const seen: URL[] = []
    server.use(
      http.get(jobsUrl, ({ request }) => {
        seen.push(new URL(request.url))
        expectServiceAccountJwt(request.headers.get('authorization'))
        return HttpResponse.json({
          jobs: [
            jobResource('edgerec-nightly'),
            jobResource('edgerec-weekly', { schedule: '0 4 * * 0', timeZone: 'UTC', state: 'PAUSED' }),
            jobResource('edgerec-other', { httpTarget: { uri: 'https://example.com/hook' } }),
            jobResource('billing-export'),
          ],
        })
      }),
    )
    const run = await cli(['schedule', 'list', '--config', await writeConfig({ events, storage, compute })])
    expect(run.err).not.toContain('error')
    expect(run.code).toBe(0)
    expect(run.out).toBe(
      'edgerec-nightly\t17 3 * * *\tEurope/Berlin\tENABLED\nedgerec-weekly\t0 4 * * 0\tUTC\tPAUSED\n',
    )
    expect(seen).toHaveLength(1)
    expect(seen[0]!.pathname).toBe(`/v1/${parent}/jobs`)
  })

  it('should delete a job by name and say when it does not exist', async () => {
    const deleted: string[] = []
    server.use(
      http.delete(`${jobsUrl}/:name`, ({ params }) => {
        deleted.push(String(params.name))
        if (params.name === 'edgerec-gone') {
          return HttpResponse.json(
            { error: { code: 404, message: 'Job not found.', status: 'NOT_FOUND' } },
            { status: 404 },
          )
        }
        return HttpResponse.json({})
      }),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'delete', 'nightly', '--config', config])
    expect(run.err).not.toContain('error')
    expect(run.code).toBe(0)
    const missing = await cli(['schedule', 'delete', 'edgerec-gone', '--config', config])
    expect(missing.code).toBe(1)
    expect(missing.err).toContain(`error NOT_FOUND: No schedule edgerec-gone in ${parent}.`)
    expect(deleted).toEqual(['edgerec-nightly', 'edgerec-gone'])
  })

  it('should report credentials Google no longer accepts', async () => {
    server.use(
      http.post(jobsUrl, () =>
        HttpResponse.json(
          {
            error: {
              code: 401,
              message:
                'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
              status: 'UNAUTHENTICATED',
            },
          },
          { status: 401 },
        ),
      ),
    )
    const config = await writeConfig({ events, storage, compute })
    const run = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * * *'])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Google did not accept the credentials to create schedule edgerec-train \(expired, revoked or malformed\).*Refresh them/,
    )
  })

  it('should name the roles when the caller may not create scheduler jobs, and refuse an existing name', async () => {
    const config = await writeConfig({ events, storage, compute })
    server.use(
      http.post(jobsUrl, () =>
        HttpResponse.json(
          {
            error: {
              code: 403,
              message: "Permission 'cloudscheduler.jobs.create' denied on resource",
              status: 'PERMISSION_DENIED',
            },
          },
          { status: 403 },
        ),
      ),
    )
    const denied = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * * *'])
    expect(denied.err).toMatch(/error AUTH: .*roles\/cloudscheduler\.admin.*roles\/iam\.serviceAccountUser/)
    server.use(
      http.post(jobsUrl, () =>
        HttpResponse.json(
          { error: { code: 409, message: 'Job already exists.', status: 'ALREADY_EXISTS' } },
          { status: 409 },
        ),
      ),
    )
    const exists = await cli(['schedule', 'create', '--config', config, '--cron', '17 3 * * *'])
    expect(exists.err).toMatch(/error PRECONDITION_FAILED: .*Job already exists.*schedule delete/)
  })

  it('should refuse a config without schedulerServiceAccount before any call', async () => {
    const { schedulerServiceAccount: _sa, ...withoutAccount } = compute
    let calls = 0
    server.use(
      http.all(/cloudscheduler\.googleapis\.com/, () => {
        calls += 1
        return HttpResponse.json({})
      }),
    )
    const run = await cli([
      'schedule',
      'create',
      '--config',
      await writeConfig({ events, storage, compute: withoutAccount }),
      '--cron',
      '17 3 * * *',
    ])
    expect(run.code).toBe(1)
    expect(run.err).toContain('error CONFIG_INVALID: compute.schedulerServiceAccount is required')
    expect(calls).toBe(0)
  })
})

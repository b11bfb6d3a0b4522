/**
 * `edgerec-train train` with `compute: { provider: 'vertex-ai' }`, through the CLI entry, against
 * msw intercepting the real HTTP requests of `@google-cloud/aiplatform`'s REST transport
 * (`fallback: true`) and of google-auth-library's token exchange (Application Default Credentials
 * from a service-account key file): only a GCP project can run a custom job. The mocked
 * createCustomJob runs the image's entrypoint locally with the request's args and env; the job
 * trains against s3rver.
 */
import { createStorage } from '@edgerec/adapters'
import { manifestKey } from '@edgerec/core'
import { HttpResponse, http, passthrough } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type CliRun, type JobWorld, startJobWorld } from './harness.test-helpers.js'
import { expectServiceAccountJwt, writeServiceAccountKey } from './identity.test-helpers.js'

const base = 'https://europe-west4-aiplatform.googleapis.com/v1/projects/acme-recs/locations/europe-west4'
const jobName = 'projects/acme-recs/locations/europe-west4/customJobs/4242'
const compute = {
  provider: 'vertex-ai',
  projectId: 'acme-recs',
  location: 'europe-west4',
  image: 'europe-west4-docker.pkg.dev/acme-recs/edgerec/trainer:1',
  machineType: 'n2-standard-8',
  serviceAccount: 'edgerec-trainer@acme-recs.iam.gserviceaccount.com',
  baseOutputUri: 'gs://acme-edgerec-jobs/vertex',
}

interface ContainerSpec {
  imageUri: string
  command: string[]
  args: string[]
  env: Array<{ name: string; value: string }>
}

describe('edgerec-train train on Vertex AI', () => {
  const server = setupServer(
    // s3rver (events and registry) is a real local server: let its traffic through.
    http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()),
  )
  let world: JobWorld
  const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS
  beforeAll(async () => {
    world = await startJobWorld()
    const keyFile = await writeServiceAccountKey(world.dir)
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile
    server.listen({ onUnhandledFrame: 'error' })
  })
  afterEach(() => server.resetHandlers())
  afterAll(async () => {
    server.close()
    if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials
    await world.stop()
  })

  /** GET customJobs/4242 answers these states in turn (the last one repeats). */
  const states = (...answers: Array<Record<string, unknown>>) => {
    let i = 0
    return http.get(`${base}/customJobs/4242`, ({ request }) => {
      expectServiceAccountJwt(request.headers.get('authorization'))
      const answer = answers[Math.min(i, answers.length - 1)]!
      i += 1
      return HttpResponse.json({ name: jobName, ...answer })
    })
  }

  it('should create one custom job with the full request, follow it and report the version it wrote', async () => {
    const created: Array<{ authorization: string | null; body: Record<string, unknown> }> = []
    let job: CliRun | undefined
    server.use(
      http.post(`${base}/customJobs`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>
        created.push({ authorization: request.headers.get('authorization'), body })
        const spec = (body as { jobSpec: { workerPoolSpecs: Array<{ containerSpec: ContainerSpec }> } })
          .jobSpec.workerPoolSpecs[0]!.containerSpec
        job = await world.entrypoint(spec.args, Object.fromEntries(spec.env.map((e) => [e.name, e.value])))
        return HttpResponse.json({ name: jobName, state: 'JOB_STATE_QUEUED' })
      }),
      states(
        { state: 'JOB_STATE_QUEUED' },
        { state: 'JOB_STATE_PENDING' },
        { state: 'JOB_STATE_RUNNING' },
        { state: 'JOB_STATE_SUCCEEDED' },
      ),
    )
    const config = await world.writeConfig({ compute, evaluation: { split: 'random', k: 5 } })
    const run = await world.cli([
      'train',
      '--config',
      config,
      '--version-id',
      '20261203T000000Z-abcdef01',
      '--json',
    ])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)
    expect(job?.code).toBe(0)

    expect(created).toHaveLength(1)
    expectServiceAccountJwt(created[0]!.authorization)
    const body = created[0]!.body as { displayName: string }
    expect(body.displayName).toMatch(/^edgerec-train-\d{14}-[0-9a-f]{4}$/)
    expect(body).toEqual({
      displayName: body.displayName,
      labels: { edgerec: 'train' },
      jobSpec: {
        workerPoolSpecs: [
          {
            machineSpec: { machineType: 'n2-standard-8' },
            replicaCount: '1',
            diskSpec: { bootDiskType: 'pd-ssd', bootDiskSizeGb: 100 },
            containerSpec: {
              imageUri: compute.image,
              command: ['/usr/local/bin/edgerec-entrypoint'],
              args: ['train', '--version-id', '20261203T000000Z-abcdef01'],
              env: [
                {
                  name: 'EDGEREC_CONFIG_JSON',
                  value: JSON.stringify({
                    events: { kind: 'ndjson', path: 'events.ndjson', storage: world.events },
                    als: { factors: 4, iterations: 2, threads: 1 },
                    evaluation: { split: 'random', k: 5 },
                  }),
                },
                { name: 'EDGEREC_OUTPUT', value: JSON.stringify(world.registry) },
              ],
            },
          },
        ],
        scheduling: { timeout: '14400s' },
        baseOutputDirectory: { outputUriPrefix: compute.baseOutputUri },
        serviceAccount: compute.serviceAccount,
      },
      // The REST transport's protobuf → JSON serializer writes the empty map field.
      webAccessUris: {},
    })

    const result = JSON.parse(run.out) as { job: { id: string }; url: string; version: string }
    expect(result.version).toBe('20261203T000000Z-abcdef01')
    expect(result.job.id).toBe(jobName)
    expect(result.url).toBe(
      'https://console.cloud.google.com/ai/platform/locations/europe-west4/training/4242?project=acme-recs',
    )
    expect(await (await createStorage(world.registry)).get(manifestKey(result.version))).not.toBeNull()
    for (const line of [
      'pending (JOB_STATE_QUEUED)',
      'pending (JOB_STATE_PENDING)',
      'running (JOB_STATE_RUNNING)',
      'succeeded (JOB_STATE_SUCCEEDED)',
    ])
      expect(run.err).toContain(line)
  })

  it('should fail with JOB_FAILED, the job error message, and publish nothing when the job failed', async () => {
    server.use(
      http.post(`${base}/customJobs`, () => HttpResponse.json({ name: jobName, state: 'JOB_STATE_QUEUED' })),
      states(
        { state: 'JOB_STATE_RUNNING' },
        {
          state: 'JOB_STATE_FAILED',
          error: { code: 3, message: 'The replica workerpool0-0 exited with a non-zero status of 1.' },
        },
      ),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toContain(
      `error JOB_FAILED: vertex-ai job ${jobName} failed (JOB_STATE_FAILED): The replica workerpool0-0 exited with a non-zero status of 1.`,
    )
    expect(run.err).not.toContain('Publishing')
  })

  it('should fail with JOB_FAILED when the job was cancelled', async () => {
    server.use(
      http.post(`${base}/customJobs`, () => HttpResponse.json({ name: jobName, state: 'JOB_STATE_QUEUED' })),
      states({ state: 'JOB_STATE_CANCELLING' }, { state: 'JOB_STATE_CANCELLED' }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute }), '--publish'])
    expect(run.code).toBe(1)
    expect(run.err).toContain(`error JOB_FAILED: vertex-ai job ${jobName} was cancelled`)
    expect(run.err).not.toContain('Publishing')
  })

  it('should report credentials Google no longer accepts, before any job exists', async () => {
    const created: unknown[] = []
    server.use(
      http.post(`${base}/customJobs`, async ({ request }) => {
        created.push(await request.json())
        return HttpResponse.json(
          {
            error: {
              code: 401,
              message:
                'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
              status: 'UNAUTHENTICATED',
            },
          },
          { status: 401 },
        )
      }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Google did not accept the credentials to create custom job edgerec-train-\S+ \(expired, revoked or malformed\): .*invalid authentication credentials.*Refresh them/,
    )
    expect(run.err).not.toContain('submitted')
    expect(created).toHaveLength(1)
  })
})

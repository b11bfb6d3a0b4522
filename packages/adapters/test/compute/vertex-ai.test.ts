/**
 * VertexAiCompute over the REST transport (`fallback: true`) against msw, the request-interception
 * library Google's Node clients are tested with in the open: only a GCP project can run a custom
 * job, so these tests check the HTTP requests the adapter sends and how it maps responses.
 */
import { OAuth2Client } from 'google-auth-library'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CONTAINER_ENTRYPOINT } from '../../src/compute/container.js'
import { AdapterError } from '../../src/errors.js'
import { VertexAiCompute } from '../../src/gcp/compute.js'

const base = 'https://us-central1-aiplatform.googleapis.com/v1/projects/my-project/locations/us-central1'
const jobName = 'projects/my-project/locations/us-central1/customJobs/4242'
const server = setupServer()

function fakeAuth(): OAuth2Client {
  const auth = new OAuth2Client()
  auth.setCredentials({ access_token: 'test-access-token', expiry_date: Date.now() + 3_600_000 })
  return auth
}

const options = {
  projectId: 'my-project',
  location: 'us-central1',
  image: 'us-docker.pkg.dev/my-project/edgerec/trainer:1',
  serviceAccount: 'trainer@my-project.iam.gserviceaccount.com',
  baseOutputUri: 'gs://my-models/vertex',
}

describe('VertexAiCompute', () => {
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  it('should POST a CustomJob that runs the trainer image with config, env and output directory', async () => {
    const requests: Array<{ url: string; authorization: string | null; body: unknown }> = []
    server.use(
      http.post(`${base}/customJobs`, async ({ request }) => {
        requests.push({
          url: request.url,
          authorization: request.headers.get('authorization'),
          body: await request.json(),
        })
        return HttpResponse.json({ name: jobName, state: 'JOB_STATE_QUEUED' })
      }),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const handle = await compute.submit({
      name: 'nightly',
      config: { inline: { als: { factors: 64 } } },
      machine: { instanceType: 'n2-standard-16' },
      maxRuntimeSeconds: 3600,
      output: { provider: 'gcs', bucket: 'my-models' },
    })
    await compute.close()
    expect(handle).toMatchObject({
      provider: 'vertex-ai',
      id: jobName,
      output: { provider: 'gcs', bucket: 'my-models' },
    })
    expect(requests).toHaveLength(1)
    expect(requests[0]!.authorization).toBe('Bearer test-access-token')
    const body = requests[0]!.body as {
      displayName: string
      labels: Record<string, string>
      jobSpec: {
        workerPoolSpecs: Array<Record<string, unknown>>
        baseOutputDirectory: unknown
        serviceAccount: string
        scheduling: unknown
      }
    }
    expect(body.displayName).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(body.labels).toEqual({ edgerec: 'train' })
    expect(body.jobSpec.baseOutputDirectory).toEqual({ outputUriPrefix: 'gs://my-models/vertex' })
    expect(body.jobSpec.serviceAccount).toBe(options.serviceAccount)
    expect(body.jobSpec.scheduling).toEqual({ timeout: '3600s' })
    const pool = body.jobSpec.workerPoolSpecs[0]!
    expect(pool.machineSpec).toEqual({ machineType: 'n2-standard-16' })
    expect(String(pool.replicaCount)).toBe('1')
    expect(pool.containerSpec).toEqual({
      imageUri: options.image,
      command: [CONTAINER_ENTRYPOINT],
      args: ['train'],
      env: [
        { name: 'EDGEREC_CONFIG_JSON', value: '{"als":{"factors":64}}' },
        { name: 'EDGEREC_OUTPUT', value: '{"provider":"gcs","bucket":"my-models"}' },
      ],
    })
  })

  it('should follow a job from queued to succeeded, with states as strings or enum numbers', async () => {
    const states: Array<string | number> = ['JOB_STATE_QUEUED', 3, 'JOB_STATE_SUCCEEDED']
    server.use(
      http.get(`${base}/customJobs/4242`, () => HttpResponse.json({ name: jobName, state: states.shift() })),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const seen: string[] = []
    const final = await compute.wait(
      { provider: 'vertex-ai', id: jobName, submittedAt: new Date().toISOString() },
      { pollIntervalMs: 1, onStatus: (s) => seen.push(`${s.state}/${s.providerState}`) },
    )
    await compute.close()
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual([
      'pending/JOB_STATE_QUEUED',
      'running/JOB_STATE_RUNNING',
      'succeeded/JOB_STATE_SUCCEEDED',
    ])
  })

  it('should map a failed job to JOB_FAILED with its error message', async () => {
    server.use(
      http.get(`${base}/customJobs/4242`, () =>
        HttpResponse.json({
          name: jobName,
          state: 'JOB_STATE_FAILED',
          error: { code: 13, message: 'The replica workerpool0-0 exited with a non-zero status of 1.' },
        }),
      ),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const error = await compute
      .wait(
        { provider: 'vertex-ai', id: jobName, submittedAt: new Date().toISOString() },
        { pollIntervalMs: 1 },
      )
      .catch((e: unknown) => e)
    await compute.close()
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      message: expect.stringContaining('non-zero status of 1'),
    })
  })

  it('should map a job that failed with RESOURCE_EXHAUSTED to QUOTA_EXCEEDED', async () => {
    server.use(
      http.get(`${base}/customJobs/4242`, () =>
        HttpResponse.json({
          name: jobName,
          state: 'JOB_STATE_FAILED',
          error: {
            code: 8,
            message: 'Quota exceeded for aiplatform.googleapis.com/custom_model_training_cpus',
          },
        }),
      ),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const error = await compute
      .wait(
        { provider: 'vertex-ai', id: jobName, submittedAt: new Date().toISOString() },
        { pollIntervalMs: 1 },
      )
      .catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('custom_model_training_cpus'),
    })
  })

  it('should map an HTTP 429 RESOURCE_EXHAUSTED answer to the submission to QUOTA_EXCEEDED', async () => {
    server.use(
      http.post(`${base}/customJobs`, () =>
        HttpResponse.json(
          {
            error: {
              code: 429,
              message: 'Quota exceeded for quota metric custom training jobs.',
              status: 'RESOURCE_EXHAUSTED',
            },
          },
          { status: 429 },
        ),
      ),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const error = await compute.submit({}).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED' })
  })

  it('should map an HTTP 403 answer to AUTH', async () => {
    server.use(
      http.post(`${base}/customJobs`, () =>
        HttpResponse.json(
          {
            error: {
              code: 403,
              message: "Permission 'aiplatform.customJobs.create' denied",
              status: 'PERMISSION_DENIED',
            },
          },
          { status: 403 },
        ),
      ),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    const error = await compute.submit({}).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({ code: 'AUTH', message: expect.stringContaining('aiplatform.user') })
  })

  it('should cancel with POST :cancel', async () => {
    let cancelled = false
    server.use(
      http.post(`${base}/customJobs/4242:cancel`, () => {
        cancelled = true
        return HttpResponse.json({})
      }),
    )
    const compute = new VertexAiCompute({ ...options, authClient: fakeAuth() })
    await compute.cancel({ provider: 'vertex-ai', id: jobName, submittedAt: new Date().toISOString() })
    await compute.close()
    expect(cancelled).toBe(true)
  })
})

describe('VertexAiCompute without credentials', () => {
  const saved = { ...process.env }
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterAll(() => {
    server.close()
    process.env = { ...saved }
  })

  it('should report CREDENTIALS_MISSING from Application Default Credentials', async () => {
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS
    process.env.CLOUDSDK_CONFIG = '/nonexistent/edgerec/gcloud'
    // NOTE: skips the GCE metadata server probe, which would otherwise be the last link of the ADC chain.
    process.env.METADATA_SERVER_DETECTION = 'none'
    const compute = new VertexAiCompute(options)
    const error = await compute.submit({}).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({
      code: 'CREDENTIALS_MISSING',
      message: expect.stringContaining('application-default login'),
    })
  })
})

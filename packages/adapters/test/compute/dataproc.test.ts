/**
 * DataprocCompute over the REST transport (`fallback: true`) against msw, the request-interception
 * library Google's Node clients are tested with in the open (as the Vertex AI adapter is): only a
 * GCP project can run a Dataproc Serverless batch, so these tests check the HTTP requests the
 * adapter sends and how it maps responses.
 */
import { OAuth2Client } from 'google-auth-library'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCompute } from '../../src/config/create-compute.js'
import { DataprocCompute } from '../../src/dataproc/compute.js'
import { AdapterError } from '../../src/errors.js'

const base = 'https://europe-west1-dataproc.googleapis.com/v1/projects/my-project/locations/europe-west1'
const server = setupServer()

function fakeAuth(): OAuth2Client {
  const auth = new OAuth2Client()
  auth.setCredentials({ access_token: 'test-access-token', expiry_date: Date.now() + 3_600_000 })
  return auth
}

const options = {
  projectId: 'my-project',
  region: 'europe-west1',
  serviceAccount: 'spark@my-project.iam.gserviceaccount.com',
  subnetworkUri: 'projects/my-project/regions/europe-west1/subnetworks/default',
  sparkConf: { 'spark.executor.memory': '8g' },
}

const pyspark = {
  mainPythonFileUri: 'gs://staging/spark/run-1/edgerec_als.py',
  args: ['--input', 'gs://staging/spark/run-1/input', '--output', 'gs://staging/spark/run-1/output'],
}

const batchName = (id: string) => `projects/my-project/locations/europe-west1/batches/${id}`

describe('DataprocCompute', () => {
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }))
  afterEach(() => server.resetHandlers())
  afterAll(() => server.close())

  it('should POST a batch with the PySpark script, arguments, runtime, properties and service account', async () => {
    const requests: Array<{ url: string; authorization: string | null; body: unknown }> = []
    server.use(
      http.post(`${base}/batches`, async ({ request }) => {
        requests.push({
          url: request.url,
          authorization: request.headers.get('authorization'),
          body: await request.json(),
        })
        return HttpResponse.json({
          name: 'projects/my-project/regions/europe-west1/operations/op-1',
          metadata: {
            '@type': 'type.googleapis.com/google.cloud.dataproc.v1.BatchOperationMetadata',
            batch: batchName('x'),
          },
        })
      }),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const handle = await compute.submit({
      name: 'nightly',
      pyspark,
      maxRuntimeSeconds: 3600,
      output: { provider: 'gcs', bucket: 'staging' },
    })
    await compute.close()
    expect(requests).toHaveLength(1)
    const url = new URL(requests[0]!.url)
    const batchId = url.searchParams.get('batchId')!
    expect(batchId).toMatch(/^nightly-\d{14}-[0-9a-f]{4}$/)
    expect(handle).toMatchObject({
      provider: 'dataproc',
      id: batchName(batchId),
      output: { bucket: 'staging' },
    })
    expect(requests[0]!.authorization).toBe('Bearer test-access-token')
    expect(requests[0]!.body).toEqual({
      labels: { edgerec: 'train' },
      pysparkBatch: pyspark,
      runtimeConfig: { version: '2.2', properties: { 'spark.executor.memory': '8g' } },
      environmentConfig: {
        executionConfig: {
          serviceAccount: options.serviceAccount,
          subnetworkUri: options.subnetworkUri,
          ttl: '3600s',
        },
      },
    })
  })

  it('should be built by createCompute from a spark config', async () => {
    const compute = await createCompute({ provider: 'spark', platform: 'dataproc', ...options })
    expect(compute.provider).toBe('dataproc')
  })

  it('should follow a batch from pending to succeeded, with states as strings or enum numbers', async () => {
    const states: Array<string | number> = ['PENDING', 2, 'SUCCEEDED']
    server.use(
      http.get(`${base}/batches/b1`, () =>
        HttpResponse.json({ name: batchName('b1'), state: states.shift() }),
      ),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const seen: string[] = []
    const final = await compute.wait(
      { provider: 'dataproc', id: batchName('b1'), submittedAt: new Date().toISOString() },
      { pollIntervalMs: 1, onStatus: (s) => seen.push(`${s.state}/${s.providerState}`) },
    )
    await compute.close()
    expect(final.state).toBe('succeeded')
    expect(seen).toEqual(['pending/PENDING', 'running/RUNNING', 'succeeded/SUCCEEDED'])
  })

  it('should map a failed batch to JOB_FAILED with its state message', async () => {
    server.use(
      http.get(`${base}/batches/b1`, () =>
        HttpResponse.json({
          name: batchName('b1'),
          state: 'FAILED',
          stateMessage: 'Job failed with message [Py4JJavaError: An error occurred while calling o71.fit.]',
        }),
      ),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const error = await compute
      .wait(
        { provider: 'dataproc', id: batchName('b1'), submittedAt: new Date().toISOString() },
        { pollIntervalMs: 1 },
      )
      .catch((e: unknown) => e)
    await compute.close()
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('Py4JJavaError') })
  })

  it('should cancel the batch operation and report the batch cancelled', async () => {
    let cancelled = ''
    let state = 'RUNNING'
    server.use(
      http.get(`${base}/batches/b1`, () =>
        HttpResponse.json({
          name: batchName('b1'),
          state,
          operation: 'projects/my-project/regions/europe-west1/operations/op-1',
        }),
      ),
      http.post(
        'https://europe-west1-dataproc.googleapis.com/v1/projects/my-project/regions/europe-west1/operations/op-1:cancel',
        ({ request }) => {
          cancelled = request.url
          state = 'CANCELLED'
          return HttpResponse.json({})
        },
      ),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const handle = { provider: 'dataproc', id: batchName('b1'), submittedAt: new Date().toISOString() }
    await compute.cancel(handle)
    expect(cancelled).toContain('operations/op-1:cancel')
    const error = await compute.wait(handle, { pollIntervalMs: 1 }).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({ code: 'JOB_FAILED', message: expect.stringContaining('was cancelled') })
  })

  it('should map an HTTP 401 UNAUTHENTICATED answer (expired access token) to AUTH', async () => {
    server.use(
      http.post(`${base}/batches`, () =>
        HttpResponse.json(
          {
            error: {
              code: 401,
              message: 'Request had invalid authentication credentials. Expected OAuth 2 access token.',
              status: 'UNAUTHENTICATED',
            },
          },
          { status: 401 },
        ),
      ),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const error = await compute.submit({ pyspark }).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({
      code: 'AUTH',
      message: expect.stringContaining('expired, revoked or malformed'),
    })
  })

  it('should report expired credentials when the refresh token is refused', async () => {
    server.use(
      http.post('https://oauth2.googleapis.com/token', () =>
        HttpResponse.json(
          { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
          { status: 400 },
        ),
      ),
    )
    const auth = new OAuth2Client({ clientId: 'id', clientSecret: 'secret' })
    auth.setCredentials({ refresh_token: 'stale', access_token: 'old', expiry_date: Date.now() - 1000 })
    const compute = new DataprocCompute({ ...options, authClient: auth })
    const error = await compute.submit({ pyspark }).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({
      code: 'CREDENTIALS_MISSING',
      message: expect.stringMatching(/expired or revoked.*application-default login/),
    })
  })

  it('should map an HTTP 403 answer to AUTH naming the roles', async () => {
    server.use(
      http.post(`${base}/batches`, () =>
        HttpResponse.json(
          {
            error: {
              code: 403,
              message: "Permission 'dataproc.batches.create' denied",
              status: 'PERMISSION_DENIED',
            },
          },
          { status: 403 },
        ),
      ),
    )
    const compute = new DataprocCompute({ ...options, authClient: fakeAuth() })
    const error = await compute.submit({ pyspark }).catch((e: unknown) => e)
    await compute.close()
    expect(error).toMatchObject({ code: 'AUTH', message: expect.stringContaining('roles/dataproc.editor') })
  })
})

/**
 * `edgerec-train train` with `compute: { provider: 'spark', platform: 'dataproc' }`, through the CLI
 * entry: msw intercepts the real HTTP requests of `@google-cloud/dataproc`'s REST transport
 * (`fallback: true`, as the adapter's own test and the Vertex AI job test do) with Application
 * Default Credentials from a service-account key file; the staging bucket is the GCS JSON-API test
 * server shipped in `@edgerec/adapters/testing` (what `@google-cloud/storage` talks to), the events
 * and the model registry are on s3rver. The mocked `createBatch` "runs the batch" with
 * `runSparkJobHere` (no Spark runs here: it trains on the uploaded Parquet part files and saves
 * Spark-schema factors to the batch's output prefix); read-back, evaluation, int8 export, gate and
 * publish are the trainer's real code, as in a local run.
 */
import { fileURLToPath } from 'node:url'
import { createPublisher, createStorage, type GcsStorageConfig, listAll } from '@edgerec/adapters'
import { type GcsServerHandle, startGcsServer } from '@edgerec/adapters/testing'
import { parquetReadObjects } from 'hyparquet'
import { HttpResponse, http, passthrough } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type JobWorld, startJobWorld } from '../cloud/harness.test-helpers.js'
import { expectServiceAccountJwt, writeServiceAccountKey } from '../cloud/identity.test-helpers.js'
import { runSparkJobHere, sparkJobArgs } from './spark.test-helpers.js'

const project = 'acme-recs'
const region = 'europe-west1'
const base = `https://${region}-dataproc.googleapis.com/v1/projects/${project}/locations/${region}`
const compute = {
  provider: 'spark',
  platform: 'dataproc',
  projectId: project,
  region,
  serviceAccount: 'edgerec-spark@acme-recs.iam.gserviceaccount.com',
  subnetworkUri: `projects/${project}/regions/${region}/subnetworks/default`,
  runtimeVersion: '2.2',
  sparkConf: { 'spark.executor.instances': '4' },
}

describe('edgerec-train train on Spark (Dataproc Serverless)', () => {
  const server = setupServer(
    // s3rver (events, registry) and the GCS test server (staging) are real local servers.
    http.all(/^http:\/\/127\.0\.0\.1:\d+\//, () => passthrough()),
  )
  let world: JobWorld
  let gcs: GcsServerHandle
  let staging: GcsStorageConfig
  const savedCredentials = process.env.GOOGLE_APPLICATION_CREDENTIALS
  beforeAll(async () => {
    world = await startJobWorld()
    gcs = await startGcsServer(['acme-spark-staging'])
    staging = { provider: 'gcs', bucket: 'acme-spark-staging', projectId: project, apiEndpoint: gcs.endpoint }
    process.env.GOOGLE_APPLICATION_CREDENTIALS = await writeServiceAccountKey(world.dir)
    server.listen({ onUnhandledFrame: 'error' })
  })
  afterEach(() => server.resetHandlers())
  afterAll(async () => {
    server.close()
    if (savedCredentials === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS
    else process.env.GOOGLE_APPLICATION_CREDENTIALS = savedCredentials
    await gcs.stop()
    await world.stop()
  })

  /** The LRO that createBatch answers (the adapter does not wait on it; it polls getBatch). */
  const operation = (batch: string) =>
    HttpResponse.json({
      name: `projects/${project}/regions/${region}/operations/op-1`,
      metadata: {
        '@type': 'type.googleapis.com/google.cloud.dataproc.v1.BatchOperationMetadata',
        batch,
      },
    })

  /** GET batches/<id> answers these states in turn (the last one repeats); records each poll. */
  const states = (polled: string[], ...answers: Array<Record<string, unknown>>) => {
    let i = 0
    return http.get(`${base}/batches/:batch`, ({ request, params }) => {
      expectServiceAccountJwt(request.headers.get('authorization'))
      polled.push(String(params.batch))
      const answer = answers[Math.min(i, answers.length - 1)]!
      i += 1
      return HttpResponse.json({
        name: `projects/${project}/locations/${region}/batches/${String(params.batch)}`,
        ...answer,
      })
    })
  }

  it('should stage into GCS, create the batch with the full request, poll it, read the factors back, evaluate, gate and publish', async () => {
    const created: Array<{ url: string; authorization: string | null; body: Record<string, unknown> }> = []
    const polled: string[] = []
    server.use(
      http.post(`${base}/batches`, async ({ request }) => {
        const body = (await request.json()) as { pysparkBatch: { args: string[] } }
        created.push({ url: request.url, authorization: request.headers.get('authorization'), body })
        await runSparkJobHere(staging, body.pysparkBatch.args)
        const batchId = new URL(request.url).searchParams.get('batchId')
        return operation(`projects/${project}/locations/${region}/batches/${batchId}`)
      }),
      states(polled, { state: 'PENDING' }, { state: 'RUNNING' }, { state: 'SUCCEEDED' }),
    )
    const publish = {
      provider: 'local' as const,
      workerConfig: fileURLToPath(new URL('../../../edge-worker/wrangler.jsonc', import.meta.url)),
      persistTo: `${world.dir}/state-dataproc`,
    }
    const config = await world.writeConfig({
      // Parts of 250 rows: the inputs span several part files (compute.partRows).
      compute: { ...compute, staging, partRows: 250 },
      publish,
      evaluation: { split: 'random', k: 5 },
    })
    const run = await world.cli(['train', '--config', config, '--json', '--publish', '--force'])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)

    // One createBatch: parent (project, region) in the path, batch id in the query, the whole body.
    expect(created).toHaveLength(1)
    expectServiceAccountJwt(created[0]!.authorization)
    const url = new URL(created[0]!.url)
    expect(`${url.origin}${url.pathname}`).toBe(`${base}/batches`)
    const batchId = url.searchParams.get('batchId')!
    expect(batchId).toMatch(/^edgerec-spark-\d{14}-[0-9a-f]{4}$/)
    const body = created[0]!.body as { pysparkBatch: { mainPythonFileUri: string } }
    const prefix =
      /^(gs:\/\/acme-spark-staging\/spark\/edgerec-spark-\d{14}-[0-9a-f]{4}\/)edgerec_als\.py$/.exec(
        body.pysparkBatch.mainPythonFileUri,
      )?.[1]
    expect(prefix).toBeDefined()
    expect(body).toEqual({
      labels: { edgerec: 'train' },
      pysparkBatch: {
        mainPythonFileUri: `${prefix}edgerec_als.py`,
        args: sparkJobArgs(prefix!, { rank: 4, maxIter: 2 }),
      },
      runtimeConfig: { version: '2.2', properties: { 'spark.executor.instances': '4' } },
      environmentConfig: {
        executionConfig: {
          serviceAccount: compute.serviceAccount,
          subnetworkUri: compute.subnetworkUri,
          ttl: '14400s',
        },
      },
    })
    // Polled the batch createBatch made until it succeeded.
    expect(polled).toEqual([batchId, batchId, batchId])
    expect(run.err).toMatch(/pending \(PENDING\)\n/)
    expect(run.err).toMatch(/running \(RUNNING\)\n/)
    expect(run.err).toMatch(/succeeded \(SUCCEEDED\)\n/)

    // The inputs (Parquet part files), the script and the factors are in the GCS staging bucket.
    const bucket = await createStorage(staging)
    const run_ = prefix!.slice('gs://acme-spark-staging/'.length)
    // Every part file read back: 250 rows each but the last, together the pairs in row order.
    let files = 0
    for (const directory of ['interactions', 'train']) {
      const parts = (await listAll(bucket, `${run_}input/${directory}/`)).map((o) => o.key)
      expect(parts.length).toBeGreaterThan(1)
      expect(parts).toEqual(parts.map((_, p) => `${run_}input/${directory}/part-0000${p}.parquet`))
      const rows: Record<string, unknown>[] = []
      for (const [p, key] of parts.entries()) {
        const part = await parquetReadObjects({
          file: (await bucket.get(key))!.slice().buffer as ArrayBuffer,
        })
        expect(Object.keys(part[0]!).sort()).toEqual(['item', 'rating', 'user'])
        if (p < parts.length - 1) expect(part).toHaveLength(250)
        else expect(part.length).toBeGreaterThan(0)
        expect(part.length).toBeLessThanOrEqual(250)
        rows.push(...part)
      }
      const pairs = rows.map((r) => [Number(r.user), Number(r.item)] as const)
      for (let k = 1; k < pairs.length; k++) {
        const [u0, i0] = pairs[k - 1]!
        const [u1, i1] = pairs[k]!
        expect(u1 > u0 || (u1 === u0 && i1 > i0)).toBe(true)
      }
      files += parts.length
    }
    expect(run.err).toContain(`Uploaded ${files} Parquet part files`)
    expect(await bucket.head(`${run_}edgerec_als.py`)).toBeDefined()
    expect((await listAll(bucket, `${run_}output/all/itemFactors/`)).length).toBeGreaterThanOrEqual(2)

    const result = JSON.parse(run.out) as {
      version: string
      manifest: { dims: number; evaluation: { k: number }; gate?: unknown }
      spark: { job: { provider: string; id: string }; url: string; staging: string }
      published: { pointer: { version: string } }
    }
    expect(result.spark.job).toMatchObject({
      provider: 'dataproc',
      id: `projects/${project}/locations/${region}/batches/${batchId}`,
    })
    expect(result.spark.staging).toBe(prefix)
    expect(result.spark.url).toBe(
      `https://console.cloud.google.com/dataproc/batches/${region}/${batchId}?project=${project}`,
    )
    expect(run.err).toContain(`Console: ${result.spark.url}`)
    expect(run.err).toMatch(/ndcg@5: ALS \d\.\d{4}, ALS int8 \d\.\d{4}, popularity \d\.\d{4}/)
    expect(result.manifest.dims).toBe(4)
    expect(result.manifest.evaluation.k).toBe(5)
    expect(result.manifest.gate).toBeDefined()
    expect(result.published.pointer.version).toBe(result.version)
    const publisher = await createPublisher(publish)
    try {
      expect((await publisher.live())?.version).toBe(result.version)
    } finally {
      await publisher.close()
    }
  })

  it('should fail with JOB_FAILED and the batch state message, write no version and publish nothing', async () => {
    const polled: string[] = []
    server.use(
      http.post(`${base}/batches`, ({ request }) =>
        operation(
          `projects/${project}/locations/${region}/batches/${new URL(request.url).searchParams.get('batchId')}`,
        ),
      ),
      states(
        polled,
        { state: 'RUNNING' },
        {
          state: 'FAILED',
          stateMessage: 'Job failed with message [Py4JJavaError: An error occurred while calling o71.fit.]',
        },
      ),
    )
    const registry = await createStorage(world.registry)
    const before = (await listAll(registry, 'models/')).length
    const run = await world.cli([
      'train',
      '--config',
      await world.writeConfig({ compute: { ...compute, staging } }),
      '--publish',
    ])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error JOB_FAILED: dataproc job projects\/acme-recs\/locations\/europe-west1\/batches\/edgerec-spark-\d{14}-[0-9a-f]{4} failed \(FAILED\): Job failed with message \[Py4JJavaError/,
    )
    expect(polled).toHaveLength(2)
    expect(run.err).not.toContain('Publishing')
    expect(run.out).toBe('')
    expect((await listAll(registry, 'models/')).length).toBe(before)
  })

  it('should say the credentials were refused when Dataproc answers 401, and poll nothing', async () => {
    const polled: string[] = []
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
      states(polled, { state: 'RUNNING' }),
    )
    const run = await world.cli([
      'train',
      '--config',
      await world.writeConfig({ compute: { ...compute, staging } }),
    ])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Google did not accept the credentials to create batch edgerec-spark-.*expired, revoked or malformed/,
    )
    expect(polled).toEqual([])
    expect(run.out).toBe('')
  })

  it('should refuse a staging bucket Dataproc cannot read (s3) before calling Dataproc', async () => {
    const calls: string[] = []
    server.use(
      http.all(/dataproc\.googleapis\.com/, ({ request }) => {
        calls.push(request.url)
        return HttpResponse.json({}, { status: 500 })
      }),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error CONFIG_INVALID: compute 'spark' \(dataproc\) trains in a Spark job that reads its inputs from a bucket it can reach \(gcs\), but the model registry \(storage\) is 's3'/,
    )
    expect(run.err).not.toContain('Reading')
    expect(calls).toEqual([])
  })
})

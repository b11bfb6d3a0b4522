/**
 * `edgerec-train train` with `compute: { provider: 'spark', platform: 'databricks' }`, through the CLI
 * entry: msw stands in for the Databricks workspace (there is no official JavaScript SDK for the Jobs
 * API; the adapter calls its REST API with fetch), s3rver is the staging bucket and the model
 * registry. The mocked `runs/submit` "runs the job" with `runSparkJobHere` (no Spark runs here); the
 * read-back, evaluation, int8 export and gate are the trainer's real code.
 */
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type JobWorld, startJobWorld } from '../cloud/harness.test-helpers.js'
import { runSparkJobHere, sparkJobArgs } from './spark.test-helpers.js'

const host = 'https://dbc-1234.cloud.databricks.com'
const compute = {
  provider: 'spark',
  platform: 'databricks',
  host,
  tokenEnv: 'EDGEREC_TEST_DATABRICKS_TOKEN',
  nodeTypeId: 'i3.xlarge',
  numWorkers: 2,
}

describe('edgerec-train train on Spark (Databricks)', () => {
  // s3rver (127.0.0.1) is real and passes through; anything else on the workspace host is refused.
  const server = setupServer()
  let world: JobWorld
  beforeAll(async () => {
    world = await startJobWorld()
    process.env.EDGEREC_TEST_DATABRICKS_TOKEN = 'dapi-test-token'
    server.listen({ onUnhandledFrame: 'bypass' })
  })
  afterAll(async () => {
    server.close()
    delete process.env.EDGEREC_TEST_DATABRICKS_TOKEN
    await world.stop()
  })

  it('should submit the PySpark task with the staged inputs, follow runs/get and export the factors', async () => {
    const submitted: Array<{ authorization: string | null; body: Record<string, unknown> }> = []
    // The first runs/get is the adapter reading run_page_url right after runs/submit.
    const states = ['PENDING', 'PENDING', 'RUNNING', 'TERMINATED']
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/submit`, async ({ request }) => {
        const body = (await request.json()) as {
          tasks: Array<{ spark_python_task: { parameters: string[] } }>
        }
        submitted.push({ authorization: request.headers.get('authorization'), body })
        await runSparkJobHere(world.registry, body.tasks[0]!.spark_python_task.parameters)
        return HttpResponse.json({ run_id: 9001 })
      }),
      http.get(`${host}/api/2.1/jobs/runs/get`, () => {
        const life = states.length > 1 ? states.shift()! : states[0]!
        return HttpResponse.json({
          run_id: 9001,
          job_id: 77,
          run_page_url: `${host}/?o=1234567890#job/77/run/9001`,
          state: { life_cycle_state: life, ...(life === 'TERMINATED' ? { result_state: 'SUCCESS' } : {}) },
        })
      }),
      http.all(`${host}/*`, ({ request }) =>
        HttpResponse.json({ message: `unexpected ${request.method} ${request.url}` }, { status: 500 }),
      ),
    )
    const config = await world.writeConfig({ compute, evaluation: { split: 'random', k: 5 } })
    const run = await world.cli(['train', '--config', config, '--json', '--force'])
    expect(run.err).not.toContain('error ')
    expect(run.code).toBe(0)
    expect(submitted).toHaveLength(1)
    expect(submitted[0]!.authorization).toBe('Bearer dapi-test-token')
    const body = submitted[0]!.body as {
      run_name: string
      tasks: Array<{ spark_python_task: { python_file: string; parameters: string[] } }>
    }
    const prefix = /^(s3:\/\/models\/spark\/edgerec-spark-\d{14}-[0-9a-f]{4}\/)edgerec_als\.py$/.exec(
      body.tasks[0]!.spark_python_task.python_file,
    )?.[1]
    expect(prefix).toBeDefined()
    expect(body).toEqual({
      run_name: body.run_name,
      timeout_seconds: 14_400,
      tasks: [
        {
          task_key: 'edgerec_als',
          spark_python_task: {
            python_file: `${prefix}edgerec_als.py`,
            parameters: sparkJobArgs(prefix!, { rank: 4, maxIter: 2 }),
          },
          new_cluster: {
            spark_version: '15.4.x-scala2.12',
            node_type_id: 'i3.xlarge',
            num_workers: 2,
            custom_tags: { edgerec: 'train' },
          },
        },
      ],
    })
    expect(run.err).toContain(`Job 9001 submitted. Console: ${host}/?o=1234567890#job/77/run/9001`)
    expect(run.err).toMatch(/pending \(PENDING\)\n/)
    expect(run.err).toMatch(/running \(RUNNING\)\n/)
    expect(run.err).toMatch(/succeeded \(TERMINATED\/SUCCESS\)\n/)
    const result = JSON.parse(run.out) as { manifest: { dims: number; evaluation: { k: number } } }
    expect(result.manifest.dims).toBe(4)
    expect(result.manifest.evaluation.k).toBe(5)
  })

  it('should say the token expired on HTTP 401 and write nothing', async () => {
    server.use(
      http.post(`${host}/api/2.1/jobs/runs/submit`, () =>
        HttpResponse.json({ error_code: 'UNAUTHENTICATED', message: 'Token is expired.' }, { status: 401 }),
      ),
    )
    const run = await world.cli(['train', '--config', await world.writeConfig({ compute })])
    expect(run.code).toBe(1)
    expect(run.err).toMatch(
      /error AUTH: Databricks did not accept the token .*expired.*EDGEREC_TEST_DATABRICKS_TOKEN/,
    )
    expect(run.out).toBe('')
  })
})

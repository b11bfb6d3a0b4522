/**
 * The provider parts of examples/{aws,gcp,azure} must pass validation and build their compute.
 */
import { describe, expect, it } from 'vitest'
import { createCompute } from '../../src/config/create-compute.js'
import {
  validateComputeConfig,
  validatePublishConfig,
  validateStorageConfig,
} from '../../src/config/validate.js'

interface ExampleProviders {
  storage: unknown
  compute: unknown
  publish: unknown
}

// NOTE: imported by path at run time; the examples are type-checked by examples/tsconfig.cloud.json.
const load = async (name: string): Promise<ExampleProviders> =>
  (await import(
    /* @vite-ignore */ new URL(`../../../../examples/${name}/providers.ts`, import.meta.url).href
  )) as ExampleProviders
const [aws, gcp, azure] = await Promise.all(['aws', 'gcp', 'azure'].map(load))

describe.each([
  ['aws', aws!, 's3', 'sagemaker'],
  ['gcp', gcp!, 'gcs', 'vertex-ai'],
  ['azure', azure!, 'azure-blob', 'azure-ml'],
])('examples/%s', (_name, example, storageProvider, computeProvider) => {
  it('should hold valid storage, compute and publish configs', () => {
    expect(validateStorageConfig(example.storage).provider).toBe(storageProvider)
    expect(validateComputeConfig(example.compute).provider).toBe(computeProvider)
    expect(validatePublishConfig(example.publish).provider).toBe('cloudflare')
  })

  it('should build its cloud compute', async () => {
    const compute = await createCompute(validateComputeConfig(example.compute))
    expect(compute.provider).toBe(computeProvider)
  })
})

describe('examples/spark', () => {
  const load = async () =>
    (await import(
      /* @vite-ignore */ new URL('../../../../examples/spark/providers.ts', import.meta.url).href
    )) as Record<'storage' | 'emrServerless' | 'dataproc' | 'databricks', unknown>

  it.each(['emrServerless', 'dataproc', 'databricks'] as const)(
    'should hold a valid Spark compute for %s and build it',
    async (name) => {
      const spark = await load()
      expect(validateStorageConfig(spark.storage).provider).toBe('s3')
      const config = validateComputeConfig(spark[name])
      expect(config.provider).toBe('spark')
      const compute = await createCompute(config)
      expect(compute.provider).toBe(
        { emrServerless: 'emr-serverless', dataproc: 'dataproc', databricks: 'databricks' }[name],
      )
    },
  )
})

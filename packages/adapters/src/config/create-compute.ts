import type { Compute } from '../compute/compute.js'
import { loadProvider } from './load-provider.js'
import type { ComputeConfig, SparkComputeConfig } from './types.js'
import { validateComputeConfig } from './validate.js'

/** SDK packages each compute provider needs (optional peer dependencies). */
export const COMPUTE_SDKS: Record<ComputeConfig['provider'], readonly string[]> = {
  local: [],
  sagemaker: ['@aws-sdk/client-sagemaker'],
  'vertex-ai': ['@google-cloud/aiplatform', 'google-auth-library'],
  'azure-ml': ['@azure/arm-machinelearning', '@azure/identity'],
  spark: ['@aws-sdk/client-emr-serverless', '@google-cloud/dataproc', 'google-auth-library'],
}

/** SDK packages each Spark platform needs (Databricks: REST over fetch, no SDK). */
export const SPARK_SDKS: Record<SparkComputeConfig['platform'], readonly string[]> = {
  'emr-serverless': ['@aws-sdk/client-emr-serverless'],
  dataproc: ['@google-cloud/dataproc', 'google-auth-library'],
  databricks: [],
}

/**
 * Validates a compute config and builds the compute; only the chosen provider's module loads.
 * The default (`undefined`) is local compute.
 *
 * @example
 * ```ts
 * const compute = await createCompute({ provider: 'vertex-ai', projectId: 'p', location: 'us-central1', image })
 * ```
 */
export async function createCompute(input: ComputeConfig = { provider: 'local' }): Promise<Compute> {
  const config = validateComputeConfig(input)
  const { provider: _provider, ...options } = config
  const load = <T>(fn: () => Promise<T>): Promise<T> =>
    loadProvider('compute', config.provider, COMPUTE_SDKS[config.provider], fn)
  switch (config.provider) {
    case 'local': {
      const { LocalCompute } = await load(() => import('../local/compute.js'))
      return new LocalCompute(options as Omit<typeof config, 'provider'>)
    }
    case 'sagemaker': {
      const { SageMakerCompute } = await load(() => import('../aws/compute.js'))
      return new SageMakerCompute(options as Omit<typeof config, 'provider'>)
    }
    case 'vertex-ai': {
      const { VertexAiCompute } = await load(() => import('../gcp/compute.js'))
      return new VertexAiCompute(options as Omit<typeof config, 'provider'>)
    }
    case 'azure-ml': {
      const { AzureMlCompute } = await load(() => import('../azure/compute.js'))
      return new AzureMlCompute(options as Omit<typeof config, 'provider'>)
    }
    case 'spark': {
      const { platform, ...spark } = options as Omit<SparkComputeConfig, 'provider'>
      const loadSpark = <T>(fn: () => Promise<T>): Promise<T> =>
        loadProvider('compute', `spark (${platform})`, SPARK_SDKS[platform], fn)
      switch (platform) {
        case 'emr-serverless': {
          const { EmrServerlessCompute } = await loadSpark(() => import('../emr-serverless/compute.js'))
          return new EmrServerlessCompute(
            spark as Omit<typeof config & { platform: typeof platform }, 'provider' | 'platform'>,
          )
        }
        case 'dataproc': {
          const { DataprocCompute } = await loadSpark(() => import('../dataproc/compute.js'))
          return new DataprocCompute(
            spark as Omit<typeof config & { platform: typeof platform }, 'provider' | 'platform'>,
          )
        }
        case 'databricks': {
          const { DatabricksCompute } = await loadSpark(() => import('../databricks/compute.js'))
          return new DatabricksCompute(
            spark as Omit<typeof config & { platform: typeof platform }, 'provider' | 'platform'>,
          )
        }
      }
    }
  }
}

import type { ComputeConfig, JobHandle } from '@edgerec/adapters'

/**
 * The web console page of a cloud training job or Spark job, or `undefined` when it cannot be
 * built (a SageMaker or EMR Serverless job with no region in the config or the environment).
 *
 * @example
 * ```ts
 * consoleUrl({ provider: 'sagemaker', region: 'eu-west-1', … }, handle)
 * // https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/edgerec-train-20261203…
 * ```
 */
export function consoleUrl(
  compute: Exclude<ComputeConfig, { provider: 'local' }>,
  handle: JobHandle,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const id = encodeURIComponent(handle.id)
  switch (compute.provider) {
    case 'sagemaker': {
      const region = compute.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
      if (!region) return undefined
      return `https://${region}.console.aws.amazon.com/sagemaker/home?region=${region}#/jobs/${id}`
    }
    case 'vertex-ai': {
      // handle.id is the resource name projects/<p>/locations/<l>/customJobs/<job id>.
      const jobId = handle.id.split('/').at(-1) ?? handle.id
      return `https://console.cloud.google.com/vertex-ai/locations/${compute.location}/training/${encodeURIComponent(jobId)}/cpu?project=${encodeURIComponent(compute.projectId)}`
    }
    case 'spark':
      switch (compute.platform) {
        case 'emr-serverless': {
          const region = compute.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
          if (!region) return undefined
          return `https://${region}.console.aws.amazon.com/emr/home?region=${region}#/serverless-applications/${encodeURIComponent(compute.applicationId)}/job-runs/${id}`
        }
        case 'dataproc': {
          // handle.id is the resource name projects/<p>/locations/<region>/batches/<batch id>.
          const batchId = handle.id.split('/').at(-1) ?? handle.id
          return `https://console.cloud.google.com/dataproc/batches/${compute.region}/${encodeURIComponent(batchId)}/monitoring?project=${encodeURIComponent(compute.projectId)}`
        }
        case 'databricks':
          return `${compute.host.replace(/\/+$/, '')}/jobs/runs/${id}`
      }
      return undefined
    case 'azure-ml': {
      const workspace = `/subscriptions/${compute.subscriptionId}/resourceGroups/${compute.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${compute.workspace}`
      return `https://ml.azure.com/runs/${id}?wsid=${encodeURIComponent(workspace)}`
    }
  }
}

import type { ComputeConfig, JobHandle } from '@edgerec/adapters'

/**
 * The web console page of a cloud training job or Spark job, or `undefined` when it cannot be
 * built (a SageMaker or EMR Serverless job with no region in the config or the environment, a
 * Databricks run whose `runs/get` reported no page).
 *
 * Each format was checked against what the vendor itself publishes or prints (cited per case
 * below), not opened in a signed-in console. Where the provider's API returns the page
 * ({@link JobHandle.url}: Databricks `run_page_url`), that is used as is.
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
  if (handle.url) return handle.url
  const id = encodeURIComponent(handle.id)
  switch (compute.provider) {
    case 'sagemaker': {
      // The training job's page in the SageMaker console. AWS documents no URL scheme for it; this
      // is the form AWS's console uses for Training → Training jobs → <name>, and the one tools
      // print after CreateTrainingJob (e.g. wandb's SageMaker launcher,
      // https://github.com/wandb/wandb, `wandb/sdk/launch/runner/sagemaker_runner.py`).
      const region = compute.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
      if (!region) return undefined
      return `https://${region}.console.aws.amazon.com/sagemaker/home?region=${region}#/jobs/${id}`
    }
    case 'vertex-ai': {
      // handle.id is the resource name projects/<p>/locations/<l>/customJobs/<job id>. The
      // dashboard URI Google's Vertex AI SDK builds for a custom job (google-cloud-aiplatform,
      // https://github.com/googleapis/python-aiplatform, `google/cloud/aiplatform/jobs.py`,
      // `_Job._dashboard_uri` with `CustomJob._job_type = "training"`).
      const jobId = handle.id.split('/').at(-1) ?? handle.id
      return `https://console.cloud.google.com/ai/platform/locations/${compute.location}/training/${encodeURIComponent(jobId)}?project=${encodeURIComponent(compute.projectId)}`
    }
    case 'spark':
      switch (compute.platform) {
        case 'emr-serverless': {
          // The job run in the EMR console's EMR Serverless pages. AWS documents no URL scheme for
          // it (its user guide sends you to EMR Studio, whose host is per studio; the Spark UI link
          // of GetDashboardForJobRun expires after an hour), so this is the console form tools
          // print after StartJobRun; check it against your console.
          const region = compute.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
          if (!region) return undefined
          return `https://${region}.console.aws.amazon.com/emr/home?region=${region}#/serverless-applications/${encodeURIComponent(compute.applicationId)}/job-runs/${id}`
        }
        case 'dataproc': {
          // handle.id is the resource name projects/<p>/locations/<region>/batches/<batch id>. The
          // link Dataproc itself writes into a failed batch's stateMessage ("Additional details
          // can be found at: https://console.cloud.google.com/dataproc/batches/<region>/<batch>?project=<p>",
          // as `gcloud dataproc batches describe` shows it).
          const batchId = handle.id.split('/').at(-1) ?? handle.id
          return `https://console.cloud.google.com/dataproc/batches/${compute.region}/${encodeURIComponent(batchId)}?project=${encodeURIComponent(compute.projectId)}`
        }
        case 'databricks':
          // Only the run's own run_page_url (Jobs API 2.1 runs/get: "The URL to the detail page of
          // the run", e.g. https://<host>/?o=<workspace id>#job/<job id>/run/<run id>), set on the
          // handle by the adapter; the workspace UI's paths are not documented otherwise.
          return undefined
      }
      return undefined
    case 'azure-ml': {
      // The job's page in Azure ML studio in the form Azure ML reports it (the job's Studio service
      // endpoint, azure-ai-ml's `Job.studio_url`, "Web View:" in the SDK's output):
      // https://ml.azure.com/runs/<job name>?wsid=/subscriptions/<s>/resourcegroups/<rg>/workspaces/<ws>.
      const workspace = `/subscriptions/${compute.subscriptionId}/resourcegroups/${compute.resourceGroup}/workspaces/${compute.workspace}`
      return `https://ml.azure.com/runs/${id}?wsid=${workspace}`
    }
  }
}

import { describe, expect, it } from 'vitest'
import { consoleUrl } from './console-url.js'

const handle = (id: string) => ({ provider: 'x', id, submittedAt: '2026-12-03T12:00:00.000Z' })

describe('consoleUrl for Spark jobs', () => {
  it('should link an EMR Serverless job run, with the region from the config or the environment', () => {
    const compute = {
      provider: 'spark' as const,
      platform: 'emr-serverless' as const,
      applicationId: '00fabc1234567890',
      executionRoleArn: 'arn:aws:iam::123456789012:role/r',
    }
    expect(consoleUrl(compute, handle('00fjob'), { AWS_REGION: 'us-east-2' })).toBe(
      'https://us-east-2.console.aws.amazon.com/emr/home?region=us-east-2#/serverless-applications/00fabc1234567890/job-runs/00fjob',
    )
    expect(consoleUrl(compute, handle('00fjob'), {})).toBeUndefined()
  })

  it('should link a Dataproc batch by its id and project', () => {
    const compute = {
      provider: 'spark' as const,
      platform: 'dataproc' as const,
      projectId: 'p',
      region: 'europe-west1',
    }
    expect(consoleUrl(compute, handle('projects/p/locations/europe-west1/batches/edgerec-spark-1'), {})).toBe(
      'https://console.cloud.google.com/dataproc/batches/europe-west1/edgerec-spark-1?project=p',
    )
  })

  it('should link a Databricks run by the run_page_url runs/get reported, and not guess one', () => {
    const compute = {
      provider: 'spark' as const,
      platform: 'databricks' as const,
      host: 'https://dbc-1.cloud.databricks.com/',
      nodeTypeId: 'i3.xlarge',
    }
    const page = 'https://dbc-1.cloud.databricks.com/?o=1234567890#job/55/run/7001'
    expect(consoleUrl(compute, { ...handle('7001'), url: page }, {})).toBe(page)
    expect(consoleUrl(compute, handle('7001'), {})).toBeUndefined()
  })
})

describe('consoleUrl for cloud training jobs', () => {
  it('should link a SageMaker training job in its region, and nothing without one', () => {
    const compute = {
      provider: 'sagemaker' as const,
      image: 'i',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      instanceType: 'ml.m5.xlarge',
      outputS3Uri: 's3://b/jobs',
    }
    expect(consoleUrl({ ...compute, region: 'eu-west-1' }, handle('edgerec-train-1'), {})).toBe(
      'https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/edgerec-train-1',
    )
    expect(consoleUrl(compute, handle('edgerec-train-1'), {})).toBeUndefined()
  })

  it("should link a Vertex AI custom job as Google's Vertex AI SDK does", () => {
    const compute = {
      provider: 'vertex-ai' as const,
      projectId: 'acme-recs',
      location: 'europe-west4',
      image: 'i',
      machineType: 'n2-standard-8',
    }
    expect(consoleUrl(compute, handle('projects/acme-recs/locations/europe-west4/customJobs/4242'), {})).toBe(
      'https://console.cloud.google.com/ai/platform/locations/europe-west4/training/4242?project=acme-recs',
    )
  })

  it('should link an Azure ML job in studio with its workspace id, as Azure ML reports it', () => {
    const compute = {
      provider: 'azure-ml' as const,
      subscriptionId: '00000000-0000-4000-8000-000000000000',
      resourceGroup: 'ml-rg',
      workspace: 'ml-ws',
      computeName: 'cpu',
      environmentId: 'azureml:e:1',
    }
    expect(consoleUrl(compute, handle('bright_job_1'), {})).toBe(
      'https://ml.azure.com/runs/bright_job_1?wsid=/subscriptions/00000000-0000-4000-8000-000000000000/resourcegroups/ml-rg/workspaces/ml-ws',
    )
  })
})

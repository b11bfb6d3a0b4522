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
      'https://console.cloud.google.com/dataproc/batches/europe-west1/edgerec-spark-1/monitoring?project=p',
    )
  })

  it('should link a Databricks run on the workspace host', () => {
    const compute = {
      provider: 'spark' as const,
      platform: 'databricks' as const,
      host: 'https://dbc-1.cloud.databricks.com/',
      nodeTypeId: 'i3.xlarge',
    }
    expect(consoleUrl(compute, handle('7001'), {})).toBe('https://dbc-1.cloud.databricks.com/jobs/runs/7001')
  })
})

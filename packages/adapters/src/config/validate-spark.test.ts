import { describe, expect, it } from 'vitest'
import { AdapterError } from '../errors.js'
import { providerConfigProblems, SPARK_PART_ROWS, validateComputeConfig } from './validate.js'

const emr = {
  provider: 'spark',
  platform: 'emr-serverless',
  applicationId: '00fabc1234567890',
  executionRoleArn: 'arn:aws:iam::123456789012:role/edgerec-spark',
}

describe('spark compute config validation', () => {
  it('should accept each platform with its required fields', () => {
    expect(providerConfigProblems('compute', emr)).toEqual([])
    expect(
      providerConfigProblems('compute', {
        provider: 'spark',
        platform: 'dataproc',
        projectId: 'p',
        region: 'europe-west1',
        serviceAccount: 'spark@p.iam.gserviceaccount.com',
        staging: { provider: 'gcs', bucket: 'staging', prefix: 'edgerec' },
        sparkConf: { 'spark.executor.memory': '8g' },
      }),
    ).toEqual([])
    expect(
      providerConfigProblems('compute', {
        provider: 'spark',
        platform: 'databricks',
        host: 'https://dbc-1234.cloud.databricks.com',
        nodeTypeId: 'i3.xlarge',
        numWorkers: 4,
      }),
    ).toEqual([])
  })

  it('should name the platforms when the platform is missing or unknown', () => {
    expect(providerConfigProblems('compute', { provider: 'spark' })).toEqual([
      "compute.platform must be one of 'emr-serverless', 'dataproc', 'databricks' for provider 'spark'; got undefined.",
    ])
    expect(providerConfigProblems('compute', { provider: 'spark', platform: 'hdinsight' })[0]).toContain(
      'got "hdinsight"',
    )
  })

  it('should name missing and malformed platform fields', () => {
    expect(providerConfigProblems('compute', { provider: 'spark', platform: 'emr-serverless' })).toEqual([
      "compute.applicationId is required for provider 'spark'.",
      "compute.executionRoleArn is required for provider 'spark'.",
    ])
    expect(
      providerConfigProblems('compute', { ...emr, applicationId: 'APP', sparkConf: { 'spark.x': 1 } }),
    ).toEqual([
      'compute.sparkConf must be an object of string values for provider \'spark\'; got {"spark.x":1}.',
      'compute.applicationId must be an EMR Serverless application id (16 lowercase letters and digits) for provider \'spark\'; got "APP".',
    ])
    expect(
      providerConfigProblems('compute', {
        provider: 'spark',
        platform: 'databricks',
        host: 'https://x.cloud.databricks.com',
      }),
    ).toEqual([
      "compute.nodeTypeId (e.g. 'i3.xlarge') or compute.existingClusterId is required for Spark on databricks.",
    ])
  })

  it('should accept compute.partRows within its bounds and name the bounds otherwise', () => {
    for (const partRows of [SPARK_PART_ROWS.min, 250_000, SPARK_PART_ROWS.max])
      expect(providerConfigProblems('compute', { ...emr, partRows })).toEqual([])
    expect(providerConfigProblems('compute', { ...emr, partRows: 1 })).toEqual([
      'compute.partRows must be between 100 and 50,000,000 rows per staged Parquet part file; got 1. Leave it out for the default 1,000,000.',
    ])
    expect(providerConfigProblems('compute', { ...emr, partRows: 60_000_000 })[0]).toContain('got 60000000')
    expect(providerConfigProblems('compute', { ...emr, partRows: 2.5 })).toEqual([
      "compute.partRows must be a positive integer for provider 'spark'; got 2.5.",
    ])
    expect(providerConfigProblems('compute', { ...emr, partRows: '1e6' })).toEqual([
      'compute.partRows must be a number for provider \'spark\'; got "1e6".',
    ])
    expect(() => validateComputeConfig({ ...emr, partRows: 0 })).toThrow(AdapterError)
  })

  it('should refuse staging the platform cannot read, and check the nested storage config', () => {
    expect(providerConfigProblems('compute', { ...emr, staging: { provider: 'gcs', bucket: 'b' } })).toEqual([
      "compute.staging.provider must be 's3' for Spark on emr-serverless (the job reads its inputs there); got 'gcs'.",
    ])
    expect(providerConfigProblems('compute', { ...emr, staging: { provider: 's3' } })).toEqual([
      "compute.staging.bucket is required for provider 's3'.",
    ])
    expect(
      providerConfigProblems('compute', {
        provider: 'spark',
        platform: 'databricks',
        host: 'https://adb-1.azuredatabricks.net',
        existingClusterId: '0101-abc',
        staging: { provider: 'azure-blob', container: 'staging' },
      }),
    ).toEqual([
      'compute.staging.accountUrl is required for an azure-blob staging container: the Databricks job reads it as abfss://<container>@<account>.dfs.core.windows.net.',
    ])
  })

  it('should refuse a token in the config and point at tokenEnv', () => {
    const error = (() => {
      try {
        validateComputeConfig({
          provider: 'spark',
          platform: 'databricks',
          host: 'https://dbc-1.cloud.databricks.com',
          nodeTypeId: 'i3.xlarge',
          token: 'dapi123',
        })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(AdapterError)
    expect((error as AdapterError).code).toBe('CONFIG_INVALID')
    expect((error as AdapterError).message).toContain('compute.token looks like a secret')
  })
})

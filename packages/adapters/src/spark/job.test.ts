import { describe, expect, it } from 'vitest'
import { pysparkJob, sparkSubmitParameters, storageUri } from './job.js'

describe('storageUri', () => {
  it('should address the same object the storage adapter writes, prefix included', () => {
    expect(storageUri({ provider: 's3', bucket: 'models', prefix: 'prod/' }, 'spark/r/input/a.parquet')).toBe(
      's3://models/prod/spark/r/input/a.parquet',
    )
    expect(storageUri({ provider: 's3', bucket: 'models', prefix: 'prod' }, 'x')).toBe('s3://models/prod/x')
    expect(storageUri({ provider: 'gcs', bucket: 'staging' }, 'spark/r/')).toBe('gs://staging/spark/r/')
    expect(
      storageUri(
        { provider: 'azure-blob', container: 'staging', accountUrl: 'https://acme.blob.core.windows.net' },
        'spark/r/edgerec_als.py',
      ),
    ).toBe('abfss://staging@acme.dfs.core.windows.net/spark/r/edgerec_als.py')
  })

  it('should refuse storage a Spark job cannot read, saying what to set', () => {
    expect(() => storageUri({ provider: 'local', root: '.edgerec/models' })).toThrow(/compute\.staging/)
    expect(() => storageUri({ provider: 'azure-blob', container: 'c' })).toThrow(/accountUrl/)
  })
})

describe('pysparkJob', () => {
  it("should put the run's Spark properties over the config's", () => {
    const job = pysparkJob(
      { pyspark: { mainPythonFileUri: 's3://b/x.py', args: [], sparkConf: { a: 'run', c: '3' } } },
      { sparkConf: { a: 'config', b: '2' } },
      'emr-serverless',
    )
    expect(job.sparkConf).toEqual({ a: 'run', b: '2', c: '3' })
    expect(sparkSubmitParameters(job.sparkConf)).toBe('--conf a=run --conf b=2 --conf c=3')
    expect(() => sparkSubmitParameters({ 'spark.x': 'a b' })).toThrow(/whitespace/)
  })
})

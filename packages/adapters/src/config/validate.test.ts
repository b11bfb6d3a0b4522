import { describe, expect, it } from 'vitest'
import { AdapterError } from '../errors.js'
import {
  providerConfigProblems,
  validateComputeConfig,
  validatePublishConfig,
  validateStorageConfig,
} from './validate.js'

describe('provider config validation', () => {
  it('should name the missing field and the provider', () => {
    expect(providerConfigProblems('storage', { provider: 's3' })).toEqual([
      "storage.bucket is required for provider 's3'.",
    ])
    expect(providerConfigProblems('compute', { provider: 'vertex-ai', location: 'us-central1' })).toEqual([
      "compute.projectId is required for provider 'vertex-ai'.",
      "compute.image is required for provider 'vertex-ai'.",
    ])
  })

  it('should list the providers when the provider is unknown or missing', () => {
    expect(providerConfigProblems('storage', { provider: 'dropbox' })).toEqual([
      `storage.provider must be one of 'local', 's3', 'r2', 'gcs', 'azure-blob', 'kv'; got "dropbox".`,
    ])
    expect(providerConfigProblems('publish', 'cloudflare')[0]).toMatch(
      /^publish must be an object like \{ provider: 'local'/,
    )
  })

  it('should check types and formats', () => {
    expect(
      providerConfigProblems('compute', {
        provider: 'sagemaker',
        roleArn: 'edgerec-role',
        image: 'img',
        outputS3Uri: 'my-bucket/out',
        instanceType: 'm5.large',
      }),
    ).toEqual([
      `compute.roleArn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) for provider 'sagemaker'; got "edgerec-role".`,
      `compute.instanceType must be a SageMaker instance type such as ml.m5.xlarge for provider 'sagemaker'; got "m5.large".`,
      `compute.outputS3Uri must be an s3://bucket/prefix URI for provider 'sagemaker'; got "my-bucket/out".`,
    ])
    expect(providerConfigProblems('publish', { provider: 'local', keep: 0 })).toEqual([
      "publish.keep must be a positive integer for provider 'local'; got 0.",
    ])
    expect(
      providerConfigProblems('storage', { provider: 's3', bucket: 'b', forcePathStyle: 'yes' })[0],
    ).toContain('storage.bucket must be an S3 bucket name')
    expect(
      providerConfigProblems('storage', { provider: 's3', bucket: 'models', forcePathStyle: 'yes' }),
    ).toEqual([`storage.forcePathStyle must be a boolean for provider 's3'; got "yes".`])
  })

  it('should reject unknown fields, and secrets with a pointer to the credential chain', () => {
    expect(providerConfigProblems('storage', { provider: 'gcs', bucket: 'm', bukket: 'x' })).toEqual([
      "storage.bukket is not a field of provider 'gcs' (known: bucket, projectId, prefix, apiEndpoint).",
    ])
    const [problem] = providerConfigProblems('storage', {
      provider: 'kv',
      accountId: 'a'.repeat(32),
      namespaceId: 'n',
      apiToken: 'x',
    })
    expect(problem).toContain('storage.apiToken looks like a secret')
    const [env] = providerConfigProblems('storage', {
      provider: 'kv',
      accountId: 'a'.repeat(32),
      namespaceId: 'n',
      apiTokenEnv: 'sk-abc/123',
    })
    expect(env).toContain('the NAME of an environment variable')
  })

  it('should accept complete configs of every provider', () => {
    const valid = [
      validateStorageConfig({ provider: 'local', root: '.edgerec/models' }),
      validateStorageConfig({ provider: 'r2', accountId: 'f'.repeat(32), bucket: 'edgerec-models' }),
      validateStorageConfig({
        provider: 'azure-blob',
        container: 'models',
        accountUrl: 'https://a.blob.core.windows.net',
      }),
      validateComputeConfig({ provider: 'local' }),
      validateComputeConfig({
        provider: 'azure-ml',
        subscriptionId: '00000000-1111-2222-3333-444444444444',
        resourceGroup: 'rg',
        workspace: 'ws',
        computeName: 'cpu',
        environmentId: 'azureml:edgerec-trainer:1',
      }),
      validatePublishConfig({
        provider: 'cloudflare',
        accountId: 'f'.repeat(32),
        r2Bucket: 'm',
        kvNamespaceId: 'k',
      }),
    ]
    expect(valid.map((c) => c.provider)).toEqual([
      'local',
      'r2',
      'azure-blob',
      'local',
      'azure-ml',
      'cloudflare',
    ])
  })

  it('should throw one CONFIG_INVALID error listing every problem', () => {
    const error = (() => {
      try {
        validateStorageConfig({ provider: 'azure-blob', accountUrl: 'blob.core.windows.net' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
    expect((error as Error).message).toContain("storage.container is required for provider 'azure-blob'.")
    expect((error as Error).message).toContain(
      "storage.accountUrl must be an http(s) URL for provider 'azure-blob'",
    )
  })
})

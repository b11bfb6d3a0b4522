import { describe, expect, it } from 'vitest'
import { SageMakerCompute } from '../aws/compute.js'
import { AzureMlCompute } from '../azure/compute.js'
import { VertexAiCompute } from '../gcp/compute.js'
import { LocalCompute } from '../local/compute.js'
import { createCompute } from './create-compute.js'
import { createPublisher } from './create-publisher.js'
import { createStorage } from './create-storage.js'

describe('createCompute', () => {
  it('should default to local compute', async () => {
    expect(await createCompute()).toBeInstanceOf(LocalCompute)
  })

  it('should build each cloud compute from its config', async () => {
    const sagemaker = await createCompute({
      provider: 'sagemaker',
      roleArn: 'arn:aws:iam::123456789012:role/r',
      image: 'img',
      outputS3Uri: 's3://b/p',
    })
    const vertex = await createCompute({
      provider: 'vertex-ai',
      projectId: 'p',
      location: 'europe-west4',
      image: 'img',
    })
    const azure = await createCompute({
      provider: 'azure-ml',
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      resourceGroup: 'rg',
      workspace: 'ws',
      computeName: 'cpu',
      environmentId: 'azureml:e:1',
    })
    expect(sagemaker).toBeInstanceOf(SageMakerCompute)
    expect(vertex).toBeInstanceOf(VertexAiCompute)
    expect(azure).toBeInstanceOf(AzureMlCompute)
    expect([sagemaker.provider, vertex.provider, azure.provider]).toEqual([
      'sagemaker',
      'vertex-ai',
      'azure-ml',
    ])
  })

  it('should refuse an invalid config before loading anything', async () => {
    await expect(createCompute({ provider: 'sagemaker' } as never)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining("compute.roleArn is required for provider 'sagemaker'"),
    })
  })
})

describe('createStorage and createPublisher', () => {
  it('should refuse invalid configs with the field and provider named', async () => {
    await expect(createStorage({ provider: 's3' } as never)).rejects.toMatchObject({
      message: expect.stringContaining("storage.bucket is required for provider 's3'"),
    })
    await expect(createPublisher({ provider: 'cloudflare', accountId: 'x' } as never)).rejects.toMatchObject({
      message: expect.stringContaining("publish.r2Bucket is required for provider 'cloudflare'"),
    })
  })

  it('should say where the worker config is missing for the local publish target', async () => {
    await expect(
      createPublisher({ provider: 'local', workerConfig: '/nonexistent/wrangler.jsonc' }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('/nonexistent/wrangler.jsonc) does not exist'),
    })
  })
})

import { fileURLToPath } from 'node:url'
import { createCompute } from '@edgerec/adapters'
import type { SageMakerCompute } from '@edgerec/adapters/aws'
import { describe, expect, it } from 'vitest'
import { type EdgerecConfig, loadConfig } from '../config/config.js'
import { cloudJobConfig, isCloudCompute } from './job-config.js'

const sagemaker = {
  provider: 'sagemaker',
  roleArn: 'arn:aws:iam::1:role/r',
  image: 'img',
  outputS3Uri: 's3://b/sm/',
} as const
const s3Events = { kind: 'ndjson', path: 'events.ndjson', storage: { provider: 's3', bucket: 'ev' } } as const

describe('cloudJobConfig', () => {
  it('should pass everything but compute, storage and publish inline, and the registry as output', () => {
    const config: EdgerecConfig = {
      events: s3Events,
      als: { factors: 16 },
      storage: { provider: 's3', bucket: 'models' },
      publish: { provider: 'cloudflare', accountId: 'a', r2Bucket: 'r', kvNamespaceId: 'k' },
      compute: sagemaker,
    }
    expect(cloudJobConfig(config, 'sagemaker')).toEqual({
      inline: { events: s3Events, als: { factors: 16 } },
      output: { provider: 's3', bucket: 'models' },
    })
  })

  it('should refuse a local registry, local events, SQLite and class instances', () => {
    const storage = { provider: 's3', bucket: 'models' } as const
    expect(() => cloudJobConfig({ events: s3Events }, 'sagemaker')).toThrow(
      /local default \(\.edgerec\/models\)/,
    )
    expect(() =>
      cloudJobConfig({ events: s3Events, storage: { provider: 'local', root: 'm' } }, 'x'),
    ).toThrow(/registry is 'local'/)
    expect(() => cloudJobConfig({ storage }, 'vertex-ai')).toThrow(/names no events/)
    expect(() => cloudJobConfig({ storage, events: { kind: 'csv', path: 'e.csv' } }, 'azure-ml')).toThrow(
      /events.path "e.csv" is a file on this machine/,
    )
    expect(() => cloudJobConfig({ storage, events: { kind: 'sqlite', path: 'db.sqlite' } }, 'x')).toThrow(
      /file on this machine/,
    )
    expect(() =>
      cloudJobConfig({ storage, events: s3Events, als: { factors: new Date() as unknown as number } }, 'x'),
    ).toThrow(/config.als.factors is not plain JSON/)
  })

  it('should treat only sagemaker, vertex-ai and azure-ml as cloud computes', () => {
    expect(isCloudCompute(undefined)).toBe(false)
    expect(isCloudCompute({ provider: 'local' })).toBe(false)
    expect(isCloudCompute(sagemaker)).toBe(true)
  })
})

describe.each(['aws', 'gcp', 'azure'])('examples/%s/edgerec.config.ts', (name) => {
  it('should be a config a cloud job can run, within SageMaker’s environment limits', async () => {
    const path = fileURLToPath(new URL(`../../../../examples/${name}/edgerec.config.ts`, import.meta.url))
    const { config } = await loadConfig(path)
    expect(isCloudCompute(config.compute)).toBe(true)
    const job = cloudJobConfig(config, config.compute!.provider)
    expect(job.output).toEqual(config.storage)
    if (config.compute!.provider === 'sagemaker') {
      const compute = (await createCompute(config.compute)) as SageMakerCompute
      const request = compute.buildRequest({ config: { inline: job.inline }, output: job.output })
      expect(request.Environment?.EDGEREC_CONFIG_JSON).toBe(JSON.stringify(job.inline))
    }
  })
})

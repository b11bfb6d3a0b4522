/** AzureBlobStorage against Azurite (Microsoft's emulator) on 127.0.0.1. */
import { ContainerClient } from '@azure/storage-blob'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AzureBlobStorage } from '../../src/azure/storage.js'
import { createStorage } from '../../src/config/create-storage.js'
import { StorageError } from '../../src/errors.js'
import { type AzuriteHandle, startAzurite } from '../servers/azurite.js'
import { describeStorageConformance } from './conformance.js'
import { utf8 } from './data.js'

const MiB = 1024 * 1024
let azurite: AzuriteHandle
let n = 0
const ENV = 'EDGEREC_TEST_AZURITE_CONNECTION_STRING'

beforeAll(async () => {
  azurite = await startAzurite()
  process.env[ENV] = azurite.connectionString
  await new ContainerClient(azurite.connectionString, 'models').create()
}, 30_000)
afterAll(async () => {
  delete process.env[ENV]
  await azurite?.stop()
})

const azure = () =>
  new AzureBlobStorage({
    container: 'models',
    connectionStringEnv: ENV,
    prefix: `t${n++}`,
    // Small blocks so that the large-object case stages several blocks.
    blockSize: 4 * MiB,
    singleShotThreshold: 6 * MiB,
  })

describeStorageConformance('AzureBlobStorage on Azurite', azure, {
  conditionalPut: 'enforced',
  largeObjectBytes: 16 * MiB,
})

describe('AzureBlobStorage specifics', () => {
  it('should refuse a config naming an unset connection-string variable, naming the variable', () => {
    expect(
      () => new AzureBlobStorage({ container: 'c', connectionStringEnv: 'EDGEREC_TEST_UNSET_VAR' }),
    ).toThrow(/EDGEREC_TEST_UNSET_VAR/)
  })

  it('should refuse a config with neither accountUrl nor connectionStringEnv', () => {
    let error: unknown
    try {
      new AzureBlobStorage({ container: 'c' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('CONFIG_INVALID')
    expect((error as StorageError).message).toMatch(/accountUrl/)
  })

  it('should be built by createStorage from an edgerec.config storage entry', async () => {
    const storage = await createStorage({
      provider: 'azure-blob',
      container: 'models',
      connectionStringEnv: ENV,
      prefix: 'from-config',
    })
    expect(storage).toBeInstanceOf(AzureBlobStorage)
    await storage.put('k', utf8('configured'))
    const blob = new ContainerClient(azurite.connectionString, 'models').getBlobClient('from-config/k')
    expect((await blob.getProperties()).contentLength).toBe('configured'.length)
  })

  it('should map a missing container to NOT_FOUND', async () => {
    const storage = new AzureBlobStorage({
      container: 'no-such-container',
      connectionStringEnv: ENV,
      retry: { retries: 0 },
    })
    const error = await storage.put('k', utf8('x')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StorageError)
    expect((error as StorageError).code).toBe('NOT_FOUND')
  })
})

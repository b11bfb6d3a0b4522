import { describe, expect, it } from 'vitest'
import { AdapterError } from '../errors.js'
import { loadProvider } from './load-provider.js'

describe('loadProvider', () => {
  it('should name the SDK package to install when the provider SDK is missing', async () => {
    const error = await loadProvider(
      'storage',
      'gcs',
      ['@edgerec/not-an-installed-sdk'],
      () => import(/* @vite-ignore */ ['@edgerec', 'not-an-installed-sdk'].join('/')),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        "storage provider 'gcs' needs @edgerec/not-an-installed-sdk, which is not installed. Install it: npm install @edgerec/not-an-installed-sdk",
    })
  })

  it('should say the adapters install is broken when one of its own modules is missing', async () => {
    const error = await loadProvider(
      'compute',
      'local',
      [],
      () => import(/* @vite-ignore */ `./missing-${Date.now()}.js`),
    ).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining('Reinstall @edgerec/adapters'),
    })
  })

  it('should pass through errors that are not missing modules', async () => {
    const boom = new Error('boom')
    await expect(loadProvider('compute', 'local', [], () => Promise.reject(boom))).rejects.toBe(boom)
  })

  it('should return the module when it loads', async () => {
    const module = await loadProvider('compute', 'local', [], () => import('node:path'))
    expect(typeof module.join).toBe('function')
  })
})

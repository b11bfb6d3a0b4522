import { describe, expect, it } from 'vitest'
import { CONTAINER_ENTRYPOINT, containerInvocation, jobName } from './container.js'

describe('containerInvocation', () => {
  it('should pass a config path, extra args and the output registry', () => {
    expect(
      containerInvocation({
        config: { path: '/app/edgerec.config.ts' },
        args: ['--seed', '7'],
        env: { TZ: 'UTC' },
        output: { provider: 'gcs', bucket: 'm' },
      }),
    ).toEqual({
      entrypoint: [CONTAINER_ENTRYPOINT],
      args: ['train', '--seed', '7'],
      env: {
        TZ: 'UTC',
        EDGEREC_CONFIG: '/app/edgerec.config.ts',
        EDGEREC_OUTPUT: '{"provider":"gcs","bucket":"m"}',
      },
    })
  })

  it('should carry an inline config as JSON', () => {
    expect(containerInvocation({ config: { inline: { als: { factors: 8 } } } }).env).toEqual({
      EDGEREC_CONFIG_JSON: '{"als":{"factors":8}}',
    })
  })

  it('should refuse env vars edgerec sets itself', () => {
    expect(() => containerInvocation({ env: { EDGEREC_OUTPUT: 'x' } })).toThrow(
      /run\.env\.EDGEREC_OUTPUT is set by edgerec itself/,
    )
  })
})

describe('jobName', () => {
  it('should append a UTC time stamp and a random suffix, within 63 characters', () => {
    const name = jobName('nightly', new Date(Date.UTC(2026, 10, 24, 9, 8, 7)))
    expect(name).toMatch(/^nightly-20261124090807-[0-9a-f]{4}$/)
    expect(jobName('x'.repeat(100)).length).toBeLessThanOrEqual(63)
  })

  it('should refuse names the clouds reject', () => {
    expect(() => jobName('my job')).toThrow(/letters, digits and hyphens/)
  })
})

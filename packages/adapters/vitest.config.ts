import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The storage suites talk to real servers (s3rver, Azurite, miniflare) started per file.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})

import { defineConfig } from 'vitest/config'

// End-to-end tests: the global setup prepares a small demo (generated data → local D1 → trained
// and published model, the same code path as `npm run demo`) and starts the worker and the store
// page on 127.0.0.1; the tests drive them from headless Chromium and from Node through the SDK.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})

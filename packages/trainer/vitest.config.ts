import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Tests that start worker threads or train models run long on a loaded 2-core CI machine.
    testTimeout: 60_000,
  },
})

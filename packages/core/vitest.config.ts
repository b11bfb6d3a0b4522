import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Property tests (fast-check, 100 runs each) encode whole shards; on a loaded 2-core machine a
    // run can pass vitest's 5 s default. Correctness is the assertion, not the time.
    testTimeout: 30_000,
  },
})

import { defineConfig } from 'vitest/config'

// Hooks are rendered with React Testing Library in jsdom, against a real HTTP server on 127.0.0.1.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'jsdom',
    testTimeout: 30_000,
  },
})

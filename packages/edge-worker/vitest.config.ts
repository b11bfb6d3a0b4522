import { existsSync } from 'node:fs'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

// Paths are relative to the package directory, where `npm test -w @edgerec/edge-worker` runs vitest.
const migrationsDir = './drizzle'

/**
 * Tests run inside workerd with real D1, KV and R2 bindings from wrangler.jsonc. Migrations are read
 * here (Node side) and applied by `test/apply-migrations.ts` inside the runtime.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: false,
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: './wrangler.jsonc' },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: existsSync(migrationsDir) ? await readD1Migrations(migrationsDir) : [],
                PUBLISHABLE_KEY: 'pk_test_publishable',
                SECRET_KEY: 'sk_test_secret',
                USER_TOKEN_SECRET: 'test-user-token-secret-0123456789abcdef',
                ALLOWED_ORIGINS: 'https://shop.example',
                // Every request re-reads the live pointer, so tests see activations at once.
                MODEL_REFRESH_SECONDS: '0',
                // Every request re-reads catalog changes, so tests see other isolates' writes at once.
                CATALOG_REFRESH_SECONDS: '0',
                // Served lists are written in the request's own waitUntil (tests await it); the
                // batching itself is tested with a longer delay in test/online-writes.test.ts.
                RECORD_FLUSH_MS: '0',
              },
              // Real limiters with a tiny limit for src/middleware/rate-limit.test.ts (one per test, so
              // each starts with a fresh budget); the production ones come from wrangler.jsonc.
              ratelimits: Object.fromEntries(
                ['TEST_LIMIT_3_A', 'TEST_LIMIT_3_B', 'TEST_LIMIT_3_C', 'TEST_LIMIT_3_D'].map((name, i) => [
                  name,
                  { namespace_id: String(9001 + i), simple: { limit: 3, period: 60 } },
                ]),
              ),
            },
          })),
        ],
        test: {
          name: 'workerd',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          setupFiles: ['./test/apply-migrations.ts'],
          testTimeout: 60_000,
          // The test files share the KV key `models/live`; running them one after another keeps each
          // file's view of the live version its own.
          fileParallelism: false,
        },
      },
      {
        // The worker's configuration and deployment tooling, in Node (wrangler runs as a CLI).
        extends: false,
        test: { name: 'node', include: ['scripts/**/*.test.ts'], testTimeout: 180_000 },
      },
    ],
  },
})

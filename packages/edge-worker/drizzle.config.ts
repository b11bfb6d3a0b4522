import { defineConfig } from 'drizzle-kit'

/** `npm run db:generate -w @edgerec/edge-worker` writes SQL migrations for D1 into `drizzle/`. */
export default defineConfig({
  dialect: 'sqlite',
  schema: ['./src/db/schema.ts', './src/db/online-schema.ts'],
  out: './drizzle',
})

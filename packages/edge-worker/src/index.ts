/**
 * Entry point of the edgerec edge worker (`wrangler.jsonc` `main`). One {@link createApp} per
 * isolate, so the model store and its caches live as long as the isolate.
 *
 * @module
 */
import { createApp } from './app.js'
import type { Env } from './env.js'

const app = createApp()

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>

export type { AppOptions } from './app.js'
export { createApp } from './app.js'
export type { AppEnv, Env } from './env.js'

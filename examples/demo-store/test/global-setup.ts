/**
 * Prepares a small demo exactly as `npm run demo` does (generator → local D1 → `turbo run train`
 * → local publisher), then starts `wrangler dev` and the store page on 127.0.0.1 for the tests.
 * Everything lives in a temporary folder and is stopped and removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { applyMigrations } from '../demo/d1.js'
import { demoLayout } from '../demo/layout.js'
import { generateAndLoad, generatorOptions, publishModel, trainModel, writeCatalog } from '../demo/prepare.js'
import { startStore, startWorker } from '../demo/servers.js'
import { type DemoUnderTest, TEST_DATA, TEST_TRAIN } from './context.js'

declare module 'vitest' {
  export interface ProvidedContext {
    demo: DemoUnderTest
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-demo-test-'))
  const layout = demoLayout(dir)
  const stops: (() => Promise<void>)[] = []
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {})
    if (!process.env.EDGEREC_KEEP_DEMO_STATE) await rm(dir, { recursive: true, force: true })
  }
  let t0 = performance.now()
  const timed = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const result = await work()
    console.log(`demo setup: ${label} ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    t0 = performance.now()
    return result
  }
  try {
    const options = generatorOptions(TEST_DATA)
    await timed('catalog', () => writeCatalog(layout, options))
    await timed('D1 migrations', () => applyMigrations(layout))
    const rows = await timed('event load', () => generateAndLoad(layout, options))
    const version = await timed('turbo run train', () =>
      trainModel(layout, { ...TEST_TRAIN, output: 'pipe' }),
    )
    await timed('publish', () => publishModel(layout, version))
    const worker = await timed('wrangler dev', () => startWorker({ layout, port: 0, refreshSeconds: 1 }))
    stops.push(worker.stop)
    const store = await timed('vite', () => startStore({ layout, endpoint: worker.url, port: 0 }))
    stops.push(store.stop)
    project.provide('demo', { dir, workerUrl: worker.url, storeUrl: store.url, version, rows })
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}

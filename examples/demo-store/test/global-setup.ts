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
  try {
    const options = generatorOptions(TEST_DATA)
    await writeCatalog(layout, options)
    await applyMigrations(layout)
    const rows = await generateAndLoad(layout, options)
    const version = await trainModel(layout, { ...TEST_TRAIN, output: 'pipe' })
    await publishModel(layout, version)
    const worker = await startWorker({ layout, port: 0, refreshSeconds: 1 })
    stops.push(worker.stop)
    const store = await startStore({ layout, endpoint: worker.url, port: 0 })
    stops.push(store.stop)
    project.provide('demo', { dir, workerUrl: worker.url, storeUrl: store.url, version, rows })
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}

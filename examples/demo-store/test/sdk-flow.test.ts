/**
 * The demo's loop from Node through `@edgerec/sdk`, against the real worker under `wrangler dev`:
 * a new visitor gets popular items, views several products of one category, and the
 * recommendations follow (fold-in); then a retrain published into the running worker's KV/R2 is
 * served without a restart.
 */
import { signUserToken } from '@edgerec/core'
import { createClient, type EdgerecClient } from '@edgerec/sdk'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { demoLayout } from '../demo/layout.js'
import { publishModel, rollbackModel, trainModel } from '../demo/prepare.js'
import { DEMO_KEYS } from '../demo/servers.js'
import { userTokenFetch } from '../src/user-token-fetch.js'
import { readCatalog, shareOf, TEST_TRAIN } from './context.js'

const demo = inject('demo')
const { products, categories } = readCatalog(demo.dir)
const byId = new Map(products.map((p) => [p.id, p]))
const clients: EdgerecClient[] = []

function newVisitor(): EdgerecClient {
  const client = createClient({
    endpoint: demo.workerUrl,
    publishableKey: DEMO_KEYS.publishable,
    storage: null,
    cacheTtlMs: 0,
    flushAt: 100,
    // Explanations of a person need their user token (docs/privacy.md), as the store page sends.
    fetch: userTokenFetch((id) => signUserToken(id, DEMO_KEYS.userTokenSecret)),
  })
  clients.push(client)
  return client
}

/** The category (with enough products) least present in `itemIds`; ties go to the bigger category. */
function leastPresentCategory(itemIds: string[]): string {
  const candidates = categories.filter((c) => products.filter((p) => p.category === c.name).length >= 8)
  return candidates
    .map((c) => ({ name: c.name, share: shareOf(itemIds, c.name, byId), traffic: c.share }))
    .sort((a, b) => a.share - b.share || b.traffic - a.traffic)[0]!.name
}

/** The version the worker serves now. */
async function liveVersion(): Promise<string | null> {
  const health = (await (await fetch(`${demo.workerUrl}/v1/health`)).json()) as {
    modelVersion: string | null
  }
  return health.modelVersion
}

afterAll(() => {
  for (const c of clients) c.close()
})

describe('demo store flow through the SDK', () => {
  it('should move a new visitor’s recommendations towards the category they view, then serve a retrained version without a restart and roll it back', async () => {
    const live = await liveVersion()
    expect(live).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/)
    const client = newVisitor()
    const before = await client.recommend({ k: 10 })
    expect(before.source).toBe('popular')
    expect(before.modelVersion).toBe(live)
    expect(before.items).toHaveLength(10)
    const beforeIds = before.items.map((i) => i.itemId)

    const target = leastPresentCategory(beforeIds)
    const viewed = products.filter((p) => p.category === target).slice(0, 5)
    for (const p of viewed) client.track('view', { itemId: p.id })
    client.track('add_to_cart', { itemId: viewed[0]!.id })
    const flushed = await client.flush()
    expect(flushed).toMatchObject({ ok: true, sent: 6, rejected: 0, remaining: 0 })

    const after = await client.recommend({ k: 10, explain: true })
    expect(after.source).toBe('fold-in')
    expect(after.modelVersion).toBe(live)
    const afterIds = after.items.map((i) => i.itemId)
    // Items the visitor already viewed are not recommended again.
    expect(afterIds.filter((id) => viewed.some((p) => p.id === id))).toEqual([])
    const shareBefore = shareOf(beforeIds, target, byId)
    const shareAfter = shareOf(afterIds, target, byId)
    expect(shareAfter).toBeGreaterThan(shareBefore)
    expect(shareAfter).toBeGreaterThanOrEqual(0.6)
    // Explanations point at what the visitor viewed.
    const reasons = after.items.flatMap((i) => i.because ?? []).map((b) => b.itemId)
    expect(reasons.length).toBeGreaterThan(0)
    expect(reasons.every((id) => viewed.some((p) => p.id === id))).toBe(true)

    const similar = await client.similar(viewed[0]!.id, { k: 6 })
    expect(similar.source).toBe('model')
    expect(similar.items).toHaveLength(6)
    expect(
      shareOf(
        similar.items.map((i) => i.itemId),
        target,
        byId,
      ),
    ).toBeGreaterThanOrEqual(0.5)

    // Retrain on everything in D1 (now including this visitor) and publish into the running worker.
    const layout = demoLayout(demo.dir)
    const retrained = await trainModel(layout, { ...TEST_TRAIN, output: 'pipe' })
    expect(retrained).not.toBe(live)
    const report = await publishModel(layout, retrained)
    expect(report.pointer).toMatchObject({ version: retrained, previous: live })

    expect(await servedVersionBecomes(retrained)).toBe(retrained)
    const later = await client.recommend({ k: 10 })
    expect(later.modelVersion).toBe(retrained)
    expect(['model', 'fold-in']).toContain(later.source)
    expect(
      shareOf(
        later.items.map((i) => i.itemId),
        target,
        byId,
      ),
    ).toBeGreaterThanOrEqual(0.5)

    // Rollback flips the pointer back; the running worker serves the first version again.
    const rolledBack = await rollbackModel(layout)
    expect(rolledBack).toMatchObject({ version: live, previous: retrained })
    expect(await servedVersionBecomes(live)).toBe(live)
    expect((await client.recommend({ k: 10 })).modelVersion).toBe(live)
  })
})

/** Polls `/v1/health` until the worker serves `version` (30 s at most); returns the last version seen. */
async function servedVersionBecomes(version: string | null): Promise<string | null> {
  let served: string | null = null
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${demo.workerUrl}/v1/health`)).json()) as {
      modelVersion: string | null
    }
    served = health.modelVersion
    if (served === version) break
    await new Promise((r) => setTimeout(r, 250))
  }
  return served
}

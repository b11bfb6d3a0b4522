/**
 * The simulated audience's click model (demo/simulate.ts) at small scale: its arithmetic against
 * hand-computed values and Monte Carlo draws, and its behaviour with the generator's structure:
 * the test demo's trained model lists earn a higher expected CTR than the popular list.
 */
import { generatedUserId, Random, userTaste } from '@edgerec/trainer'
import { describe, expect, inject, it } from 'vitest'
import { demoLayout } from '../demo/layout.js'
import { generatorOptions } from '../demo/prepare.js'
import { DEMO_KEYS } from '../demo/servers.js'
import { audienceOfDemo, categoryAffinity, drawClicks, listClickChance } from '../demo/simulate.js'
import { TEST_DATA } from './context.js'

const demo = inject('demo')
const SHARES = { primary: 0.7, secondary: 0.2 }

describe('categoryAffinity', () => {
  it("should add the favourite's 0.7 and the second's 0.2 to the rest drawn by traffic share (sum 1)", () => {
    const traffic = [0.4, 0.3, 0.2, 0.1]
    const a = categoryAffinity({ primary: 2, secondary: 0 }, traffic, SHARES)
    // rest = 1 − 0.7 − 0.2 = 0.1, spread by traffic share
    expect(a[0]).toBeCloseTo(0.2 + 0.1 * 0.4, 12)
    expect(a[1]).toBeCloseTo(0.1 * 0.3, 12)
    expect(a[2]).toBeCloseTo(0.7 + 0.1 * 0.2, 12)
    expect(a[3]).toBeCloseTo(0.1 * 0.1, 12)
    expect(a.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12)
    // No second taste: 0.3 goes by traffic share.
    const single = categoryAffinity({ primary: 0, secondary: -1 }, traffic, SHARES)
    expect(single[0]).toBeCloseTo(0.7 + 0.3 * 0.4, 12)
    expect(single[3]).toBeCloseTo(0.3 * 0.1, 12)
    expect(single.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12)
  })
})

describe('listClickChance', () => {
  const category = (id: string) => ({ a: 0, b: 1, c: 2 })[id]
  const affinity = [0.7, 0.2, 0.1]

  it('should be 1 − Π(1 − s·a) over the listed items (hand-computed)', () => {
    // 1 − (1 − 0.1·0.7)(1 − 0.1·0.2)(1 − 0.1·0.1) = 1 − 0.93 · 0.98 · 0.99 = 1 − 0.902286 = 0.097714
    expect(listClickChance(['a', 'b', 'c'], affinity, category, 0.1)).toBeCloseTo(0.097714, 12)
    expect(listClickChance([], affinity, category, 0.1)).toBe(0)
    expect(listClickChance(['unknown'], affinity, category, 0.1)).toBe(0)
  })

  it('should match the frequency of drawClicks within 4 standard deviations', () => {
    const list = ['a', 'a', 'b', 'c', 'unknown']
    const p = listClickChance(list, affinity, category, 0.3)
    const rng = new Random(11)
    const trials = 20_000
    let clicked = 0
    for (let t = 0; t < trials; t++) if (drawClicks(list, affinity, category, 0.3, rng).length > 0) clicked++
    expect(Math.abs(clicked / trials - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / trials))
  })
})

describe('simulated audience on the test demo', () => {
  it("should expect a higher CTR from the model's lists than from the popular list", async () => {
    const generator = generatorOptions(TEST_DATA)
    const audience = await audienceOfDemo(demoLayout(demo.dir), generator)
    const index = new Map(audience.categories.map((name, i) => [name, i]))
    const categoryOf = (id: string) => index.get(audience.categoryOf.get(id) ?? '')
    const get = async (path: string) => {
      const response = await fetch(`${demo.workerUrl}${path}`, {
        headers: { authorization: `Bearer ${DEMO_KEYS.publishable}` },
      })
      expect(response.status).toBe(200)
      return ((await response.json()) as { items: { itemId: string }[]; source: string }).items.map(
        (i) => i.itemId,
      )
    }
    const popular = await get('/v1/popular?k=8')
    let model = 0
    let popularChance = 0
    const people = 40
    for (let u = 0; u < people; u++) {
      const affinity = categoryAffinity(userTaste(generator, u), audience.categoryShares, SHARES)
      const list = await get(`/v1/users/${generatedUserId(u)}/recommendations?k=8`)
      model += listClickChance(list, affinity, categoryOf, 0.1) / people
      popularChance += listClickChance(popular, affinity, categoryOf, 0.1) / people
    }
    // The generator puts 70 % of a person's sessions in one category: lists that follow it win.
    expect(model).toBeGreaterThan(popularChance * 1.2)
  })
})

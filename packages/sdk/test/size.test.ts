import { describe, expect, it } from 'vitest'
import { BUDGET_GZIP_BYTES, measureSizes } from '../benchmarks/size/measure.ts'

describe('bundle size', () => {
  it('should keep the full browser client (createClient) within the gzip budget, and the core-only import smaller', async () => {
    const [core, full, all] = await measureSizes()
    expect(full!.gzip).toBeGreaterThan(1000)
    expect(full!.gzip).toBeLessThanOrEqual(BUDGET_GZIP_BYTES)
    // Tree-shaking: importing only the core client leaves the page layer out.
    expect(core!.minified).toBeLessThan(full!.minified)
    expect(full!.minified).toBeLessThanOrEqual(all!.minified)
  })
})

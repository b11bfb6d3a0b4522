/**
 * The committed API reference, in Node: `docs/api/openapi.json` (which `test/openapi.test.ts` checks
 * equals what the worker serves) is a valid OpenAPI 3.1 document (@readme/openapi-parser),
 * `docs/api.md` is what swagger-markdown renders from it, and openapi-typescript generates client
 * types from it.
 */
import { readFileSync } from 'node:fs'
import { validate } from '@readme/openapi-parser'
import openapiTS, { astToString } from 'openapi-typescript'
import { describe, expect, it } from 'vitest'
import { DOCUMENT_PATH, REFERENCE_PATH, renderReference } from './openapi.ts'

const document = JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8')) as Record<string, unknown>

describe('docs/api/openapi.json', () => {
  it('should validate as OpenAPI 3.1', async () => {
    const result = await validate(structuredClone(document) as never)
    expect(result.valid ? [] : result.errors, JSON.stringify(result, null, 2)).toEqual([])
    expect(result.specification).toBe('OpenAPI')
    expect(document.openapi).toBe('3.1.0')
  })

  it('should be rendered in docs/api.md (npm run openapi -w @edgerec/edge-worker)', () => {
    expect(readFileSync(REFERENCE_PATH, 'utf8')).toBe(renderReference(DOCUMENT_PATH))
  })

  it('should generate TypeScript client types with openapi-typescript', async () => {
    const types = astToString(await openapiTS(structuredClone(document) as never))
    expect(types).toContain('"/v1/users/{userId}/recommendations"')
    expect(types).toMatch(/Recommendations: \{[\s\S]*modelVersion: string \| null/)
    expect(types).toMatch(/EventBatch:/)
  })
})

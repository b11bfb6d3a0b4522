/**
 * The OpenAPI document (`GET /v1/openapi.json`): every route of the app is in it and nothing else,
 * it is public and holds no key, it matches the committed `docs/api/openapi.json`, and the request
 * schemas it publishes agree with the validators the routes call (checked with a JSON Schema
 * 2020-12 validator, @cfworker/json-schema, on valid and invalid samples).
 */
import { Validator } from '@cfworker/json-schema'
import { EVENT_LIMITS, RULE_LIMITS } from '@edgerec/core'
import { describe, expect, it } from 'vitest'
import committed from '../../../docs/api/openapi.json'
import { createApp } from '../src/app.js'
import { MAX_IMPRESSIONS } from '../src/attribution/impressions.js'
import { CANARY_BOUNDS, CANARY_FIELDS } from '../src/experiments/canary.js'
import {
  MAX_EXPERIMENT_NAME_LENGTH,
  MAX_VARIANT_WEIGHT,
  MAX_VARIANTS,
} from '../src/experiments/definition.js'
import {
  canaryInputSchema,
  eventBatchSchema,
  experimentInputSchema,
  identityLinkSchema,
  impressionsSchema,
  itemBatchSchema,
  modelShadowInputSchema,
  type RequestSchema,
  rulesSchema,
  shadowInputSchema,
} from '../src/openapi/schemas.js'
import { call, env, KEYS } from './helpers.js'

type Operation = { operationId: string; security?: Record<string, string[]>[] }
type Document = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}

const app = createApp()

async function served(): Promise<Document> {
  const response = await call(app, '/v1/openapi.json', { as: null })
  expect(response.status).toBe(200)
  return (await response.json()) as Document
}

/** `METHOD /path/{param}` of every route the app answers (middleware and 405 fallbacks are `ALL`). */
function appRoutes(): Set<string> {
  const routes = new Set<string>()
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue
    routes.add(`${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, '{$1}')}`)
  }
  return routes
}

function documentRoutes(document: Document): Set<string> {
  const routes = new Set<string>()
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of Object.keys(methods)) routes.add(`${method.toUpperCase()} ${path}`)
  }
  return routes
}

describe('GET /v1/openapi.json', () => {
  it('should describe every route of the app, and only those', async () => {
    const document = await served()
    const inApp = appRoutes()
    const inDocument = documentRoutes(document)
    const undocumented = [...inApp].filter((r) => !inDocument.has(r))
    const unrouted = [...inDocument].filter((r) => !inApp.has(r))
    expect(
      undocumented,
      'Routes without an OpenAPI description: add a describeRoute (src/openapi/operations.ts) to each, then run `npm run openapi -w @edgerec/edge-worker`.',
    ).toEqual([])
    expect(unrouted, 'Documented operations that no route answers.').toEqual([])
    expect(inApp.size).toBeGreaterThanOrEqual(25)
  })

  it('should be OpenAPI 3.1 with a unique operationId per operation', async () => {
    const document = await served()
    expect(document.openapi).toBe('3.1.0')
    const ids = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => operation.operationId),
    )
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
  })

  it('should answer without a key and hold none of the configured keys', async () => {
    const response = await call(app, '/v1/openapi.json', { as: null })
    expect(response.status).toBe(200)
    const text = await response.text()
    for (const secret of [KEYS.publishable, KEYS.secret, env.USER_TOKEN_SECRET]) {
      expect(text).not.toContain(secret)
    }
    expect(Object.keys((JSON.parse(text) as Document).components.securitySchemes).sort()).toEqual([
      'keyHeader',
      'publishableKey',
      'publishableKeyQuery',
      'secretKey',
      'userToken',
    ])
  })

  it('should mark admin operations secret-key only and health public', async () => {
    const document = await served()
    for (const [path, methods] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/admin/')) continue
      for (const operation of Object.values(methods)) {
        const schemes = (operation.security ?? []).flatMap((s) => Object.keys(s))
        expect(schemes, path).not.toContain('publishableKey')
        expect(schemes, path).toContain('secretKey')
      }
    }
    expect(document.paths['/v1/health']?.get?.security).toEqual([])
  })

  it('should equal the committed docs/api/openapi.json', async () => {
    expect(
      await served(),
      'docs/api/openapi.json is out of date: run `npm run openapi -w @edgerec/edge-worker`.',
    ).toEqual(committed)
  })

  it('should answer 405 to other methods', async () => {
    const response = await call(app, '/v1/openapi.json', { method: 'POST' })
    expect(response.status).toBe(405)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED')
  })
})

describe('GET /v1/docs', () => {
  it('should serve an HTML reference that loads the document', async () => {
    const response = await call(app, '/v1/docs', { as: null })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/text\/html/)
    const html = await response.text()
    expect(html).toContain('./openapi.json')
    expect(html).toContain('https://cdn.jsdelivr.net/npm/@scalar/api-reference@')
  })
})

/** Both verdicts on `sample`: the validator the route calls, and the published JSON Schema. */
function verdicts(
  schema: RequestSchema<unknown>,
  value: unknown,
): { validator: boolean; jsonSchema: boolean } {
  // As a client sends it: JSON (no undefined fields).
  const sample: unknown = JSON.parse(JSON.stringify(value))
  const result = schema['~standard'].validate(sample)
  if (result instanceof Promise) throw new Error('core validators are synchronous')
  return {
    validator: result.issues === undefined,
    jsonSchema: new Validator(schema.jsonSchema as never, '2020-12', false).validate(sample).valid,
  }
}

function expectAgreement(schema: RequestSchema<unknown>, valid: unknown[], invalid: unknown[]): void {
  for (const sample of valid) {
    expect(verdicts(schema, sample), JSON.stringify(sample)).toEqual({ validator: true, jsonSchema: true })
  }
  for (const sample of invalid) {
    expect(verdicts(schema, sample), JSON.stringify(sample)).toEqual({ validator: false, jsonSchema: false })
  }
}

describe('request schemas', () => {
  const now = Date.now()
  const base = { id: 'e-1', anonymousId: 'a-1', itemId: 'sku-1', type: 'view', timestamp: now }
  const batch = (...events: unknown[]) => ({ events })

  it('should agree with core validateBatch on events', () => {
    expectAgreement(
      eventBatchSchema,
      [
        batch(base),
        [base],
        batch({ ...base, anonymousId: undefined, userId: 'u-1' }),
        batch({ ...base, userId: 'u-1', value: 4.5, context: { page: 'home', n: 3, ok: true } }),
        batch({ ...base, type: 'wishlist_add', timestamp: '2026-01-02T03:04:05Z' }),
        batch({ ...base, timestamp: '2026-01-02' }),
        batch({ ...base, userId: null }),
        batch(...Array.from({ length: EVENT_LIMITS.maxBatchSize }, (_, i) => ({ ...base, id: `e-${i}` }))),
      ],
      [
        null,
        {},
        batch(),
        { events: 'nope' },
        batch(
          ...Array.from({ length: EVENT_LIMITS.maxBatchSize + 1 }, (_, i) => ({ ...base, id: `e-${i}` })),
        ),
        batch({ ...base, anonymousId: undefined }),
        batch({ ...base, id: undefined }),
        batch({ ...base, id: '' }),
        batch({ ...base, id: 'has space' }),
        batch({ ...base, itemId: 'x'.repeat(EVENT_LIMITS.maxEntityIdLength + 1) }),
        batch({ ...base, type: 'Add To Cart' }),
        batch({ ...base, value: 'five' }),
        batch({ ...base, value: EVENT_LIMITS.maxAbsValue + 1 }),
        batch({ ...base, timestamp: 1_000 }),
        batch({ ...base, timestamp: 'yesterday' }),
        batch({ ...base, context: { nested: { no: 1 } } }),
        batch({ ...base, context: [] }),
        batch({ ...base, price: 3 }),
        batch(base, { ...base, id: 'e-2', itemId: '<script>' }),
      ],
    )
  })

  it('should agree with core validateIdentity on identity links', () => {
    expectAgreement(
      identityLinkSchema,
      [
        { userId: 'u-1', anonymousId: 'a-1' },
        { userId: 'user@example.com', anonymousId: 'anon:1' },
      ],
      [
        null,
        [],
        { userId: 'u-1' },
        { anonymousId: 'a-1' },
        { userId: '', anonymousId: 'a-1' },
        { userId: 'u 1', anonymousId: 'a-1' },
        { userId: 7, anonymousId: 'a-1' },
        { userId: 'u-1', anonymousId: 'a-1', extra: true },
      ],
    )
  })

  it('should agree with core validateItemBatch on catalog items', () => {
    const item = { itemId: 'sku-1' }
    const items = (...list: unknown[]) => ({ items: list })
    expectAgreement(
      itemBatchSchema,
      [
        items(item),
        [item],
        items({
          ...item,
          categories: ['shoes', 'shoes/running'],
          tags: ['red'],
          price: 49.9,
          available: false,
          createdAt: '2025-06-01',
          attributes: { brand: 'acme', size: 42, vegan: true },
        }),
        items({ ...item, price: null, categories: null, createdAt: 1_750_000_000_000 }),
      ],
      [
        {},
        items(),
        items({}),
        items({ ...item, categories: 'shoes' }),
        items({ ...item, categories: [''] }),
        items({ ...item, tags: ['has space'] }),
        items({ ...item, price: -1 }),
        items({ ...item, available: 'yes' }),
        items({ ...item, createdAt: 5 }),
        items({ ...item, attributes: { price: 3 } }),
        items({ ...item, attributes: { '9lives': 1 } }),
        items({ ...item, attributes: { brand: { name: 'acme' } } }),
        items({ ...item, colour: 'red' }),
      ],
    )
  })

  it('should agree with parseImpressions on impressions', () => {
    const recId = '0f8b7c2e-1a2b-4c3d-8e9f-0123456789ab'
    expectAgreement(
      impressionsSchema,
      [
        { recIds: [recId] },
        { recIds: [recId, recId] },
        { recIds: Array.from({ length: MAX_IMPRESSIONS }, () => recId) },
      ],
      [
        null,
        [],
        {},
        { recIds: [] },
        { recIds: recId },
        { recIds: Array.from({ length: MAX_IMPRESSIONS + 1 }, () => recId) },
        { recIds: ['not-a-uuid'] },
        { recIds: [recId.toUpperCase()] },
        { recIds: [7] },
      ],
    )
  })

  it('should agree with parseExperimentInput on experiment definitions', () => {
    const control = { name: 'control', weight: 1, strategy: 'model' }
    const treatment = { name: 'popular', weight: 1, strategy: 'popular' }
    const input = { name: 'Home test', surface: 'recommendations', variants: [control, treatment] }
    expectAgreement(
      experimentInputSchema,
      [
        input,
        { ...input, surface: 'similar' },
        { ...input, variants: [control, { ...treatment, strategy: 'model-no-fold-in', weight: 0.5 }] },
        { ...input, variants: [{ ...control, version: '2026-01-02.v1' }, treatment] },
        { ...input, variants: [control, { ...treatment, weight: MAX_VARIANT_WEIGHT }] },
        { ...input, name: 'x'.repeat(MAX_EXPERIMENT_NAME_LENGTH) },
        {
          ...input,
          variants: Array.from({ length: MAX_VARIANTS }, (_, i) => ({ ...control, name: `v${i}` })),
        },
      ],
      [
        null,
        [],
        {},
        { ...input, name: undefined },
        { ...input, name: '' },
        { ...input, name: '   ' },
        { ...input, name: 'x'.repeat(MAX_EXPERIMENT_NAME_LENGTH + 1) },
        { ...input, surface: 'popular' },
        { ...input, extra: 1 },
        { ...input, variants: [control] },
        { ...input, variants: 'control' },
        {
          ...input,
          variants: Array.from({ length: MAX_VARIANTS + 1 }, (_, i) => ({ ...control, name: `v${i}` })),
        },
        { ...input, variants: [control, 'popular'] },
        { ...input, variants: [control, { ...treatment, name: 'Popular' }] },
        { ...input, variants: [control, { ...treatment, name: 'x'.repeat(33) }] },
        { ...input, variants: [control, { ...treatment, weight: 0 }] },
        { ...input, variants: [control, { ...treatment, weight: -1 }] },
        { ...input, variants: [control, { ...treatment, weight: '1' }] },
        { ...input, variants: [control, { ...treatment, weight: MAX_VARIANT_WEIGHT * 2 }] },
        { ...input, variants: [control, { ...treatment, strategy: 'random' }] },
        { ...input, variants: [control, { ...treatment, version: '../x' }] },
        { ...input, variants: [control, { ...treatment, extra: true }] },
        { ...input, surface: 'similar', variants: [control, { ...treatment, strategy: 'model-no-fold-in' }] },
      ],
    )
    // Not in the agreement set: repeated variant names are rejected by the validator only (the
    // schema says so in its description), as are versions that are not published (the route, 404).
    expect(verdicts(experimentInputSchema, { ...input, variants: [control, control] })).toEqual({
      validator: false,
      jsonSchema: true,
    })
  })

  it('should agree with core compileRules on merchandising rules', () => {
    const boost = { filter: 'category:shoes', factor: 2 }
    const pin = { itemId: 'sku-1', position: 1 }
    const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i))
    expectAgreement(
      rulesSchema,
      [
        {},
        { boosts: [boost], pins: [pin], maxPerCategory: 2, diversity: 0.3 },
        { boosts: [{ factor: 0.5, newerThanDays: 7, until: '2030-01-01T00:00:00Z' }] },
        { boosts: [{ factor: RULE_LIMITS.maxFactor, until: 1_900_000_000_000 }] },
        { pins: [{ ...pin, position: RULE_LIMITS.maxPosition, until: 1_900_000_000_000 }] },
        { pins: [{ ...pin, itemId: 'x'.repeat(RULE_LIMITS.maxItemIdLength) }] },
        {
          boosts: many(RULE_LIMITS.maxBoosts, () => boost),
          pins: many(RULE_LIMITS.maxPins, (i) => ({ ...pin, position: i + 1 })),
        },
        { diversity: 0 },
        { diversity: 1 },
      ],
      [
        null,
        [],
        'rules',
        { extra: 1 },
        { boosts: 'all' },
        { boosts: many(RULE_LIMITS.maxBoosts + 1, () => boost) },
        { boosts: [null] },
        { boosts: [{ filter: boost.filter }] },
        { boosts: [{ factor: 0 }] },
        { boosts: [{ factor: RULE_LIMITS.maxFactor + 1 }] },
        { boosts: [{ factor: '2' }] },
        { boosts: [{ factor: 2, filter: 7 }] },
        { boosts: [{ factor: 2, newerThanDays: 0 }] },
        { boosts: [{ factor: 2, until: true }] },
        { pins: [{ position: 1 }] },
        { pins: [{ ...pin, itemId: '' }] },
        { pins: [{ ...pin, itemId: 'x'.repeat(RULE_LIMITS.maxItemIdLength + 1) }] },
        { pins: [{ ...pin, position: 0 }] },
        { pins: [{ ...pin, position: 1.5 }] },
        { pins: [{ ...pin, position: RULE_LIMITS.maxPosition + 1 }] },
        { pins: many(RULE_LIMITS.maxPins + 1, (i) => ({ ...pin, position: i + 1 })) },
        { pins: [null] },
        { maxPerCategory: 0 },
        { maxPerCategory: 1.5 },
        { diversity: 1.5 },
        { diversity: -0.1 },
      ],
    )
    // Not in the agreement set (the schema's description says so): a filter that does not parse and
    // an `until` string that is not a date are rejected by compileRules only.
    for (const sample of [{ boosts: [{ factor: 2, filter: '(x' }] }, { pins: [{ ...pin, until: 'soon' }] }])
      expect(verdicts(rulesSchema, sample)).toEqual({ validator: false, jsonSchema: true })
  })

  it('should agree with parseShadowInput on shadow definitions', () => {
    const from = { experimentId: 'exp-1', variant: 'treatment' }
    expectAgreement(
      shadowInputSchema,
      [
        { version: '2026-01-02.v1' },
        { strategy: 'popular' },
        { version: 'v2', strategy: 'model-no-fold-in', sample: 0.25, name: 'candidate v2' },
        { strategy: 'trending', surface: 'similar', sample: 1 },
        { ...from },
        { ...from, sample: 0.5, surface: 'recommendations', name: 'shadow treatment' },
      ],
      [
        null,
        [],
        {},
        { sample: 0.5 },
        { version: '../v2' },
        { strategy: 'random' },
        { strategy: 'model-no-fold-in', surface: 'similar' },
        { strategy: 'popular', surface: 'home' },
        { strategy: 'popular', sample: 0 },
        { strategy: 'popular', sample: 1.5 },
        { strategy: 'popular', sample: '0.5' },
        { strategy: 'popular', name: '' },
        { strategy: 'popular', name: ' ' },
        { strategy: 'popular', name: 'x'.repeat(MAX_EXPERIMENT_NAME_LENGTH + 1) },
        { strategy: 'popular', extra: true },
        { experimentId: 'exp-1' },
        { variant: 'treatment' },
        { ...from, experimentId: 7 },
        { ...from, version: 'v2' },
        { ...from, strategy: 'popular' },
      ],
    )
  })

  it('should agree with parseModelShadowInput on the body of a model version in shadow', () => {
    expectAgreement(
      modelShadowInputSchema,
      [
        {},
        { sample: 0.25 },
        { strategy: 'model-no-fold-in', sample: 1, name: 'candidate v2' },
        { strategy: 'trending', surface: 'similar' },
        { surface: 'recommendations', strategy: 'popular' },
      ],
      [
        null,
        [],
        'v2',
        { version: 'v2' },
        { experimentId: 'exp-1', variant: 'treatment' },
        { variant: 'treatment' },
        { extra: true },
        { strategy: 'random' },
        { strategy: 'model-no-fold-in', surface: 'similar' },
        { surface: 'home' },
        { sample: 0 },
        { sample: 1.5 },
        { sample: '0.5' },
        { name: '' },
        { name: ' ' },
        { name: 'x'.repeat(MAX_EXPERIMENT_NAME_LENGTH + 1) },
      ],
    )
  })

  it('should agree with parseCanaryInput on canary thresholds', () => {
    const at = (end: 0 | 1) =>
      Object.fromEntries(CANARY_FIELDS.map((field) => [field, CANARY_BOUNDS[field][end]]))
    const outside = CANARY_FIELDS.flatMap((field) => [
      { [field]: CANARY_BOUNDS[field][0] - 0.0001 },
      { [field]: CANARY_BOUNDS[field][1] * 1.5 },
      { [field]: String(CANARY_BOUNDS[field][1]) },
      { [field]: null },
    ])
    expectAgreement(
      canaryInputSchema,
      [
        {},
        { share: 0.2 },
        { share: 0.05, minImpressions: 500, maxImpressions: 5000, margin: 0.02, alpha: 0.01 },
        { maxErrorRateIncrease: 0, maxLatencyRatio: 2.5 },
        at(0),
        at(1),
      ],
      [
        null,
        [],
        'share=0.2',
        0.2,
        { magic: 1 },
        { share: 0.2, magic: 1 },
        { minImpressions: 100.5 },
        { maxImpressions: 1e4 + 0.25 },
        ...outside,
      ],
    )
  })
})

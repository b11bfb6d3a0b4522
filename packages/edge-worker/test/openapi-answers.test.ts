/**
 * Real answers against the published document: every call below goes through the app in workerd
 * (a trained model published, D1 on SQLite) and its JSON body is validated against the schema that
 * `GET /v1/openapi.json` gives for that operation and status (JSON Schema 2020-12 with the
 * document's components, @cfworker/json-schema). Catches an answer drifting from its description,
 * a status the document does not list, and error bodies that are not `{error: {code, message}}`.
 */
import { Validator } from '@cfworker/json-schema'
import { beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import '../src/openapi/schemas.js'
import { type ModelFixture, publishVersion, trainClusteredModel } from './fixtures/model.js'
import { type CallInit, call, env, event } from './helpers.js'

type Described = { $ref?: string; content?: Record<string, { schema?: unknown }> }
type Responses = Record<string, Described>
type Document = {
  paths: Record<string, Record<string, { responses: Responses }>>
  components: Record<string, unknown> & { responses?: Record<string, Described> }
}

const app = createApp()
let document: Document
let fixture: ModelFixture

beforeAll(async () => {
  const answer = await call(app, '/v1/openapi.json', { as: null })
  expect(answer.status).toBe(200)
  document = (await answer.json()) as Document
  fixture = trainClusteredModel({ version: 'answers-v1' })
  await publishVersion(env, fixture)
})

/** Calls `path` and checks the body against the document's schema for `template` and the status. */
async function conforms(
  template: string,
  path: string,
  init: CallInit = {},
): Promise<{ status: number; body: unknown }> {
  const method = (init.method ?? 'GET').toLowerCase()
  const response = await call(app, path, init)
  const body: unknown = await response.json()
  const operation = document.paths[template]?.[method]
  expect(operation, `${method.toUpperCase()} ${template} is in the document`).toBeDefined()
  let described = operation!.responses[String(response.status)]
  // Shared error answers are `$ref`s to `components.responses`.
  if (described?.$ref) described = document.components.responses?.[described.$ref.split('/').at(-1)!]
  expect(
    described,
    `${method.toUpperCase()} ${path} answered ${response.status}, which the document lists`,
  ).toBeDefined()
  const schema = described!.content?.['application/json']?.schema
  expect(schema, `a JSON schema for ${response.status}`).toBeDefined()
  const root = { ...(schema as object), components: document.components }
  const result = new Validator(root as never, '2020-12', false).validate(body)
  expect(
    result.errors.map((e) => `${e.instanceLocation} ${e.error}`),
    `${method.toUpperCase()} ${path} → ${JSON.stringify(body).slice(0, 300)}`,
  ).toEqual([])
  return { status: response.status, body }
}

const post = (body: unknown, as: CallInit['as'] = 'publishable'): CallInit => ({
  method: 'POST',
  as,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('answers match the OpenAPI document', () => {
  it('should describe the public read routes as they answer', async () => {
    const user = fixture.users[3]!.id
    const item = fixture.itemIds[7]!
    expect((await conforms('/v1/health', '/v1/health', { as: null })).status).toBe(200)
    expect((await conforms('/v1/model', '/v1/model')).status).toBe(200)
    expect(
      (await conforms('/v1/users/{userId}/recommendations', `/v1/users/${user}/recommendations?k=5`)).status,
    ).toBe(200)
    expect(
      (await conforms('/v1/users/{userId}/recommendations', '/v1/users/nobody-known/recommendations')).status,
    ).toBe(200)
    expect((await conforms('/v1/items/{itemId}/similar', `/v1/items/${item}/similar?k=3`)).status).toBe(200)
    expect((await conforms('/v1/popular', '/v1/popular?k=4')).status).toBe(200)
    expect((await conforms('/v1/popular', '/v1/popular?window=trending')).status).toBe(200)
  })

  it('should describe the write routes as they answer', async () => {
    const accepted = await conforms(
      '/v1/events',
      '/v1/events',
      post({ events: [event({ anonymousId: 'a-doc', itemId: fixture.itemIds[1]! }), { id: 'bad' }] }),
    )
    expect(accepted.status).toBe(200)
    expect(
      (await conforms('/v1/identify', '/v1/identify', post({ anonymousId: 'a-doc', userId: 'u-doc' })))
        .status,
    ).toBe(200)
    const list = (await (await call(app, '/v1/popular?k=2')).json()) as { recId: string }
    expect(
      (await conforms('/v1/impressions', '/v1/impressions', post({ recIds: [list.recId] }))).status,
    ).toBe(200)
    const items = { items: [{ itemId: 'doc-new-1', categories: ['shoes'], price: 10, available: true }] }
    expect(
      (await conforms('/v1/items', '/v1/items', { ...post(items, 'secret'), method: 'PUT' })).status,
    ).toBe(200)
    expect(
      (await conforms('/v1/items/{itemId}', '/v1/items/doc-new-1', { method: 'DELETE', as: 'secret' }))
        .status,
    ).toBe(200)
  })

  it('should describe the admin routes as they answer', async () => {
    expect((await conforms('/v1/admin/rules', '/v1/admin/rules', { as: 'secret' })).status).toBe(200)
    const experiment = await conforms(
      '/v1/admin/experiments',
      '/v1/admin/experiments',
      post(
        {
          name: 'doc-ab',
          surface: 'recommendations',
          variants: [
            { name: 'control', weight: 1, strategy: 'popular' },
            { name: 'model', weight: 1, strategy: 'model' },
          ],
        },
        'secret',
      ),
    )
    expect(experiment.status).toBe(201)
    const id =
      (experiment.body as { experiment?: { id: string }; id?: string }).experiment?.id ??
      (experiment.body as { id: string }).id
    expect((await conforms('/v1/admin/experiments', '/v1/admin/experiments', { as: 'secret' })).status).toBe(
      200,
    )
    expect(
      (await conforms('/v1/admin/experiments/{id}', `/v1/admin/experiments/${id}`, { as: 'secret' })).status,
    ).toBe(200)
    expect(
      (
        await conforms('/v1/admin/experiments/{id}/results', `/v1/admin/experiments/${id}/results`, {
          as: 'secret',
        })
      ).status,
    ).toBe(200)
    expect((await conforms('/v1/admin/metrics', '/v1/admin/metrics', { as: 'secret' })).status).toBe(200)
    expect((await conforms('/v1/admin/shadows', '/v1/admin/shadows', { as: 'secret' })).status).toBe(200)
    expect(
      (
        await conforms('/v1/admin/users/{userId}', '/v1/admin/users/u-doc', {
          method: 'DELETE',
          as: 'secret',
        })
      ).status,
    ).toBe(200)
  })

  it('should describe error answers as {error: {code, message}} under the statuses it lists', async () => {
    expect(
      (await conforms('/v1/users/{userId}/recommendations', '/v1/users/x/recommendations', { as: null }))
        .status,
    ).toBe(401)
    expect(
      (await conforms('/v1/users/{userId}/recommendations', '/v1/users/x/recommendations?k=0')).status,
    ).toBe(400)
    expect((await conforms('/v1/items/{itemId}/similar', '/v1/items/not-an-item/similar')).status).toBe(404)
    expect((await conforms('/v1/events', '/v1/events', post({ events: 'nope' }))).status).toBe(400)
    expect((await conforms('/v1/admin/rules', '/v1/admin/rules', {})).status).toBe(403)
    expect(
      (await conforms('/v1/admin/experiments/{id}', '/v1/admin/experiments/missing', { as: 'secret' }))
        .status,
    ).toBe(404)
    expect(
      (
        await conforms(
          '/v1/admin/models/{version}/activate',
          '/v1/admin/models/no-such/activate',
          post({}, 'secret'),
        )
      ).status,
    ).toBe(404)
  })
})

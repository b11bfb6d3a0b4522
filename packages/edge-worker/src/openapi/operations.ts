/**
 * The OpenAPI description of every HTTP API v1 operation, one `describeRoute` middleware per route
 * (`OPERATIONS.events` on `POST /v1/events`…). A route without one is missing from the document,
 * which `test/openapi.test.ts` reports.
 *
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { type DescribeRouteOptions, describeRoute, resolver } from 'hono-openapi'
import type { AppEnv } from '../env.js'
import {
  eventBatchSchema,
  identityLinkSchema,
  idParameter,
  itemBatchSchema,
  type Parameter,
  QUERY,
} from './schemas.js'

type Responses = NonNullable<DescribeRouteOptions['responses']>
type Security = NonNullable<DescribeRouteOptions['security']>

/** The error answers every operation may give, as `components.responses`. */
export const ERROR_RESPONSES = {
  BadRequest:
    '400: the request is invalid (INVALID_REQUEST, INVALID_PARAMETER, INVALID_EVENTS, INVALID_ITEMS).',
  Unauthorized:
    '401: no key, a wrong key, the secret key in a URL (UNAUTHORIZED), or a bad user token (USER_TOKEN_INVALID).',
  Forbidden: '403: the key may not do this (FORBIDDEN), or a user token is needed (USER_TOKEN_REQUIRED).',
  NotFound:
    '404: no such route or resource (NOT_FOUND, ITEM_NOT_FOUND, MODEL_NOT_FOUND, EXPERIMENT_NOT_FOUND, SHADOW_NOT_FOUND).',
  Conflict:
    '409: the change conflicts with the current state (MODEL_INVALID, EXPERIMENT_CONFLICT, SHADOW_CONFLICT; MODEL_TOO_LARGE: a version for an experiment, canary or shadow cannot fit MODEL_MEMORY_MIB next to the live one).',
  PayloadTooLarge: '413: the body is too large (PAYLOAD_TOO_LARGE).',
  RateLimited: '429: too many requests from this client (RATE_LIMITED); see Retry-After.',
  Unavailable: '503: nothing to serve yet (NO_MODEL) or storage failed (STORAGE_UNAVAILABLE); retry.',
} as const

type ErrorName = keyof typeof ERROR_RESPONSES

const STATUS: Record<ErrorName, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  PayloadTooLarge: 413,
  RateLimited: 429,
  Unavailable: 503,
}

const json = (schema: { $ref: string } | { type: 'object' }) => ({ 'application/json': { schema } })
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

function answer(description: string, schema: string, errors: ErrorName[], status = 200): Responses {
  const responses: Responses = { [status]: { description, content: json(ref(schema)) } }
  for (const name of errors) responses[STATUS[name]] = { $ref: `#/components/responses/${name}` }
  return responses
}

/** Publishable or secret key (Bearer or `x-edgerec-key`); the user token is optional. */
const READ: Security = [{ publishableKey: [] }, { secretKey: [] }, { keyHeader: [] }]
/** Like {@link READ}, plus a user token alongside. */
const READ_WITH_TOKEN: Security = [
  ...READ,
  { publishableKey: [], userToken: [] },
  { keyHeader: [], userToken: [] },
]
/** The secret key only. */
const ADMIN: Security = [{ secretKey: [] }, { keyHeader: [] }]

const CLIENT_ERRORS: ErrorName[] = ['BadRequest', 'Unauthorized', 'RateLimited']

function op(options: DescribeRouteOptions): MiddlewareHandler<AppEnv> {
  return describeRoute(options)
}

type Parameters = NonNullable<DescribeRouteOptions['parameters']>

/** The parameters of an operation. NOTE: hono-openapi types schemas as OpenAPI 3.0; these are 3.1 (`type: [..., 'null']`). */
function params(...list: (Parameter | Parameter[])[]): Parameters {
  return list.flat() as unknown as Parameters
}

/** One `describeRoute` per operation; keys name the operation (its `operationId`). */
export const OPERATIONS = {
  events: op({
    operationId: 'sendEvents',
    tags: ['events'],
    summary: 'Send a batch of events',
    description:
      'Each event is validated on its own: a bad one is rejected alone (200 with its errors), including one whose context.recId this worker did not sign (code unrecognized). Any content type is read as JSON (navigator.sendBeacon). Idempotent by event id. The publishable key may also come as ?key= (page-hide keepalive).',
    security: [...READ_WITH_TOKEN, { publishableKeyQuery: [] }],
    requestBody: { required: true, content: { 'application/json': { schema: resolver(eventBatchSchema) } } },
    responses: answer('One result per event.', 'EventsResult', [
      ...CLIENT_ERRORS,
      'PayloadTooLarge',
      'Unavailable',
    ]),
  }),
  identify: op({
    operationId: 'identify',
    tags: ['events'],
    summary: 'Link an anonymous id to a user',
    description:
      'Links at once, so the next recommendations use what the visitor did anonymously. The first link of an anonymous id wins.',
    security: READ_WITH_TOKEN,
    requestBody: {
      required: true,
      content: { 'application/json': { schema: resolver(identityLinkSchema) } },
    },
    responses: answer('The link.', 'IdentifyResult', [...CLIENT_ERRORS, 'Forbidden', 'Unavailable']),
  }),
  impressions: op({
    operationId: 'markImpressions',
    tags: ['events'],
    summary: 'Mark served lists shown',
    description:
      'Each recId is checked on its own: one this worker did not sign (made up, altered, from another environment), or an unsigned UUID with no stored list, is rejected alone (200, rejected + errors, code unrecognized) and writes nothing. A body of the wrong shape is refused whole (400).',
    security: READ_WITH_TOKEN,
    requestBody: { required: true, content: json(ref('Impressions')) },
    responses: answer('How many lists were marked, and the recIds rejected.', 'ImpressionsResult', [
      ...CLIENT_ERRORS,
      'Unavailable',
    ]),
  }),
  recommendations: op({
    operationId: 'getRecommendations',
    tags: ['recommendations'],
    summary: 'Recommendations for a person',
    description:
      'Scores with the live model and folds in the person’s newest events; falls back to popular items. `:userId` is the user id after identify, or the anonymous id before it.',
    security: READ_WITH_TOKEN,
    parameters: params(
      idParameter('userId', 'The user id or anonymous id.'),
      QUERY.k,
      QUERY.exclude,
      QUERY.explain,
      QUERY.filters,
    ),
    responses: answer('The ranked items.', 'Recommendations', [...CLIENT_ERRORS, 'Forbidden', 'Unavailable']),
  }),
  similar: op({
    operationId: 'getSimilarItems',
    tags: ['recommendations'],
    summary: 'Items similar to an item',
    security: READ_WITH_TOKEN,
    parameters: params(idParameter('itemId', 'The item.'), QUERY.k, QUERY.userId, QUERY.filters),
    responses: answer('The most similar items.', 'Similar', [...CLIENT_ERRORS, 'NotFound', 'Unavailable']),
  }),
  popular: op({
    operationId: 'getPopularItems',
    tags: ['recommendations'],
    summary: 'Popular or trending items',
    security: READ_WITH_TOKEN,
    parameters: params(QUERY.k, QUERY.kind, QUERY.userId, QUERY.filters),
    responses: answer('The list.', 'Popular', [...CLIENT_ERRORS, 'Unavailable']),
  }),
  putItems: op({
    operationId: 'upsertItems',
    tags: ['catalog'],
    summary: 'Create or update catalog items',
    description: 'Upsert by itemId; a bad item is rejected alone (docs/catalog.md).',
    security: ADMIN,
    requestBody: { required: true, content: { 'application/json': { schema: resolver(itemBatchSchema) } } },
    responses: answer('One result per item.', 'ItemsResult', [
      ...CLIENT_ERRORS,
      'Forbidden',
      'PayloadTooLarge',
      'Unavailable',
    ]),
  }),
  deleteItem: op({
    operationId: 'deleteItem',
    tags: ['catalog'],
    summary: 'Delete a catalog item',
    description: 'The item leaves every answer.',
    security: ADMIN,
    parameters: params(idParameter('itemId', 'The item.')),
    responses: answer('Deleted.', 'ItemDeleted', [...CLIENT_ERRORS, 'Forbidden', 'Unavailable']),
  }),
  health: op({
    operationId: 'getHealth',
    tags: ['status'],
    summary: 'Health (public)',
    security: [],
    responses: answer('Up; degraded when the model could not be loaded.', 'Health', []),
  }),
  model: op({
    operationId: 'getModel',
    tags: ['status'],
    summary: 'The live model',
    security: READ,
    responses: answer('Version, dimensions, counts, memory, kernel.', 'Model', CLIENT_ERRORS),
  }),
  getRules: op({
    operationId: 'getRules',
    tags: ['admin'],
    summary: 'Read the merchandising rules',
    security: ADMIN,
    responses: answer('The rules, or null.', 'RulesDocument', ['Unauthorized', 'Forbidden']),
  }),
  putRules: op({
    operationId: 'putRules',
    tags: ['admin'],
    summary: 'Replace the merchandising rules',
    security: ADMIN,
    requestBody: { required: true, content: json(ref('Rules')) },
    responses: answer('The stored rules.', 'RulesDocument', ['BadRequest', 'Unauthorized', 'Forbidden']),
  }),
  activateModel: op({
    operationId: 'activateModel',
    tags: ['admin'],
    summary: 'Make a published model version live',
    description:
      'Checks the version is complete (every shard present, sizes right) before flipping models/live.',
    security: ADMIN,
    parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    responses: answer('The new live pointer.', 'ModelPointer', [
      'Unauthorized',
      'Forbidden',
      'NotFound',
      'Conflict',
    ]),
  }),
  rollbackModel: op({
    operationId: 'rollbackModel',
    tags: ['admin'],
    summary: 'Flip back to the previous model version',
    security: ADMIN,
    responses: answer('The new live pointer.', 'ModelPointer', [
      'Unauthorized',
      'Forbidden',
      'NotFound',
      'Conflict',
    ]),
  }),
  canary: op({
    operationId: 'startCanary',
    tags: ['admin'],
    summary: 'Serve a model version to a share of traffic as a canary',
    description: 'Promoted or rolled back by a non-inferiority test and guardrails (docs/online.md).',
    security: ADMIN,
    parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    requestBody: { required: false, content: json(ref('CanaryInput')) },
    responses: answer(
      'The canary experiment.',
      'Experiment',
      ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict'],
      201,
    ),
  }),
  deleteUser: op({
    operationId: 'deleteUser',
    tags: ['admin'],
    summary: "Delete a person's data",
    description: 'Their events (and those of anonymous ids linked to them), served lists and assignments.',
    security: ADMIN,
    parameters: params(idParameter('userId', 'The user.')),
    responses: answer('What was deleted.', 'UserDeleted', [
      'BadRequest',
      'Unauthorized',
      'Forbidden',
      'Unavailable',
    ]),
  }),
  metrics: op({
    operationId: 'getMetrics',
    tags: ['admin'],
    summary: 'Per-route requests, errors, latency and source mix',
    security: ADMIN,
    parameters: [
      {
        name: 'since',
        in: 'query',
        description: 'Epoch ms or ISO-8601; default an hour before until.',
        schema: { type: 'string' },
      },
      {
        name: 'until',
        in: 'query',
        description: 'Epoch ms or ISO-8601; default now.',
        schema: { type: 'string' },
      },
    ],
    responses: answer('The figures (docs/online.md).', 'AnyObject', [
      'BadRequest',
      'Unauthorized',
      'Forbidden',
    ]),
  }),
  listExperiments: op({
    operationId: 'listExperiments',
    tags: ['experiments'],
    summary: 'List experiments',
    security: ADMIN,
    responses: answer('Every experiment.', 'Experiments', ['Unauthorized', 'Forbidden']),
  }),
  createExperiment: op({
    operationId: 'createExperiment',
    tags: ['experiments'],
    summary: 'Define an experiment (draft)',
    security: ADMIN,
    requestBody: { required: true, content: json(ref('ExperimentInput')) },
    responses: answer(
      'The experiment.',
      'Experiment',
      ['BadRequest', 'Unauthorized', 'Forbidden', 'Conflict'],
      201,
    ),
  }),
  getExperiment: experiment('getExperiment', 'Read an experiment', 'The experiment.', 'Experiment'),
  experimentResults: op({
    operationId: 'getExperimentResults',
    tags: ['experiments'],
    summary: 'Per-variant and per-day results',
    security: ADMIN,
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
      {
        name: 'interval',
        in: 'query',
        description: 'Adds `series`: the same rates per minute, hour or day of the served time.',
        schema: { type: 'string', enum: ['minute', 'hour', 'day'] },
      },
    ],
    responses: answer(
      'Impressions, clicks, CTR, add-to-cart and purchase rates with 95 % intervals, z-tests against control.',
      'AnyObject',
      ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound'],
    ),
  }),
  evaluateExperiment: experiment(
    'evaluateExperiment',
    'Evaluate a canary now',
    'The decision (promote, roll back or continue) and its statistics.',
    'AnyObject',
  ),
  startExperiment: experiment(
    'startExperiment',
    'Start an experiment',
    'The experiment.',
    'Experiment',
    true,
  ),
  pauseExperiment: experiment(
    'pauseExperiment',
    'Pause an experiment',
    'The experiment.',
    'Experiment',
    true,
  ),
  stopExperiment: experiment(
    'stopExperiment',
    'Stop an experiment (final)',
    'The experiment.',
    'Experiment',
    true,
  ),
  createShadow: op({
    operationId: 'createShadow',
    tags: ['experiments'],
    summary: 'Score a candidate in shadow next to what is served on recommendations or similar',
    description:
      'Body { version?, strategy?, sample?, name?, surface? } or { experimentId, variant, sample?, surface? }; surface is recommendations (default; an experiment variant: its experiment\'s surface) or similar, one running shadow per surface (409 SHADOW_CONFLICT). The candidate scores a share of the requests after the answer; only the overlap with the served list is recorded (docs/online.md, "Shadow mode").',
    security: ADMIN,
    requestBody: { required: true, content: json(ref('ShadowInput')) },
    responses: answer(
      'The running shadow.',
      'AnyObject',
      ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict'],
      201,
    ),
  }),
  shadowModel: op({
    operationId: 'shadowModel',
    tags: ['admin'],
    summary: 'Score a model version in shadow next to what is served',
    description:
      "Body (optional) { sample?, strategy?, name?, surface? }: the path's version scores in shadow; see createShadow.",
    security: ADMIN,
    parameters: [{ name: 'version', in: 'path', required: true, schema: { type: 'string' } }],
    requestBody: { required: false, content: json(ref('ModelShadowInput')) },
    responses: answer(
      'The running shadow.',
      'AnyObject',
      ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict'],
      201,
    ),
  }),
  listShadows: op({
    operationId: 'listShadows',
    tags: ['experiments'],
    summary: 'List shadows with their overlap',
    security: ADMIN,
    responses: answer(
      'Every shadow, newest first, with overlap@k, Jaccard and average overlap.',
      'AnyObject',
      ['Unauthorized', 'Forbidden'],
    ),
  }),
  getShadow: experiment(
    'getShadow',
    'Read a shadow and its overlap',
    'The shadow with its mean overlap@k, Jaccard and average overlap, overall and per day.',
    'AnyObject',
  ),
  stopShadow: experiment('stopShadow', 'Stop a shadow', 'The stopped shadow with its overlap.', 'AnyObject'),
  openapi: op({
    operationId: 'getOpenApiDocument',
    tags: ['status'],
    summary: 'This document (public)',
    security: [],
    responses: {
      200: { description: 'The OpenAPI 3.1 document of HTTP API v1.', content: json({ type: 'object' }) },
    },
  }),
  docs: op({
    operationId: 'getApiReference',
    tags: ['status'],
    summary: 'Interactive API reference (public)',
    description:
      'An HTML page that renders this document with Scalar, loaded from a CDN, with a try-it console.',
    security: [],
    responses: {
      200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  }),
} satisfies Record<string, MiddlewareHandler<AppEnv>>

function experiment(
  operationId: string,
  summary: string,
  description: string,
  schema: string,
  lifecycle = false,
): MiddlewareHandler<AppEnv> {
  return op({
    operationId,
    tags: ['experiments'],
    summary,
    security: ADMIN,
    parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: answer(description, schema, [
      'Unauthorized',
      'Forbidden',
      'NotFound',
      ...(lifecycle ? (['Conflict'] as ErrorName[]) : []),
    ]),
  })
}

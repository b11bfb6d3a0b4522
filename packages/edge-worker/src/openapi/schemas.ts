/**
 * The schemas of HTTP API v1 for its OpenAPI document. Request bodies are Standard Schema objects
 * (vendor `edgerec`) that pair the validator the route calls (core's `validateBatch`,
 * `validateIdentity`, `validateItemBatch`) with core's JSON Schema built from the same limits, so
 * the document is generated from what validates requests; tests check both agree on samples
 * (`test/openapi.test.ts`). Answers and errors are plain JSON Schemas registered as components.
 *
 * @module
 */
import {
  CATALOG_LIMITS,
  type CompiledRules,
  compileRules,
  EVENT_BATCH_SCHEMA,
  EVENT_LIMITS,
  FIELD_ERROR_SCHEMA,
  type FieldError,
  ID_PATTERN,
  IDENTITY_LINK_SCHEMA,
  ITEM_BATCH_SCHEMA,
  type JsonSchema,
  LABEL_PATTERN,
  RULE_LIMITS,
  VERSION_PATTERN,
  validateBatch,
  validateIdentity,
  validateItemBatch,
} from '@edgerec/core'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { loadVendor } from 'hono-openapi'
import { MAX_IMPRESSIONS, parseImpressions } from '../attribution/impressions.js'
import { REC_ID_PATTERN } from '../attribution/rec-id.js'
import { MAX_FILTER_LABELS } from '../catalog/params.js'
import { API_ERRORS } from '../errors.js'
import {
  CANARY_BOUNDS,
  CANARY_DEFAULTS,
  CANARY_FIELDS,
  CANARY_INTEGER_FIELDS,
  type CanaryConfig,
  parseCanaryInput,
} from '../experiments/canary.js'
import {
  type ExperimentInput,
  MAX_EXPERIMENT_NAME_LENGTH,
  MAX_VARIANT_WEIGHT,
  MAX_VARIANTS,
  parseExperimentInput,
  STRATEGIES,
  SURFACE_STRATEGIES,
  SURFACES,
  VARIANT_NAME_PATTERN,
} from '../experiments/definition.js'
import {
  MODEL_SHADOW_FIELDS,
  parseModelShadowInput,
  parseShadowInput,
  SHADOW_FIELDS,
  type ShadowInput,
} from '../experiments/shadow.js'
import { MAX_EXCLUDE, MAX_K, ParamErrors } from '../params.js'

/** The Standard Schema vendor name of edgerec's request schemas. */
export const SCHEMA_VENDOR = 'edgerec'

/** A request schema: core's validator behind the Standard Schema interface, and its JSON Schema. */
export interface RequestSchema<Output> extends StandardSchemaV1<unknown, Output> {
  /** The JSON Schema (2020-12) the document publishes. */
  readonly jsonSchema: JsonSchema
}

/** A validator's verdict, as core's validators give it. */
export type Verdict<Output> = { ok: true; value: Output } | { ok: false; errors: readonly FieldError[] }

/** Wraps a core validator and its JSON Schema as a {@link RequestSchema}. */
export function requestSchema<Output>(
  jsonSchema: JsonSchema,
  validate: (input: unknown) => Verdict<Output>,
): RequestSchema<Output> {
  return {
    jsonSchema,
    '~standard': {
      version: 1,
      vendor: SCHEMA_VENDOR,
      validate: (input) => {
        const verdict = validate(input)
        if (verdict.ok) return { value: verdict.value }
        return {
          issues: verdict.errors.map((e) => ({
            message: e.message,
            path: e.field === '' ? [] : e.field.split('.'),
          })),
        }
      },
    },
  }
}

/**
 * A copy of `schema` where every titled sub-schema (core's `Event`, `Item`…) carries `$id: title`,
 * which the OpenAPI conversion turns into a named component and a `$ref`.
 */
function withComponentIds(schema: JsonSchema): JsonSchema {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk)
    if (value === null || typeof value !== 'object') return value
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) out[key] = walk(v)
    if (typeof out.title === 'string' && out.$id === undefined) out.$id = out.title
    return out
  }
  return walk(schema) as JsonSchema
}

// The converter hono-openapi calls for `resolver(requestSchema)`: the JSON Schema as it is.
loadVendor(SCHEMA_VENDOR, {
  toJSONSchema: (schema) => withComponentIds((schema as RequestSchema<unknown>).jsonSchema) as never,
})

/** A batch's events (or items) judged as a whole: only the shape; each element is judged alone. */
function batchVerdict<T>(
  result: { ok: true; results: T[] } | { ok: false; error: FieldError },
  elements: (results: T[]) => readonly FieldError[],
): Verdict<T[]> {
  if (!result.ok) return { ok: false, errors: [result.error] }
  const errors = elements(result.results)
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: result.results }
}

/**
 * `POST /v1/events`. The document's verdict is strict (every event valid); the route itself accepts
 * a batch whose shape is right and rejects bad events one by one (`results[].status`).
 */
export const eventBatchSchema = requestSchema(EVENT_BATCH_SCHEMA, (input) =>
  batchVerdict(validateBatch(input), (results) =>
    results.flatMap((r) => (r.ok ? [] : r.errors.map((e) => ({ ...e, field: `${r.index}.${e.field}` })))),
  ),
)

/** `POST /v1/identify`. */
export const identityLinkSchema = requestSchema(IDENTITY_LINK_SCHEMA, (input) => {
  const r = validateIdentity(input)
  return r.ok ? { ok: true, value: r.link } : { ok: false, errors: r.errors }
})

/** `PUT /v1/items`; strict like {@link eventBatchSchema}. */
export const itemBatchSchema = requestSchema(ITEM_BATCH_SCHEMA, (input) =>
  batchVerdict(validateItemBatch(input), (results) =>
    results.flatMap((r) => (r.ok ? [] : r.errors.map((e) => ({ ...e, field: `${r.index}.${e.field}` })))),
  ),
)

/** A {@link RequestSchema} over a validator that adds its problems to {@link ParamErrors}. */
function paramsSchema<Output>(
  jsonSchema: JsonSchema,
  parse: (errors: ParamErrors, input: unknown) => Output | null,
): RequestSchema<Output> {
  return requestSchema(jsonSchema, (input) => {
    const errors = new ParamErrors()
    const value = parse(errors, input)
    return value === null || errors.errors.length > 0
      ? { ok: false, errors: errors.errors }
      : { ok: true, value }
  })
}

/** `POST /v1/impressions`, validated by `parseImpressions` (src/attribution/impressions.ts). */
export const impressionsSchema = paramsSchema<string[]>(
  {
    type: 'object',
    description: 'The recIds of the lists the client showed.',
    properties: {
      recIds: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_IMPRESSIONS,
        items: {
          type: 'string',
          pattern: REC_ID_PATTERN.source,
          description:
            'A recId an answer carried, unchanged. A well-shaped recId this worker did not sign is rejected alone (see the answer).',
        },
      },
    },
    required: ['recIds'],
  },
  parseImpressions,
)

/** `POST /v1/admin/experiments`, validated by `parseExperimentInput` (src/experiments/definition.ts). */
export const experimentInputSchema = paramsSchema<ExperimentInput>(
  {
    type: 'object',
    description:
      'An experiment definition (docs/online.md): a surface and 2..8 weighted variants; the first variant is the control. Two checks JSON Schema cannot express are made by the route: variant names are unique, and each `version` named is a published model version (else 404).',
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: MAX_EXPERIMENT_NAME_LENGTH, pattern: '\\S' },
      surface: { type: 'string', enum: [...SURFACES] },
      variants: {
        type: 'array',
        minItems: 2,
        maxItems: MAX_VARIANTS,
        items: {
          type: 'object',
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: VARIANT_NAME_PATTERN.source },
            weight: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: MAX_VARIANT_WEIGHT,
              description: 'Relative traffic weight: shares are weight / Σ weights.',
            },
            strategy: { type: 'string', enum: [...STRATEGIES] },
            version: { type: 'string', pattern: VERSION_PATTERN.source },
          },
          required: ['name', 'weight', 'strategy'],
        },
      },
    },
    required: ['name', 'surface', 'variants'],
    // The strategies a surface can serve (`similar` has no user to fold in).
    anyOf: SURFACES.map((surface) => ({
      properties: {
        surface: { const: surface },
        variants: { items: { properties: { strategy: { enum: [...SURFACE_STRATEGIES[surface]] } } } },
      },
    })),
  },
  parseExperimentInput,
)

const until: JsonSchema = {
  type: ['number', 'string'],
  description: 'The rule stops applying after this time: epoch ms, or an ISO-8601 string (it must parse).',
}

/** `PUT /v1/admin/rules`, validated by core `compileRules`. */
export const rulesSchema = requestSchema<CompiledRules>(
  {
    type: 'object',
    description:
      'Merchandising rules: boosts, pins and diversity defaults (docs/catalog.md, "Rules and diversity"), validated by core `compileRules`. What JSON Schema cannot express is checked by the validator only: a boost `filter` must parse as a filter expression, an `until` string must parse as a date.',
    additionalProperties: false,
    properties: {
      boosts: {
        type: 'array',
        maxItems: RULE_LIMITS.maxBoosts,
        items: {
          type: 'object',
          properties: {
            filter: {
              type: 'string',
              description: 'A filter expression (docs/catalog.md); omitted: every item.',
            },
            newerThanDays: { type: 'number', exclusiveMinimum: 0 },
            factor: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: RULE_LIMITS.maxFactor,
              description: 'Multiplier: > 1 promotes, < 1 demotes.',
            },
            until,
          },
          required: ['factor'],
        },
      },
      pins: {
        type: 'array',
        maxItems: RULE_LIMITS.maxPins,
        items: {
          type: 'object',
          properties: {
            itemId: { type: 'string', minLength: 1, maxLength: RULE_LIMITS.maxItemIdLength },
            position: { type: 'integer', minimum: 1, maximum: RULE_LIMITS.maxPosition },
            until,
          },
          required: ['itemId', 'position'],
        },
      },
      maxPerCategory: {
        type: 'integer',
        minimum: 1,
        description: 'Default: at most this many items per category.',
      },
      diversity: { type: 'number', minimum: 0, maximum: 1, description: 'Default MMR knob (0: off).' },
    },
  },
  (input) => {
    const r = compileRules(input)
    return r.ok ? { ok: true, value: r.rules } : { ok: false, errors: r.errors }
  },
)

const requires = (...keys: string[]): JsonSchema => ({ anyOf: keys.map((key) => ({ required: [key] })) })

/** The fields a shadow definition shares with a model's shadow body. */
const shadowFields: Record<string, JsonSchema> = {
  name: { type: 'string', minLength: 1, maxLength: MAX_EXPERIMENT_NAME_LENGTH, pattern: '\\S' },
  surface: {
    type: 'string',
    enum: [...SURFACES],
    description: "Default: the experiment's surface, else recommendations.",
  },
  strategy: { type: 'string', enum: [...STRATEGIES] },
  sample: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 1,
    description: 'The share of requests shadowed (default 1).',
  },
}

/** A strategy the named surface can serve (any surface when none is named). */
const shadowSurfaceStrategy: JsonSchema = {
  anyOf: [
    { not: { required: ['surface'] } },
    ...SURFACES.map((surface) => ({
      properties: { surface: { const: surface }, strategy: { enum: [...SURFACE_STRATEGIES[surface]] } },
    })),
  ],
}

/** `POST /v1/admin/shadows`, validated by `parseShadowInput` (src/experiments/shadow.ts). */
export const shadowInputSchema = paramsSchema<ShadowInput>(
  {
    type: 'object',
    description:
      'A shadow candidate (docs/online.md, "Shadow mode"): a `version` and/or `strategy`, or `experimentId` + `variant` (that variant\'s strategy and version), never both. That the version is published and the experiment and variant exist is checked by the route (404).',
    additionalProperties: false,
    properties: {
      ...shadowFields,
      version: { type: 'string', pattern: VERSION_PATTERN.source },
      experimentId: { type: 'string' },
      variant: { type: 'string' },
    },
    propertyNames: { enum: [...SHADOW_FIELDS] },
    allOf: [
      {
        anyOf: [
          { required: ['experimentId', 'variant'], not: requires('strategy', 'version') },
          { allOf: [requires('strategy', 'version'), { not: requires('experimentId', 'variant') }] },
        ],
      },
      shadowSurfaceStrategy,
    ],
  },
  parseShadowInput,
)

/**
 * The body is judged with a valid path version: the version is a path parameter, checked (and
 * looked up, 404) by the route on its own.
 */
const PATH_VERSION = 'v1'

/** `POST /v1/admin/models/{version}/shadow`, validated by `parseModelShadowInput` (src/experiments/shadow.ts). */
export const modelShadowInputSchema = paramsSchema<ShadowInput>(
  {
    type: 'object',
    description:
      'Optional (an empty body shadows the version with the defaults): how the path\'s version is shadowed (docs/online.md, "Shadow mode"). The candidate is the path\'s version, so `version`, `experimentId` and `variant` are refused.',
    additionalProperties: false,
    properties: shadowFields,
    propertyNames: { enum: [...MODEL_SHADOW_FIELDS] },
    ...shadowSurfaceStrategy,
  },
  (errors, input) => parseModelShadowInput(errors, input, PATH_VERSION),
)

/** What each canary threshold means (src/experiments/canary.ts, `CanaryConfig`). */
const CANARY_DESCRIPTIONS: Record<keyof CanaryConfig, string> = {
  share: 'Share of people served by the canary.',
  minImpressions: 'Canary impressions before any CTR decision.',
  maxImpressions:
    'Canary impressions after which an undecided canary is rolled back; at least minImpressions (checked by the route).',
  margin: 'Non-inferiority margin δ, absolute CTR (0.01 = one percentage point).',
  alpha: 'One-sided significance level α.',
  maxErrorRateIncrease: "Guardrail: the canary's 5xx rate may exceed live's by at most this (absolute).",
  maxLatencyRatio: "Guardrail: the canary's p99 latency may be at most this multiple of live's.",
}

/** `POST /v1/admin/models/{version}/canary`, validated by `parseCanaryInput` (src/experiments/canary.ts). */
export const canaryInputSchema = paramsSchema<CanaryConfig>(
  {
    type: 'object',
    description:
      'Canary thresholds (docs/online.md, "Canary"), each optional with its default; the body itself is optional (all defaults). One check spanning two fields is made by the route: maxImpressions ≥ minImpressions.',
    additionalProperties: false,
    properties: Object.fromEntries(
      CANARY_FIELDS.map((field) => [
        field,
        {
          type: CANARY_INTEGER_FIELDS.includes(field) ? 'integer' : 'number',
          minimum: CANARY_BOUNDS[field][0],
          maximum: CANARY_BOUNDS[field][1],
          default: CANARY_DEFAULTS[field],
          description: CANARY_DESCRIPTIONS[field],
        },
      ]),
    ),
  },
  parseCanaryInput,
)

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` })
const id: JsonSchema = {
  type: 'string',
  minLength: 1,
  maxLength: EVENT_LIMITS.maxEntityIdLength,
  pattern: ID_PATTERN.source,
}
const scored: JsonSchema = {
  type: 'object',
  properties: { itemId: { type: 'string' }, score: { type: 'number' } },
  required: ['itemId', 'score'],
}
const attribution: Record<string, JsonSchema> = {
  recId: {
    type: 'string',
    pattern: REC_ID_PATTERN.source,
    description:
      'Unique per answer, signed by the worker (docs/online.md, "Signed recIds"); opaque: send it back unchanged with impressions and events.',
  },
  variant: {
    type: 'string',
    description: 'The experiment variant that served the list; `live` outside experiments.',
  },
}

/** The answers' and errors' schemas, as `components.schemas` of the document. */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  FieldError: FIELD_ERROR_SCHEMA,
  Error: {
    type: 'object',
    description: 'Every failure: a stable code, a message saying what happened and how to fix it.',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: Object.keys(API_ERRORS) },
          message: { type: 'string' },
          details: { description: 'Field errors (FieldError[]) for validation failures, or other context.' },
        },
        required: ['code', 'message'],
      },
    },
    required: ['error'],
  },
  ScoredItem: scored,
  RecommendedItem: {
    type: 'object',
    properties: {
      itemId: { type: 'string' },
      score: { type: 'number' },
      source: { type: 'string', enum: ['content'], description: 'Set for new items scored by content.' },
      because: {
        type: 'array',
        description: 'With explain=1: the items of the person’s history that contributed most.',
        items: {
          type: 'object',
          properties: { itemId: { type: 'string' }, contribution: { type: 'number' } },
          required: ['itemId', 'contribution'],
        },
      },
    },
    required: ['itemId', 'score'],
  },
  Recommendations: {
    type: 'object',
    properties: {
      userId: { type: 'string' },
      items: { type: 'array', items: ref('RecommendedItem') },
      source: { type: 'string', enum: ['model', 'fold-in', 'popular', 'trending'] },
      modelVersion: { type: ['string', 'null'] },
      ...attribution,
    },
    required: ['userId', 'items', 'source', 'modelVersion'],
  },
  Similar: {
    type: 'object',
    properties: {
      itemId: { type: 'string' },
      items: { type: 'array', items: ref('ScoredItem') },
      source: { type: 'string' },
      modelVersion: { type: ['string', 'null'] },
      ...attribution,
    },
    required: ['itemId', 'items', 'source', 'modelVersion'],
  },
  Popular: {
    type: 'object',
    properties: {
      items: { type: 'array', items: ref('ScoredItem') },
      source: { type: 'string', enum: ['popular', 'trending'] },
      modelVersion: { type: ['string', 'null'] },
      ...attribution,
    },
    required: ['items', 'source', 'modelVersion'],
  },
  EventsResult: {
    type: 'object',
    properties: {
      accepted: { type: 'integer' },
      duplicates: { type: 'integer' },
      rejected: { type: 'integer' },
      results: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            id: { type: 'string' },
            status: { type: 'string', enum: ['accepted', 'duplicate', 'rejected'] },
            errors: { type: 'array', items: ref('FieldError') },
          },
          required: ['index', 'status'],
        },
      },
    },
    required: ['accepted', 'duplicates', 'rejected', 'results'],
  },
  IdentifyResult: {
    type: 'object',
    properties: {
      userId: { type: 'string' },
      anonymousId: { type: 'string' },
      linked: {
        type: 'boolean',
        description: 'False when the anonymous id was already linked (to any user).',
      },
    },
    required: ['userId', 'anonymousId', 'linked'],
  },
  ItemsResult: {
    type: 'object',
    properties: {
      created: { type: 'integer' },
      updated: { type: 'integer' },
      rejected: { type: 'integer' },
      results: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            index: { type: 'integer' },
            itemId: { type: 'string' },
            status: { type: 'string', enum: ['created', 'updated', 'rejected'] },
            errors: { type: 'array', items: ref('FieldError') },
          },
          required: ['index', 'status'],
        },
      },
    },
    required: ['created', 'updated', 'rejected', 'results'],
  },
  ItemDeleted: {
    type: 'object',
    properties: { itemId: { type: 'string' }, deleted: { const: true }, existed: { type: 'boolean' } },
    required: ['itemId', 'deleted', 'existed'],
  },
  Impressions: impressionsSchema.jsonSchema,
  ImpressionsResult: {
    type: 'object',
    properties: {
      shown: { type: 'integer', description: 'How many served lists were newly marked shown.' },
      rejected: {
        type: 'integer',
        description:
          'Entries of `recIds` rejected alone, writing nothing: a recId this worker did not sign, or an unsigned (UUID) one with no stored list.',
      },
      errors: {
        type: 'array',
        description: 'One per rejected entry; `field` is `recIds[i]`, `code` is `unrecognized`.',
        items: ref('FieldError'),
      },
    },
    required: ['shown', 'rejected', 'errors'],
  },
  Health: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'degraded'] },
      modelVersion: { type: ['string', 'null'] },
      reasons: {
        type: 'array',
        description:
          'Why the status is degraded: `model` (the live version failed an integrity check; an older one serves), `catalog` (a catalog shard of the served version failed; its rows are left out).',
        items: { type: 'string', enum: ['model', 'catalog'] },
      },
    },
    required: ['status', 'modelVersion'],
  },
  Model: {
    type: 'object',
    description: 'The live model as this isolate sees it (docs/edge-worker.md).',
    properties: {
      version: { type: ['string', 'null'] },
      loadedAt: { type: ['string', 'number', 'null'] },
      dims: { type: ['integer', 'null'] },
      counts: { type: ['object', 'null'] },
      metrics: { type: ['object', 'null'] },
      memory: { type: ['object', 'null'] },
      scoringKernel: { type: ['string', 'null'] },
      candidates: {
        type: ['object', 'null'],
        description:
          "Precomputed candidates in the version's user buckets (issue 16): `perUser`, `nprobe` and `recall` as the trainer recorded them, and `answered`, the recommendations this isolate answered from them without a scan. Null when the version has none.",
      },
      extraVersions: {
        type: 'object',
        description:
          'Versions of experiment variants, canaries and shadows this isolate holds next to the live one (at most `max`; `held[].plannedBytes` as planned from each manifest, `plannedBytes` their sum) and `lastRefusal`: the last one refused because it did not fit `MODEL_MEMORY_MIB` next to the live one (`version`, `neededBytes`, `budgetBytes`, `message`, `at`; its requests are served by the live model), null when none.',
        properties: {
          max: { type: 'integer' },
          held: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                version: { type: 'string' },
                plannedBytes: { type: 'integer' },
                loaded: { type: 'boolean' },
              },
              required: ['version', 'plannedBytes', 'loaded'],
            },
          },
          plannedBytes: { type: 'integer' },
          lastRefusal: {
            type: ['object', 'null'],
            properties: {
              version: { type: 'string' },
              code: { const: 'MODEL_TOO_LARGE' },
              neededBytes: { type: 'integer' },
              budgetBytes: { type: 'integer' },
              message: { type: 'string' },
              at: { type: 'string' },
            },
            required: ['version', 'code', 'neededBytes', 'budgetBytes', 'message', 'at'],
          },
        },
        required: ['max', 'held', 'plannedBytes', 'lastRefusal'],
      },
      degraded: { type: 'boolean' },
      lastError: { type: ['string', 'null'] },
    },
  },
  Rules: rulesSchema.jsonSchema,
  RulesDocument: {
    type: 'object',
    properties: { rules: { anyOf: [ref('Rules'), { type: 'null' }] } },
    required: ['rules'],
  },
  ModelPointer: {
    type: 'object',
    description: 'The live pointer after the change, with the checked shard count and bytes.',
    properties: { version: { type: 'string' }, shards: { type: 'integer' }, bytes: { type: 'integer' } },
  },
  UserDeleted: {
    type: 'object',
    description: "What was deleted of the person's data (docs/privacy.md).",
    properties: { userId: { type: 'string' }, deleted: { type: 'object' } },
    required: ['userId'],
  },
  ExperimentInput: experimentInputSchema.jsonSchema,
  Experiment: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      surface: { type: 'string', enum: ['recommendations', 'similar'] },
      status: { type: 'string', enum: ['draft', 'running', 'paused', 'stopped'] },
      variants: { type: 'array', items: { type: 'object' } },
      kind: { type: 'string', enum: ['ab', 'canary'] },
      createdAt: { type: 'number' },
      startedAt: { type: ['number', 'null'] },
      stoppedAt: { type: ['number', 'null'] },
    },
    required: ['id', 'name', 'surface', 'status', 'variants'],
  },
  Experiments: {
    type: 'object',
    properties: { experiments: { type: 'array', items: ref('Experiment') } },
    required: ['experiments'],
  },
  ShadowInput: shadowInputSchema.jsonSchema,
  ModelShadowInput: modelShadowInputSchema.jsonSchema,
  CanaryInput: canaryInputSchema.jsonSchema,
  AnyObject: { type: 'object', description: 'A JSON object; its fields are described in the linked docs.' },
}

/** An OpenAPI parameter object. */
export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  description?: string
  schema: JsonSchema
}

/** A path parameter holding a user or item id. */
export function idParameter(name: string, description: string): Parameter {
  return { name, in: 'path', required: true, description, schema: id }
}

const labelList: JsonSchema = {
  type: 'string',
  description: `Comma-separated, at most ${MAX_FILTER_LABELS} labels, each matching ${LABEL_PATTERN.source} (≤ ${CATALOG_LIMITS.maxLabelLength} chars).`,
}

/** Query parameters shared by the read routes, built from the limits the parsers enforce. */
export const QUERY = {
  k: {
    name: 'k',
    in: 'query',
    description: 'How many items to return.',
    schema: { type: 'integer', minimum: 1, maximum: MAX_K, default: 10 },
  },
  exclude: {
    name: 'exclude',
    in: 'query',
    description: `Comma-separated item ids to leave out (at most ${MAX_EXCLUDE}).`,
    schema: { type: 'string' },
  },
  explain: {
    name: 'explain',
    in: 'query',
    description:
      'With 1: each item says which of the person’s items it comes from. Needs a user token for :userId or the secret key.',
    schema: { type: 'string', enum: ['0', '1', 'true', 'false'], default: '0' },
  },
  userId: {
    name: 'userId',
    in: 'query',
    description: 'Who the list is for (attribution and experiments); optional.',
    schema: id,
  },
  kind: {
    name: 'kind',
    in: 'query',
    schema: { type: 'string', enum: ['popular', 'trending'], default: 'popular' },
  },
  filters: [
    { name: 'category', in: 'query', description: 'Any of these categories.', schema: labelList },
    { name: 'tag', in: 'query', description: 'Any of these tags.', schema: labelList },
    { name: 'minPrice', in: 'query', schema: { type: 'number', minimum: 0 } },
    { name: 'maxPrice', in: 'query', schema: { type: 'number', minimum: 0 } },
    {
      name: 'available',
      in: 'query',
      description: 'true (default): available items only; false: unavailable only; any: both.',
      schema: { type: 'string', enum: ['true', 'false', '1', '0', 'any'] },
    },
    {
      name: 'filter',
      in: 'query',
      description: 'A filter expression over item fields and attributes (docs/edge-worker.md, "Filters").',
      schema: { type: 'string' },
    },
    {
      name: 'maxPerCategory',
      in: 'query',
      description: 'Diversity: at most this many items per category.',
      schema: { type: 'integer', minimum: 1, maximum: 100 },
    },
    {
      name: 'diversity',
      in: 'query',
      description: 'Diversity re-ranking strength (MMR λ).',
      schema: { type: 'number', minimum: 0, maximum: 1 },
    },
  ],
} satisfies Record<string, Parameter | Parameter[]>

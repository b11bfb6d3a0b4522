/**
 * JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) of the request bodies core validates:
 * events, identity links and catalog items. Built from the same constants as the validators
 * (`EVENT_LIMITS`, `ID_PATTERN`, `CATALOG_LIMITS`…), so a limit changes in one place; the edge
 * worker publishes them in its OpenAPI document (`GET /v1/openapi.json`) and its tests check that
 * the validators and these schemas agree on valid and invalid samples.
 *
 * What a schema cannot say is checked by the validator alone and written in the `description`:
 * an event timestamp's clock skew (relative to the receive time), and that an ISO-8601 string parses.
 *
 * @module
 */
import {
  ATTRIBUTE_NAME_PATTERN,
  CATALOG_LIMITS,
  LABEL_PATTERN,
  RESERVED_ATTRIBUTE_NAMES,
} from '../catalog/item.js'
import { FIELD_ERROR_CODES, STANDARD_EVENT_TYPES } from '../events/event.js'
import { EVENT_LIMITS, EVENT_TYPE_PATTERN, ID_PATTERN } from '../events/limits.js'

/**
 * A JSON Schema (draft 2020-12) as plain data. Only the keywords edgerec uses are typed; the
 * index signature keeps it open for annotations (`examples`, `deprecated`…).
 */
export interface JsonSchema {
  $id?: string
  title?: string
  description?: string
  type?: JsonSchemaType | JsonSchemaType[]
  enum?: readonly (string | number | boolean | null)[]
  const?: string | number | boolean | null
  properties?: Record<string, JsonSchema>
  required?: readonly string[]
  additionalProperties?: boolean | JsonSchema
  propertyNames?: JsonSchema
  maxProperties?: number
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  format?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  not?: JsonSchema
  default?: unknown
  examples?: readonly unknown[]
  [annotation: string]: unknown
}

/** A JSON Schema `type`. */
export type JsonSchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null'

/** An id as events and items carry them: printable ASCII, no spaces, quotes, `<`, `>`, `\` or backtick. */
export function idSchema(maxLength: number, description: string): JsonSchema {
  return { type: 'string', minLength: 1, maxLength, pattern: ID_PATTERN.source, description }
}

/** A flat scalar: what `context` and `attributes` values may be. */
function flatScalar(maxStringLength: number): JsonSchema {
  return {
    anyOf: [{ type: 'string', maxLength: maxStringLength }, { type: 'number' }, { type: 'boolean' }],
  }
}

/**
 * Epoch ms or an ISO-8601 date(-time) (a date-time without zone is read as UTC). The validators also
 * check that the string parses.
 */
const ISO_TIMESTAMP_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}.*)?$'

/** One event, as `POST /v1/events` takes it (core `validateEvent`). */
export const EVENT_SCHEMA: JsonSchema = {
  title: 'Event',
  description:
    'An interaction. At least one of userId and anonymousId; events carrying both link them. A timestamp more than 10 minutes ahead of the worker clock is rejected (range).',
  type: 'object',
  properties: {
    id: idSchema(
      EVENT_LIMITS.maxIdLength,
      'Client-generated unique id (a UUID): ingestion is idempotent by it.',
    ),
    userId: {
      ...idSchema(EVENT_LIMITS.maxEntityIdLength, 'The known user, once identified.'),
      type: ['string', 'null'],
    },
    anonymousId: {
      ...idSchema(EVENT_LIMITS.maxEntityIdLength, "The device's anonymous id."),
      type: ['string', 'null'],
    },
    itemId: idSchema(EVENT_LIMITS.maxEntityIdLength, 'The item the event is about.'),
    type: {
      type: 'string',
      minLength: 1,
      maxLength: EVENT_LIMITS.maxTypeLength,
      pattern: EVENT_TYPE_PATTERN.source,
      description: `A standard type (${STANDARD_EVENT_TYPES.join(', ')}) or a custom one.`,
      examples: [...STANDARD_EVENT_TYPES],
    },
    value: {
      type: ['number', 'null'],
      minimum: -EVENT_LIMITS.maxAbsValue,
      maximum: EVENT_LIMITS.maxAbsValue,
      description: 'Optional magnitude: a rating, a quantity.',
    },
    timestamp: {
      description: 'When it happened: epoch milliseconds (from 2000-01-01) or an ISO-8601 date or date-time.',
      anyOf: [
        { type: 'number', minimum: EVENT_LIMITS.minTimestamp },
        { type: 'string', maxLength: 40, pattern: ISO_TIMESTAMP_PATTERN },
      ],
    },
    context: {
      type: ['object', 'null'],
      description: 'Optional flat attributes (page, device, price…).',
      maxProperties: EVENT_LIMITS.maxContextKeys,
      propertyNames: { maxLength: EVENT_LIMITS.maxContextKeyLength },
      additionalProperties: flatScalar(EVENT_LIMITS.maxContextValueLength),
    },
  },
  required: ['id', 'itemId', 'type', 'timestamp'],
  anyOf: [
    { properties: { userId: { type: 'string' } }, required: ['userId'] },
    { properties: { anonymousId: { type: 'string' } }, required: ['anonymousId'] },
  ],
  additionalProperties: false,
}

/**
 * The body of `POST /v1/events` (core `validateBatch`): the batch shape is judged as a whole (400
 * otherwise), each event on its own (a bad one is rejected alone, with 200).
 */
export const EVENT_BATCH_SCHEMA: JsonSchema = {
  title: 'EventBatch',
  description: `At most ${EVENT_LIMITS.maxBatchSize} events (and 1 MiB). A bare array of events is accepted too.`,
  anyOf: [
    {
      type: 'object',
      properties: {
        events: { type: 'array', minItems: 1, maxItems: EVENT_LIMITS.maxBatchSize, items: EVENT_SCHEMA },
      },
      required: ['events'],
    },
    { type: 'array', minItems: 1, maxItems: EVENT_LIMITS.maxBatchSize, items: EVENT_SCHEMA },
  ],
}

/** The body of `POST /v1/identify` (core `validateIdentity`). */
export const IDENTITY_LINK_SCHEMA: JsonSchema = {
  title: 'IdentityLink',
  description: 'Links an anonymous id to a user id; the first user an anonymous id is linked to keeps it.',
  type: 'object',
  properties: {
    userId: idSchema(EVENT_LIMITS.maxEntityIdLength, 'The signed-in user.'),
    anonymousId: idSchema(EVENT_LIMITS.maxEntityIdLength, "The device's anonymous id."),
  },
  required: ['userId', 'anonymousId'],
  additionalProperties: false,
}

function labelsSchema(max: number, description: string): JsonSchema {
  return {
    type: ['array', 'null'],
    maxItems: max,
    description,
    items: {
      type: 'string',
      minLength: 1,
      maxLength: CATALOG_LIMITS.maxLabelLength,
      pattern: LABEL_PATTERN.source,
    },
  }
}

/** One catalog item, as `PUT /v1/items` takes it (core `validateItem`). */
export const ITEM_SCHEMA: JsonSchema = {
  title: 'Item',
  description: 'A catalog item; labels are deduplicated in order. Unknown top-level fields are rejected.',
  type: 'object',
  properties: {
    itemId: idSchema(EVENT_LIMITS.maxEntityIdLength, 'The item id, as events name it.'),
    categories: labelsSchema(CATALOG_LIMITS.maxCategories, 'Category labels (e.g. shoes, shoes/running).'),
    tags: labelsSchema(CATALOG_LIMITS.maxTags, 'Free labels (e.g. red, sale).'),
    price: {
      type: ['number', 'null'],
      minimum: 0,
      maximum: CATALOG_LIMITS.maxPrice,
      description: "Price in the shop's currency; null for none.",
    },
    available: {
      type: 'boolean',
      default: true,
      description: 'False takes the item out of every answer unless a request asks for unavailable items.',
    },
    createdAt: {
      description: 'When the item was added: epoch ms or an ISO-8601 date(-time), from 2000-01-01.',
      anyOf: [
        { type: 'number', minimum: EVENT_LIMITS.minTimestamp },
        { type: 'string', maxLength: 40, pattern: '^\\d{4}-\\d{2}-\\d{2}' },
        { type: 'null' },
      ],
    },
    attributes: {
      type: ['object', 'null'],
      description: 'Custom flat attributes (brand, size…), usable in filter expressions.',
      maxProperties: CATALOG_LIMITS.maxAttributes,
      propertyNames: {
        maxLength: CATALOG_LIMITS.maxAttributeNameLength,
        pattern: ATTRIBUTE_NAME_PATTERN.source,
        not: { enum: [...RESERVED_ATTRIBUTE_NAMES] },
      },
      additionalProperties: flatScalar(CATALOG_LIMITS.maxAttributeValueLength),
    },
  },
  required: ['itemId'],
  additionalProperties: false,
}

/** The body of `PUT /v1/items` (core `validateItemBatch`). */
export const ITEM_BATCH_SCHEMA: JsonSchema = {
  title: 'ItemBatch',
  description: `At most ${CATALOG_LIMITS.maxBatchSize} items (and 1 MiB); a bad item is rejected alone. A bare array is accepted too.`,
  anyOf: [
    {
      type: 'object',
      properties: {
        items: { type: 'array', minItems: 1, maxItems: CATALOG_LIMITS.maxBatchSize, items: ITEM_SCHEMA },
      },
      required: ['items'],
    },
    { type: 'array', minItems: 1, maxItems: CATALOG_LIMITS.maxBatchSize, items: ITEM_SCHEMA },
  ],
}

/** A field-level error, as validators report them (`FieldError`). */
export const FIELD_ERROR_SCHEMA: JsonSchema = {
  title: 'FieldError',
  type: 'object',
  properties: {
    field: { type: 'string', description: 'Dotted path of the field, e.g. itemId or context.page.' },
    code: {
      type: 'string',
      enum: FIELD_ERROR_CODES,
    },
    message: { type: 'string' },
  },
  required: ['field', 'code', 'message'],
}

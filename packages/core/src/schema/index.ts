export type { JsonSchema, JsonSchemaType } from './schemas.js'
export {
  EVENT_BATCH_SCHEMA,
  EVENT_SCHEMA,
  FIELD_ERROR_SCHEMA,
  IDENTITY_LINK_SCHEMA,
  ITEM_BATCH_SCHEMA,
  ITEM_SCHEMA,
  idSchema,
} from './schemas.js'

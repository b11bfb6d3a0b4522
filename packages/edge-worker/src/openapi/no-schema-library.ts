/**
 * What the worker bundle gets instead of the schema libraries hono-openapi can convert (zod, found
 * in node_modules through other tools): edgerec's request schemas are their own Standard Schema
 * vendor (`schemas.ts`), so those converters are never called, and wrangler.jsonc `alias` maps
 * their imports here to keep ~800 KiB of zod out of the worker. Importing it yields no converter,
 * which hono-openapi reports as a missing dependency if a zod schema is ever passed.
 *
 * @module
 */
export {}

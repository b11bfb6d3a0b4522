/**
 * Test servers for code built on `@edgerec/adapters` (`@edgerec/adapters/testing`): real
 * protocol servers on 127.0.0.1 and a random port. Needs the server's package installed as a
 * dev dependency (`s3rver` for {@link startS3rver}, `@google-cloud/storage` for the CRC32C of
 * {@link startGcsServer}).
 *
 * @module
 */

export { type GcsServerHandle, startGcsServer } from './gcs-json-api.js'
export { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from './s3rver.js'

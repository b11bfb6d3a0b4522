/**
 * Test servers for code built on `@edgerec/adapters` (`@edgerec/adapters/testing`): real
 * protocol servers on 127.0.0.1 and a random port. Needs the server's package installed as a
 * dev dependency (`s3rver`).
 *
 * @module
 */
export { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from './s3rver.js'

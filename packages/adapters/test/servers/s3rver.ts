/** s3rver for the adapters tests: the shared starter ships as `@edgerec/adapters/testing`. */
export { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../../src/testing/s3rver.js'

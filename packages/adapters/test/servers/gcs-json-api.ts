/** The GCS JSON-API test server for the adapters tests: the shared starter ships as `@edgerec/adapters/testing`. */
export { type GcsServerHandle, startGcsServer } from '../../src/testing/gcs-json-api.js'

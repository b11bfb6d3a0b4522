import { AdapterError } from '../errors.js'

/** gRPC status codes used by Google APIs. */
export const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
}

/** Maps a google-gax error to an AdapterError with a fix. */
export function vertexAiError(error: unknown, action: string): AdapterError {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown })?.code
  if (/Could not load the default credentials|Could not refresh access token|invalid_grant/i.test(message)) {
    return new AdapterError(
      'CREDENTIALS_MISSING',
      `No usable Google credentials to ${action} (missing, expired or revoked): ${message}. Run \`gcloud auth application-default login\` (again, if they expired), set GOOGLE_APPLICATION_CREDENTIALS to a valid key, or run on GCP with a service account.`,
      { cause: error },
    )
  }
  if (code === GRPC.RESOURCE_EXHAUSTED) {
    return new AdapterError(
      'QUOTA_EXCEEDED',
      `Vertex AI refused to ${action}: ${message}. Request a quota increase for custom training in this region (IAM & Admin → Quotas) or choose another machine type or region.`,
      { cause: error },
    )
  }
  if (code === GRPC.UNAUTHENTICATED) {
    return new AdapterError(
      'AUTH',
      `Google did not accept the credentials to ${action} (expired, revoked or malformed): ${message}. Refresh them (\`gcloud auth application-default login\`, or a new key in GOOGLE_APPLICATION_CREDENTIALS) and run again.`,
      { cause: error },
    )
  }
  if (code === GRPC.PERMISSION_DENIED) {
    return new AdapterError(
      'AUTH',
      `Google denied the request to ${action}: ${message}. Grant roles/aiplatform.user to the caller (and iam.serviceAccountUser on the job's service account).`,
      { cause: error },
    )
  }
  if (code === GRPC.INVALID_ARGUMENT) {
    return new AdapterError(
      'CONFIG_INVALID',
      `Vertex AI rejected the request to ${action}: ${message}. Fix the compute config (image, machineType, location).`,
      { cause: error },
    )
  }
  if (code === GRPC.NOT_FOUND) {
    return new AdapterError(
      'NOT_FOUND',
      `Vertex AI could not ${action}: ${message}. Check the job name, project and location.`,
      {
        cause: error,
      },
    )
  }
  return new AdapterError('UNAVAILABLE', `Vertex AI failed to ${action}: ${message}.`, { cause: error })
}

import type { AuthClient } from 'google-auth-library'
import { loadProvider } from '../config/load-provider.js'
import { vertexAiError } from './errors.js'

/** The OAuth scope of Google Cloud APIs (Vertex AI, Cloud Scheduler). */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

/**
 * Application Default Credentials, resolved up front.
 *
 * NOTE: resolving them before the first call turns "no credentials" into one clear error; a
 * google-gax client would otherwise reject once per lazily created method stub.
 *
 * @throws AdapterError `CREDENTIALS_MISSING` when no credentials are found
 * @internal
 */
export async function googleAuthClient(action: string): Promise<AuthClient> {
  const { GoogleAuth } = await loadProvider(
    'compute',
    'vertex-ai',
    ['google-auth-library'],
    () => import('google-auth-library'),
  )
  try {
    return await new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] }).getClient()
  } catch (error) {
    throw vertexAiError(error, action)
  }
}

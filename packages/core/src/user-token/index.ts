/**
 * User tokens (compact JWT, HS256) that prove who a request is about.
 *
 * @module
 */
export type {
  SignUserTokenOptions,
  UserTokenClaims,
  UserTokenFailure,
  UserTokenResult,
  VerifyUserTokenOptions,
} from './user-token.js'
export {
  signUserToken,
  USER_TOKEN_DEFAULT_TTL_SECONDS,
  USER_TOKEN_MAX_LENGTH,
  USER_TOKEN_MAX_TTL_SECONDS,
  USER_TOKEN_MIN_SECRET_BYTES,
  verifyUserToken,
} from './user-token.js'

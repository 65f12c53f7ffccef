export {
  type Auth,
  type AuthOptions,
  type CredentialLimits,
  createAuth,
  type KeyRevocations,
} from './auth.ts';
export {
  isPinList,
  KEY_ID_RE,
  PIN_LIMITS,
  PINS_CLAIM,
  type Principal,
  SCOPES,
  type Scope,
  TENANT_RE,
  tokenTimes,
} from './claims.ts';
export { type Algorithm, type AuthConfig, authConfigSchema, SUPPORTED_ALGORITHMS } from './config.ts';
export {
  type CredentialAttempt,
  type CredentialGuardOptions,
  createCredentialGuard,
  NO_CREDENTIAL_LIMITS,
  type TokenEndpointGuard,
} from './credential-guard.ts';
export { unauthorized } from './errors.ts';
export { MAX_AUTHORIZATION_BYTES, tokenFromAuthorization } from './header.ts';
export type { IssueOptions } from './issuer.ts';
export { MAX_LOGIN_BODY_BYTES } from './login.ts';
export { loginPathDoc } from './login-openapi.ts';
export { DEFAULT_SCRYPT_PARAMS, hashPassword, type ScryptParams } from './password.ts';

export {
  type AdminAction,
  type AdminRouteDeps,
  createAdminRoutes,
  type RecordAction,
} from './admin-routes.ts';
export { OPERATOR_TENANT, TENANT_KEY_SCOPES } from './admin-schemas.ts';
export {
  ANALYST_PROFILE,
  analystDdl,
  analystUser,
  createAnalyst,
  SHARED_TABLES,
  TENANT_TABLES,
} from './analysts.ts';
export { type ApiAuth, startApiAuth } from './api-auth.ts';
export { bootstrapAdminKey } from './bootstrap.ts';
export { type CredentialsConfig, credentialsConfigSchema } from './config.ts';
export { type Credentials, type CredentialsStartConfig, startCredentials } from './credentials.ts';
export { MAX_TOKEN_BODY_BYTES, parseTokenRequest } from './grant.ts';
export { generateKey, hashSecret, KEY_PREFIX, parseKey, secretMatches } from './key-format.ts';
export { OAuthError } from './oauth-errors.ts';
export { adminPathsDoc, tokenPathDoc } from './openapi.ts';
export { createRevocationPoller, type RevocationPoller } from './revocations.ts';
export {
  CONTROL_DATABASE,
  controlDdl,
  createKeyStore,
  foldKey,
  type KeyState,
  type KeyStore,
} from './store.ts';
export { createTokenRoutes, type TokenAttempt, type TokenEndpointGuard } from './token-route.ts';

import { type Auth, type AuthConfig, createAuth, createCredentialGuard } from '@audit/auth';
import {
  type EventRateLimitConfig,
  type LimitSettings,
  limitSettings,
  type RateLimitConfig,
} from '@audit/config';
import { type Logger, rateLimitRefusals } from '@audit/http';
import type { Registry } from 'prom-client';
import { type Credentials, type CredentialsStartConfig, startCredentials } from './credentials.ts';

export interface ApiAuth {
  auth: Auth;
  credentials: Credentials;
  /** The parsed limit settings, for the per-tenant limiters (createTenantLimits). */
  limits: LimitSettings;
}

/**
 * The token verifier of an API process, the same in both APIs: API keys (revocations polled,
 * `POST /oauth/token`), the brute-force limits of `/login` and the token endpoint, the trusted
 * proxy hops. `admin` (the query API) also creates the credentials schema and the bootstrap key.
 */
export async function startApiAuth(
  config: CredentialsStartConfig & Partial<AuthConfig> & RateLimitConfig & Partial<EventRateLimitConfig>,
  deps: { logger: Logger; registry: Registry; admin?: boolean },
): Promise<ApiAuth> {
  const credentials = await startCredentials(config, deps);
  const limits = limitSettings(config);
  const auth = await createAuth(config, {
    guard: createCredentialGuard({
      ...limits.credentials,
      maxKeys: limits.maxKeys,
      refusals: rateLimitRefusals(deps.registry),
    }),
    trustProxyHops: limits.trustProxyHops,
    revocations: credentials.revocations,
  });
  return { auth, credentials, limits };
}

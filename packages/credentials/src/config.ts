import { env } from '@audit/config';
import { z } from 'zod';

const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * Settings of `@audit/credentials`, merged into the APIs' config schemas
 * (`.extend(credentialsConfigSchema.shape)`). ClickHouse users come from `stackSchema`.
 */
export const credentialsConfigSchema = z.object({
  /** API keys, `POST /oauth/token` and revocation polling. Off: only JWKS and /login tokens. */
  CREDENTIALS_ENABLED: env.bool(true),
  /** Lifetime of tokens from `POST /oauth/token` (never past the key's own expiry). */
  CREDENTIALS_TOKEN_TTL_SECONDS: env.int(300, 30, 3600),
  /** How often every verifier reads the revocations recorded since its last read. */
  CREDENTIALS_POLL_INTERVAL_MS: env.int(2000, 200, 60_000),
  /**
   * Without a successful poll for this long, tokens of API keys are refused with 503 (fail closed):
   * the revocation bound must not silently stretch while the key store is unreachable.
   */
  CREDENTIALS_MAX_STALENESS_SECONDS: env.int(30, 5, 3600),
  /**
   * File holding the first operator key (`ak_<id>_<secret>`, scope `admin`). At start-up its hash is
   * stored unless that key id was ever stored (a revoked bootstrap key stays revoked). Unset: none.
   */
  ADMIN_BOOTSTRAP_KEY_FILE: z.preprocess(unsetIfEmpty, z.string().optional()),
});

export type CredentialsConfig = z.infer<typeof credentialsConfigSchema>;

import { env } from '@audit/config';
import { z } from 'zod';

/** Signature algorithms the verifier may be configured to accept; `none` is deliberately absent. */
export const SUPPORTED_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** An unset and an empty environment variable mean the same thing: not configured. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());

/**
 * Authentication settings, read from the environment. A plain object schema (no cross-field
 * refinements) so services can merge it: `stackSchema.extend(authConfigSchema.shape)`.
 * Combinations (which algorithms need which key source) are checked by `createAuth`.
 */
export const authConfigSchema = z.object({
  /** HS256 shared secret: development tokens, and the signer of POST /login tokens. At least 32 characters. */
  AUTH_JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  /** JWKS endpoint of the identity provider (production): RS256/ES256 tokens verified by `kid`. */
  AUTH_JWKS_URL: optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /** Comma-separated accepted `alg` values. Default: RS256,ES256 when AUTH_JWKS_URL is set, else HS256. */
  AUTH_ALGORITHMS: optional(z.string())
    .transform((v) =>
      v
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(SUPPORTED_ALGORITHMS)).min(1).optional()),
  /** Required `iss` of every token (and set on /login tokens). Unset: not checked. */
  AUTH_ISSUER: optional(z.string().max(512)),
  /** Required `aud` of every token (and set on /login tokens). Unset: not checked. */
  AUTH_AUDIENCE: optional(z.string().max(512)),
  /** Lifetime of tokens issued by POST /login. */
  AUTH_TOKEN_TTL_SECONDS: env.int(900, 30, 86_400),
  /** Tolerated clock difference when checking `exp`/`nbf`. */
  AUTH_CLOCK_SKEW_SECONDS: env.int(30, 0, 300),
  /** Name of the claim carrying the tenant id (e.g. a namespaced `https://example.com/tenant`). */
  AUTH_TENANT_CLAIM: z.string().min(1).max(256).default('tenant'),
  /** JSON users file enabling POST /login (development only). Unset: /login answers 404. */
  AUTH_USERS_FILE: optional(z.string()),
  /** Timeout of one JWKS fetch; a slow or down key endpoint gives 503, not a hang. */
  AUTH_JWKS_TIMEOUT_MS: env.int(5000, 100, 60_000),
});

export type AuthConfig = z.infer<typeof authConfigSchema>;

/** The defaults of every option, for callers (tests) that pass only a few fields. */
export function withDefaults(cfg: Partial<AuthConfig>): AuthConfig {
  const given = Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined));
  return { ...authConfigSchema.parse({}), ...given } as AuthConfig;
}

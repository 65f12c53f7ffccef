import { ConfigError } from '@audit/config';
import { clientIp } from '@audit/http';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { Principal, Scope } from './claims.ts';
import { type Algorithm, type AuthConfig, withDefaults } from './config.ts';
import { NO_CREDENTIAL_LIMITS, type TokenEndpointGuard } from './credential-guard.ts';
import { forbidden } from './errors.ts';
import { tokenFromAuthorization } from './header.ts';
import { createIssuer, type IssueOptions, type IssueToken } from './issuer.ts';
import { createLoginRoutes } from './login.ts';
import { loadUsers, type UserStore } from './users.ts';
import { createVerifier } from './verifier.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `auth.require(scope)` for the handlers after it. */
    principal: Principal;
  }
}

export interface Auth {
  /** Verifies a compact JWT; throws ApiError 401 (bad token) or 503 (key endpoint unavailable). */
  verify(token: string): Promise<Principal>;
  /** Verifies the value of an Authorization header (`Bearer <jwt>` or a bare `<jwt>`). */
  authenticate(authorization: string | null | undefined): Promise<Principal>;
  /** Middleware: 401 without a valid token, 403 without `scope`; sets `c.var.principal`. */
  require(scope: Scope): MiddlewareHandler;
  /** `POST /login`; 404 when no users are configured. Mount with `app.route('/', auth.loginRoutes())`. */
  loginRoutes(): Hono;
  /** An HS256 token for `p` signed with AUTH_JWT_SECRET (development and tests). */
  issueToken(p: Principal, opts?: IssueOptions): Promise<string>;
  /**
   * Whether `issueToken` makes tokens this verifier accepts: AUTH_JWT_SECRET set and HS256 among
   * AUTH_ALGORITHMS. False in JWKS-only mode, where the identity provider mints every token.
   */
  readonly canIssueTokens: boolean;
  /** The algorithms the verifier accepts, after defaults. */
  readonly algorithms: readonly Algorithm[];
  /** Brute-force limits every credential endpoint uses, and the client address they key on. */
  readonly credentials: CredentialLimits;
}

export interface CredentialLimits {
  guard: TokenEndpointGuard;
  /** The caller's address, honouring TRUST_PROXY_HOPS. */
  clientIp(c: Context): string | undefined;
}

export interface AuthOptions {
  /** Default: no brute-force limits (tests); services pass `createCredentialGuard(...)`. */
  guard?: TokenEndpointGuard;
  /** TRUST_PROXY_HOPS. */
  trustProxyHops?: number;
  /** API key revocations (`@audit/credentials`): tokens of a revoked key are refused. */
  revocations?: KeyRevocations;
}

const isHmac = (alg: string) => alg.startsWith('HS');

/**
 * What a key store tells the verifier about API keys (`@audit/credentials` polls it). Called for
 * every token carrying a `key_id`, after the signature check (and after a cache hit), so a
 * revoked key's tokens stop working before they expire.
 */
export interface KeyRevocations {
  /** Throws an ApiError (401 revoked, 503 state unknown) when tokens of this key must be refused. */
  assertUsable(keyId: string): void;
}

/**
 * Clients send the same token on every request; reusing a successful verification for up to 60 s
 * (never past `exp`) skips a WebCrypto signature check per request. A revoked signing key (JWKS)
 * is therefore honoured for up to a minute longer for tokens already seen.
 */
const VERIFIED_CACHE = { maxEntries: 10_000, maxAgeMs: 60_000 };

/** Checks the combination of options, loads the users file and builds the verifier. */
export async function createAuth(config: Partial<AuthConfig>, options: AuthOptions = {}): Promise<Auth> {
  const cfg = withDefaults(config);
  const algorithms: Algorithm[] = cfg.AUTH_ALGORITHMS ?? (cfg.AUTH_JWKS_URL ? ['RS256', 'ES256'] : ['HS256']);
  const problems: string[] = [];
  if (!cfg.AUTH_JWT_SECRET && !cfg.AUTH_JWKS_URL) problems.push('set AUTH_JWT_SECRET or AUTH_JWKS_URL');
  if (algorithms.some(isHmac) && !cfg.AUTH_JWT_SECRET) {
    problems.push('AUTH_ALGORITHMS includes an HS algorithm but AUTH_JWT_SECRET is not set');
  }
  if (algorithms.some((a) => !isHmac(a)) && !cfg.AUTH_JWKS_URL) {
    problems.push('AUTH_ALGORITHMS includes an asymmetric algorithm but AUTH_JWKS_URL is not set');
  }
  if (cfg.AUTH_USERS_FILE && !(cfg.AUTH_JWT_SECRET && algorithms.includes('HS256'))) {
    problems.push(
      'AUTH_USERS_FILE needs AUTH_JWT_SECRET and HS256 in AUTH_ALGORITHMS (login tokens are HS256)',
    );
  }
  if (problems.length > 0) throw new ConfigError(`invalid auth configuration:\n  ${problems.join('\n  ')}`);

  const secret = cfg.AUTH_JWT_SECRET ? new TextEncoder().encode(cfg.AUTH_JWT_SECRET) : undefined;
  const verify = createVerifier({
    algorithms,
    secret,
    jwksUrl: cfg.AUTH_JWKS_URL,
    jwksTimeoutMs: cfg.AUTH_JWKS_TIMEOUT_MS,
    issuer: cfg.AUTH_ISSUER,
    audience: cfg.AUTH_AUDIENCE,
    clockSkewSeconds: cfg.AUTH_CLOCK_SKEW_SECONDS,
    tenantClaim: cfg.AUTH_TENANT_CLAIM,
    cache: VERIFIED_CACHE,
  });
  const issueToken: IssueToken = secret
    ? createIssuer({
        secret,
        ttlSeconds: cfg.AUTH_TOKEN_TTL_SECONDS,
        issuer: cfg.AUTH_ISSUER,
        audience: cfg.AUTH_AUDIENCE,
        tenantClaim: cfg.AUTH_TENANT_CLAIM,
      })
    : () => Promise.reject(new Error('issueToken needs AUTH_JWT_SECRET')); // JWKS-only: the IdP mints tokens
  const users: UserStore | undefined = cfg.AUTH_USERS_FILE ? await loadUsers(cfg.AUTH_USERS_FILE) : undefined;

  const { revocations } = options;
  const verifyUsable = async (token: string) => {
    const principal = await verify(token);
    if (principal.keyId !== undefined) revocations?.assertUsable(principal.keyId);
    return principal;
  };
  const authenticate = (header: string | null | undefined) => verifyUsable(tokenFromAuthorization(header));
  const credentials: CredentialLimits = {
    guard: options.guard ?? NO_CREDENTIAL_LIMITS,
    clientIp: (c) => clientIp(c, options.trustProxyHops ?? 0),
  };

  return {
    algorithms,
    canIssueTokens: secret !== undefined && algorithms.includes('HS256'),
    verify: verifyUsable,
    authenticate,
    issueToken,
    credentials,
    require(scope) {
      return createMiddleware(async (c, next) => {
        const principal = await authenticate(c.req.header('authorization'));
        if (!principal.scopes.includes(scope)) throw forbidden(scope);
        c.set('principal', principal);
        await next();
      });
    },
    loginRoutes() {
      return createLoginRoutes({ users, issueToken, ttlSeconds: cfg.AUTH_TOKEN_TTL_SECONDS, ...credentials });
    },
  };
}

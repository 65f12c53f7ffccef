import type { Auth, CredentialAttempt, TokenEndpointGuard } from '@audit/auth';
import { ApiError } from '@audit/http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MAX_TOKEN_BODY_BYTES, parseTokenRequest } from './grant.ts';
import { hashSecret, secretMatches } from './key-format.ts';
import { invalidClient, OAuthError } from './oauth-errors.ts';
import type { KeyStore } from './store.ts';

export type { TokenEndpointGuard };
export type TokenAttempt = CredentialAttempt;

export interface TokenRouteDeps {
  store: Pick<KeyStore, 'getKey'>;
  issueToken: Auth['issueToken'];
  ttlSeconds: number;
  guard?: TokenEndpointGuard;
  /** The caller's address for the guard (the server adapter knows it; tests pass a constant). */
  clientIp?: (c: Context) => string | undefined;
  now?: () => number;
}

const FORM_TYPE_RE = /^application\/x-www-form-urlencoded\s*(;|$)/i;
/** Compared against when the key id is unknown, so both failures cost the same. */
const DECOY_HASH = hashSecret('decoy');

/** `POST /oauth/token`: RFC 6749 §4.4 client-credentials grant → a short-lived JWT. */
export function createTokenRoutes(deps: TokenRouteDeps): Hono {
  const now = deps.now ?? Date.now;
  const app = new Hono();
  const answer = (c: Context, err: OAuthError) => {
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    return c.json(err.body(), err.status);
  };

  app.post(
    '/oauth/token',
    bodyLimit({
      maxSize: MAX_TOKEN_BODY_BYTES,
      onError: (c) =>
        answer(c, new OAuthError('invalid_request', `body exceeds ${MAX_TOKEN_BODY_BYTES} bytes`, 413)),
    }),
    async (c) => {
      const attempt: TokenAttempt = { ip: deps.clientIp?.(c), clientId: undefined };
      try {
        if (deps.guard) await deps.guard.admit(attempt);
        if (!FORM_TYPE_RE.test(c.req.header('content-type') ?? '')) {
          throw new OAuthError('invalid_request', 'body must be application/x-www-form-urlencoded', 415);
        }
        const grant = parseTokenRequest(await c.req.text(), c.req.header('authorization'));
        attempt.clientId = grant.key.id;
        let state: Awaited<ReturnType<TokenRouteDeps['store']['getKey']>>;
        try {
          state = await deps.store.getKey(grant.key.id);
        } catch (err) {
          c.get('log')?.warn({ err: (err as Error).message }, 'key store unavailable');
          throw new OAuthError(
            'temporarily_unavailable',
            'the key store is unavailable; retry shortly',
            503,
            {
              'Retry-After': '5',
            },
          );
        }
        const matches = secretMatches(grant.key.secret, state?.secretHash ?? DECOY_HASH);
        const t = now();
        if (!state || !matches) throw invalidClient();
        if (state.revokedAt !== null && Date.parse(state.revokedAt) <= t)
          throw invalidClient('API key revoked');
        if (state.expiresAt !== null && Date.parse(state.expiresAt) <= t)
          throw invalidClient('API key expired');
        const scopes = grant.scopes ?? state.scopes;
        const extra = scopes.filter((s) => !state.scopes.includes(s));
        if (extra.length > 0)
          throw new OAuthError('invalid_scope', `the key does not hold: ${extra.join(' ')}`);
        if (scopes.length === 0) throw new OAuthError('invalid_scope', 'the key holds no scopes');

        const cutoffs = [state.expiresAt, state.revokedAt]
          .filter((x): x is string => x !== null)
          .map(Date.parse);
        const notAfter = cutoffs.length > 0 ? Math.floor(Math.min(...cutoffs) / 1000) : undefined;
        const token = await deps.issueToken(
          { subject: `key:${state.keyId}`, tenant: state.tenant, scopes, keyId: state.keyId },
          { ttlSeconds: deps.ttlSeconds, ...(notAfter === undefined ? {} : { notAfter }) },
        );
        const expiresIn = Math.min(
          deps.ttlSeconds,
          notAfter === undefined ? deps.ttlSeconds : notAfter - Math.floor(t / 1000),
        );
        c.header('Cache-Control', 'no-store');
        c.header('Pragma', 'no-cache');
        return c.json({
          access_token: token,
          token_type: 'Bearer',
          expires_in: expiresIn,
          scope: scopes.join(' '),
        });
      } catch (err) {
        if (err instanceof OAuthError) {
          if (err.code === 'invalid_client' && deps.guard) await deps.guard.failed(attempt);
          c.get('log')?.info({ clientId: attempt.clientId, error: err.code }, 'token request refused');
          return answer(c, err);
        }
        if (err instanceof ApiError) {
          // The guard's refusal (429): in the endpoint's own error format.
          for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v);
          return answer(c, new OAuthError('slow_down', err.message, err.status === 429 ? 429 : 503, {}));
        }
        throw err;
      }
    },
  );
  return app;
}

import { ApiError, errorResponse } from '@audit/http';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { TokenEndpointGuard } from './credential-guard.ts';
import type { IssueToken } from './issuer.ts';
import type { UserStore } from './users.ts';

export const MAX_LOGIN_BODY_BYTES = 4096;

/** The seed's body; other keys are ignored as the seed did. */
const loginBodySchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

const JSON_TYPE_RE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

export interface LoginDeps {
  users: UserStore | undefined;
  issueToken: IssueToken;
  ttlSeconds: number;
  /** Brute-force limits per client address and per username. */
  guard: TokenEndpointGuard;
  clientIp: (c: Context) => string | undefined;
}

/**
 * `POST /login {username, password}` → `{token, token_type, expires_in}`. Expected failures are
 * answered here (not thrown), so the routes behave the same wherever they are mounted.
 */
export function createLoginRoutes(deps: LoginDeps): Hono {
  const app = new Hono();
  app.post(
    '/login',
    bodyLimit({
      maxSize: MAX_LOGIN_BODY_BYTES,
      onError: (c) =>
        errorResponse(
          c,
          new ApiError(413, 'payload_too_large', `login body exceeds ${MAX_LOGIN_BODY_BYTES} bytes`),
        ),
    }),
    async (c) => {
      const { users } = deps;
      if (!users || users.size === 0) {
        return errorResponse(c, new ApiError(404, 'not_found', 'login is disabled: no users configured'));
      }
      if (!JSON_TYPE_RE.test(c.req.header('content-type') ?? '')) {
        return errorResponse(
          c,
          new ApiError(415, 'unsupported_media_type', 'login body must be application/json'),
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        return errorResponse(c, new ApiError(400, 'invalid_json', 'login body is not valid JSON'));
      }
      const parsed = loginBodySchema.safeParse(body);
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return errorResponse(
          c,
          new ApiError(400, 'invalid_request', 'login body needs string username and password', details),
        );
      }
      const attempt = { ip: deps.clientIp(c), clientId: parsed.data.username };
      try {
        // Before the password check: a locked-out guesser learns nothing, not even from timing.
        await deps.guard.admit(attempt);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        c.get('log')?.warn(
          { username: attempt.clientId, ip: attempt.ip },
          'login refused: too many failures',
        );
        return errorResponse(c, err);
      }
      const principal = await users.check(parsed.data.username, parsed.data.password);
      if (!principal) {
        await deps.guard.failed(attempt);
        c.get('log')?.info({ username: attempt.clientId, ip: attempt.ip }, 'login failed');
        return errorResponse(c, new ApiError(401, 'invalid_credentials', 'invalid username or password'));
      }
      const token = await deps.issueToken(principal);
      c.header('Cache-Control', 'no-store');
      return c.json({ token, token_type: 'Bearer', expires_in: deps.ttlSeconds });
    },
  );
  return app;
}

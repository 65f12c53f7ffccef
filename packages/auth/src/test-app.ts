import { createBaseApp, createLogger, createMetrics } from '@audit/http';
import type { Hono } from 'hono';
import type { Auth } from './auth.ts';

/** A base app (real error handling) with one route per scope and the login routes, for tests. */
export function testApp(auth: Auth): Hono {
  const app = createBaseApp({
    logger: createLogger('auth-test', 'silent'),
    metrics: createMetrics('auth-test', false),
    ready: async () => [],
  });
  app.get('/write', auth.require('events:write'), (c) => c.json(c.var.principal));
  app.get('/read', auth.require('events:read'), (c) => c.json(c.var.principal));
  app.route('/', auth.loginRoutes());
  return app;
}

/** GET with an Authorization header, returning status, headers and parsed JSON body. */
export async function call(app: Hono, path: string, authorization?: string | string[]) {
  const headers = new Headers();
  for (const v of typeof authorization === 'string' ? [authorization] : (authorization ?? [])) {
    headers.append('Authorization', v);
  }
  const res = await app.request(path, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

export const SECRET = 'test-secret-that-is-at-least-32-characters-long';
export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { routePath } from 'hono/route';
import { allowedMethods } from './allowed-methods.ts';
import { ApiError, errorResponse } from './errors.ts';
import type { Logger } from './logger.ts';
import type { HttpMetrics } from './metrics.ts';

export interface BaseVariables {
  requestId: string;
  log: Logger;
}

declare module 'hono' {
  interface ContextVariableMap extends BaseVariables {}
}

export interface BaseAppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  /** Readiness: resolves to a list of problems, empty when ready. */
  ready: () => Promise<string[]>;
}

/**
 * A Hono app with what every service has: request ids, access logs, latency metrics,
 * `/healthz`, `/readyz`, `/metrics`, and the JSON error shape for 404s and thrown errors.
 * Services add their routes to the returned app.
 */
export function createBaseApp(deps: BaseAppDeps): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    const log = deps.logger.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    const t0 = performance.now();
    await next();
    const seconds = (performance.now() - t0) / 1000;
    const route = routePath(c) || 'unmatched';
    deps.metrics.requestDuration.labels(c.req.method, route, String(c.res.status)).observe(seconds);
    if (route !== '/metrics' && route !== '/healthz' && route !== '/readyz') {
      log.info(
        { method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) },
        'request',
      );
    }
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const problems = await deps.ready().catch((err: unknown) => [String(err)]);
    return problems.length === 0
      ? c.json({ status: 'ready' })
      : c.json({ error: { code: 'not_ready', message: 'dependencies unavailable', details: problems } }, 503);
  });
  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  // A known path asked with another method is a 405 naming the methods it takes, not a 404.
  app.notFound((c) => {
    const allow = allowedMethods(app.routes, c.req.path);
    if (allow.length > 0 && !allow.includes(c.req.method)) {
      return errorResponse(
        c,
        new ApiError(
          405,
          'method_not_allowed',
          `${c.req.method} is not allowed on ${c.req.path}`,
          { allow },
          {
            Allow: allow.join(', '),
          },
        ),
      );
    }
    return errorResponse(c, new ApiError(404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(c, err);
    // Hono's own HTTPException (e.g. from bodyLimit) carries a status we keep.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return errorResponse(c, new ApiError(status as 400, 'bad_request', err.message || 'bad request'));
    }
    c.get('log')?.error({ err }, 'unhandled error');
    return errorResponse(c, new ApiError(500, 'internal', 'internal error'));
  });

  return app;
}

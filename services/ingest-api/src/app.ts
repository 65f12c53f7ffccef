import type { Auth } from '@audit/auth';
import { createBaseApp, type HttpMetrics, type Logger } from '@audit/http';
import type { Hono } from 'hono';
import type { BodyLimits } from './body.ts';
import { docsPage } from './docs-page.ts';
import { type Admission, addEventsRoute } from './events-route.ts';
import type { IngestMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import type { EventPublisher } from './publisher.ts';

export interface AppDeps {
  logger: Logger;
  httpMetrics: HttpMetrics;
  metrics: IngestMetrics;
  auth: Auth;
  publisher: EventPublisher;
  limits: BodyLimits;
  admission?: Admission;
  now?: () => Date;
}

/** The ingest API's routes, wired to the dependencies it is given (no globals, no I/O here). */
export function createApp(deps: AppDeps): Hono {
  const app = createBaseApp({ logger: deps.logger, metrics: deps.httpMetrics, ready: deps.publisher.ready });
  app.route('/', deps.auth.loginRoutes());
  addEventsRoute(app, deps);
  const doc = openApiDocument(deps.limits);
  const html = docsPage(doc);
  app.get('/openapi.json', (c) => c.json(doc));
  app.get('/docs', (c) => c.html(html));
  return app;
}

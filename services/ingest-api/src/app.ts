import type { Auth } from '@audit/auth';
import { apiReference, createBaseApp, type HttpMetrics, type Logger, type TenantLimits } from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import type { Hono } from 'hono';
import type { BodyLimits } from './body.ts';
import { type Admission, addEventsRoute } from './events-route.ts';
import type { IngestMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import type { ResendCheck } from './resends.ts';

export interface AppDeps {
  logger: Logger;
  httpMetrics: HttpMetrics;
  metrics: IngestMetrics;
  auth: Auth;
  /** `POST /oauth/token` (API keys), from `startCredentials`; absent in tests that need none. */
  credentialRoutes?: Hono;
  publisher: EventPublisher;
  /** createResendCheck over storedEventsLookup (reader user) and the recent-ids map. */
  resends: ResendCheck;
  /** RETENTION_DAYS (shared with the sink). */
  retentionDays: number;
  limits: BodyLimits;
  admission?: Admission;
  /** Per-tenant requests/s and events/s (docs/limits.md); absent: unlimited. */
  tenantLimits?: TenantLimits;
  now?: () => Date;
}

/** The ingest API's routes, wired to the dependencies it is given (no globals, no I/O here). */
export function createApp(deps: AppDeps): Hono {
  const app = createBaseApp({ logger: deps.logger, metrics: deps.httpMetrics, ready: deps.publisher.ready });
  app.route('/', deps.auth.loginRoutes());
  if (deps.credentialRoutes) app.route('/', deps.credentialRoutes);
  addEventsRoute(app, deps);
  const doc = openApiDocument(deps.limits);
  apiReference(app, doc);
  return app;
}

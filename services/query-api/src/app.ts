import type { Auth } from '@audit/auth';
import { type ClickHouseClient, eventsTable } from '@audit/clickhouse';
import {
  createBaseApp,
  type HttpMetrics,
  type Logger,
  rateLimit,
  renderDocsPage,
  type TenantLimits,
} from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import { viewerDistDir } from '@audit/viewer';
import type { Hono } from 'hono';
import { every } from 'hono/combine';
import { recordReads } from './access-log.ts';
import { createCursorCodec } from './cursor.ts';
import { openApiDocument } from './openapi.ts';
import { createReader } from './reader.ts';
import type { RouteDeps } from './routes/deps.ts';
import { exportEvents } from './routes/export.ts';
import { getEvent } from './routes/get-event.ts';
import { integrityRoutes } from './routes/integrity.ts';
import { listEvents } from './routes/list-events.ts';
import { eventStats } from './routes/stats.ts';
import { uiRoutes } from './routes/ui.ts';

export interface AppDeps {
  logger: Logger;
  metrics: HttpMetrics;
  /** A client for the read-only ClickHouse user. */
  clickhouse: ClickHouseClient;
  auth: Auth;
  /**
   * Where the records of reads go (the events topic): a read is answered only once its record
   * is acknowledged (access-log.ts).
   */
  accessLog: EventPublisher;
  /** `POST /oauth/token` and `/admin/*`, from `startCredentials`; absent in tests that need none. */
  credentialRoutes?: Hono;
  config: {
    CLICKHOUSE_DATABASE: string;
    QUERY_TIMEOUT_SECONDS: number;
    QUERY_EXPORT_TIMEOUT_SECONDS: number;
    QUERY_EXPORT_MAX_ROWS: number;
    QUERY_CURSOR_SECRET: string;
  };
  /** Requests/s per tenant on the data endpoints (docs/limits.md); absent: unlimited. */
  tenantLimits?: TenantLimits;
}

/** The query API's routes, wired to the given dependencies (nothing global, so tests build many). */
export function createApp(deps: AppDeps): Hono {
  const table = eventsTable(deps.config.CLICKHOUSE_DATABASE);
  const reader = createReader(
    {
      client: deps.clickhouse,
      table,
      registry: deps.metrics.registry,
      timeoutSeconds: deps.config.QUERY_TIMEOUT_SECONDS,
      exportTimeoutSeconds: deps.config.QUERY_EXPORT_TIMEOUT_SECONDS,
    },
    deps.logger,
  );
  const routeDeps: RouteDeps = {
    reader,
    table,
    cursors: createCursorCodec(deps.config.QUERY_CURSOR_SECRET),
    exportMaxRows: deps.config.QUERY_EXPORT_MAX_ROWS,
  };

  const ready = async () => [...(await reader.ping()), ...(await deps.accessLog.ready())];
  const app = createBaseApp({ logger: deps.logger, metrics: deps.metrics, ready });
  app.route('/', deps.auth.loginRoutes());
  if (deps.credentialRoutes) app.route('/', deps.credentialRoutes);

  const docsHtml = renderDocsPage(openApiDocument);
  app.get('/openapi.json', (c) => c.json(openApiDocument));
  app.get('/docs', (c) => c.html(docsHtml));
  uiRoutes(app, viewerDistDir);

  const auth = deps.auth.require('events:read');
  // After authentication: the bucket is the token's tenant.
  const read = deps.tenantLimits
    ? every(
        auth,
        rateLimit(deps.tenantLimits.requests, (c) => c.get('principal').tenant),
      )
    : auth;
  const recorded = (endpoint: string) => recordReads(deps.accessLog, endpoint);
  // Fixed paths before the parameterised one, so `stats` is never read as an event id.
  app.get('/events/stats', read, recorded('GET /events/stats'), eventStats(routeDeps));
  app.get('/events/export', read, recorded('GET /events/export'), exportEvents(routeDeps));
  integrityRoutes(app, read, {
    reader,
    database: deps.config.CLICKHOUSE_DATABASE,
    recordProof: recorded('GET /events/{event_id}/proof'),
  });
  app.get('/events/:event_id', read, recorded('GET /events/{event_id}'), getEvent(routeDeps));
  app.get('/events', read, recorded('GET /events'), listEvents(routeDeps));
  return app;
}

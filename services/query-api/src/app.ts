import type { Auth } from '@audit/auth';
import { type ClickHouseClient, eventsTable } from '@audit/clickhouse';
import {
  apiReference,
  createBaseApp,
  type HttpMetrics,
  type Logger,
  rateLimit,
  staticFiles,
  type TenantLimits,
} from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import { VIEWER_CSP, viewerDistDir } from '@audit/viewer';
import type { Hono } from 'hono';
import { every } from 'hono/combine';
import { cors } from 'hono/cors';
import { recordReads } from './access-log.ts';
import { createCursorCodec } from './cursor.ts';
import { openApiDocument } from './openapi.ts';
import { createReader } from './reader.ts';
import type { RouteDeps } from './routes/deps.ts';
import { exportEvents } from './routes/export.ts';
import { findEvent, getEvent } from './routes/get-event.ts';
import { integrityRoutes } from './routes/integrity.ts';
import { listEvents } from './routes/list-events.ts';
import { eventStats } from './routes/stats.ts';
import { type StreamRouteDeps, streamRoutes } from './routes/streams.ts';
import { mintViewerToken, readPins, viewerSession } from './routes/viewer.ts';

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
    /** Viewer tokens (docs/api.md): default and longest lifetime; defaults 900 and 3600 s. */
    QUERY_VIEWER_TOKEN_TTL_SECONDS?: number;
    QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS?: number;
    /** Origins allowed to call from a browser (CORS); default none. */
    QUERY_CORS_ORIGINS?: string[];
  };
  /** Requests/s per tenant on the data endpoints (docs/limits.md); absent: unlimited. */
  tenantLimits?: TenantLimits;
  /** The log streams API (docs/streams.md); absent: no /streams routes. */
  streams?: Omit<StreamRouteDeps, 'accessLog'>;
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
  const origins = deps.config.QUERY_CORS_ORIGINS ?? [];
  if (origins.length > 0) {
    // Tokens travel in the Authorization header only: no cookies, so no credentialed CORS.
    app.use(
      '*',
      cors({
        origin: origins,
        allowMethods: ['GET', 'POST'],
        allowHeaders: ['Authorization', 'Content-Type'],
        exposeHeaders: ['Content-Disposition', 'Retry-After', 'X-Request-Id'],
        maxAge: 600,
      }),
    );
  }
  app.route('/', deps.auth.loginRoutes());
  if (deps.credentialRoutes) app.route('/', deps.credentialRoutes);

  apiReference(app, openApiDocument);
  // The viewer (packages/viewer): its page and the embeddable element; Vite's assets/ are hashed.
  staticFiles(app, {
    prefix: '/ui',
    root: viewerDistDir,
    csp: VIEWER_CSP,
    immutable: (rel) => rel.startsWith('assets/'),
  });

  // After authentication: the bucket is the token's tenant; a viewer token's pins apply to every read.
  const read = every(
    deps.auth.require('events:read'),
    ...(deps.tenantLimits ? [rateLimit(deps.tenantLimits.requests, (c) => c.get('principal').tenant)] : []),
    readPins,
  );
  const recorded = (endpoint: string) => recordReads(deps.accessLog, endpoint);
  // Fixed paths before the parameterised one, so `stats` is never read as an event id.
  app.get('/events/stats', read, recorded('GET /events/stats'), eventStats(routeDeps));
  app.get('/events/export', read, recorded('GET /events/export'), exportEvents(routeDeps));
  integrityRoutes(app, read, {
    reader,
    database: deps.config.CLICKHOUSE_DATABASE,
    recordProof: recorded('GET /events/{event_id}/proof'),
    visible: async (c, id) => !c.get('pins') || (await findEvent(routeDeps, c, id)) !== undefined,
  });
  app.get('/events/:event_id', read, recorded('GET /events/{event_id}'), getEvent(routeDeps));
  app.get('/events', read, recorded('GET /events'), listEvents(routeDeps));
  app.post(
    '/viewer/tokens',
    read,
    ...mintViewerToken({
      auth: deps.auth,
      accessLog: deps.accessLog,
      defaultTtlSeconds: deps.config.QUERY_VIEWER_TOKEN_TTL_SECONDS ?? 900,
      maxTtlSeconds: deps.config.QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS ?? 3600,
    }),
  );
  app.get('/viewer/session', read, viewerSession());
  if (deps.streams) {
    const manage = every(
      deps.auth.require('streams:manage'),
      ...(deps.tenantLimits ? [rateLimit(deps.tenantLimits.requests, (c) => c.get('principal').tenant)] : []),
    );
    streamRoutes(app, manage, { ...deps.streams, accessLog: deps.accessLog });
  }
  return app;
}

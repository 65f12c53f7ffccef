import { randomBytes, randomUUID } from 'node:crypto';
import { type Auth, createAuth } from '@audit/auth';
import { type ClickHouseClient, createClickHouse, migrate, toRow } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger, createMetrics } from '@audit/http';
import type { AuditEvent } from '@audit/schema';
import type { Hono } from 'hono';
import { createApp } from '../src/app.ts';

export const cfg = loadConfig(stackSchema);
export const TEST_SECRET = 'query-api-test-secret-at-least-32-chars';
export const CURSOR_SECRET = 'query-api-cursor-secret-at-least-32-chars';

/**
 * The table as production creates it: the sink's own migrations, run as the writer user, so
 * these tests work whether or not a sink has migrated this server yet. Never dropped or
 * truncated: tests isolate by tenant.
 */
export async function ensureTable(): Promise<void> {
  const writer = createClickHouse(cfg, 'writer');
  try {
    await migrate(writer, { database: cfg.CLICKHOUSE_DATABASE, retentionDays: 365 });
  } finally {
    await writer.close();
  }
}

export const adminClient = () => createClickHouse(cfg, 'admin');

/** A tenant id of its own for each test file (the table is shared with everyone's tests). */
export const newTenant = () => `t_${randomBytes(6).toString('hex')}`;

/** Inserts events exactly as the sink stores them (its own row conversion). */
export async function insertEvents(admin: ClickHouseClient, events: AuditEvent[]): Promise<void> {
  await admin.insert({
    table: 'audit.events',
    format: 'JSONEachRow',
    values: events.map((e) => toRow(e, 0, '0')),
    // Several test inserts may carry identical rows on purpose (duplicates); keep them all.
    clickhouse_settings: { insert_deduplicate: 0 },
  });
}

export function makeEvent(tenant: string, ms: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event_id: randomUUID(),
    event_type: 'customer.action.performed',
    timestamp: new Date(ms).toISOString(),
    received_at: new Date(ms + 5).toISOString(),
    tenant_id: tenant,
    source: 'test',
    user_id: 'u0',
    schema_version: 1,
    event_details: {},
    ...over,
  };
}

export interface TestApp {
  app: Hono;
  auth: Auth;
  reader: ClickHouseClient;
  /** A Bearer header value for `tenant` with `events:read` (or the given scopes). */
  token(tenant: string, scopes?: string[]): Promise<string>;
  get(path: string, tenant: string): Promise<Response>;
  close(): Promise<void>;
}

export async function makeApp(
  opts: { clickhouseUrl?: string; timeoutSeconds?: number; exportMaxRows?: number } = {},
): Promise<TestApp> {
  const auth = await createAuth({ AUTH_JWT_SECRET: TEST_SECRET });
  const timeout = opts.timeoutSeconds ?? 10;
  const reader = createClickHouse(
    { ...cfg, CLICKHOUSE_URL: opts.clickhouseUrl ?? cfg.CLICKHOUSE_URL },
    'reader',
    {
      requestTimeoutMs: (timeout + 5) * 1000,
    },
  );
  const app = createApp({
    logger: createLogger('query-api-test', 'silent'),
    metrics: createMetrics('query-api-test', false),
    clickhouse: reader,
    auth,
    config: {
      CLICKHOUSE_DATABASE: 'audit',
      QUERY_TIMEOUT_SECONDS: timeout,
      QUERY_EXPORT_TIMEOUT_SECONDS: timeout,
      QUERY_EXPORT_MAX_ROWS: opts.exportMaxRows ?? 1_000_000,
      QUERY_CURSOR_SECRET: CURSOR_SECRET,
    },
  });
  const tokens = new Map<string, string>();
  const token = async (tenant: string, scopes = ['events:read']) => {
    const key = `${tenant}|${scopes.join(' ')}`;
    let t = tokens.get(key);
    if (!t) {
      t = `Bearer ${await auth.issueToken({ subject: 'analyst', tenant, scopes })}`;
      tokens.set(key, t);
    }
    return t;
  };
  return {
    app,
    auth,
    reader,
    token,
    get: async (path, tenant) => app.request(path, { headers: { Authorization: await token(tenant) } }),
    close: () => reader.close(),
  };
}

/** Query string from pairs, percent-encoded (so '+', '&', '#' in values survive). */
export const qs = (pairs: Record<string, string> | [string, string][]) =>
  new URLSearchParams(Array.isArray(pairs) ? pairs : Object.entries(pairs)).toString();

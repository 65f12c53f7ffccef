import { randomBytes, randomUUID } from 'node:crypto';
import { type Auth, createAuth } from '@audit/auth';
import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger, createMetrics } from '@audit/http';
import { type AuditEvent, flattenDetails } from '@audit/schema';
import type { Hono } from 'hono';
import { createApp } from '../src/app.ts';

export const cfg = loadConfig(stackSchema);
export const TEST_SECRET = 'query-api-test-secret-at-least-32-chars';
export const CURSOR_SECRET = 'query-api-cursor-secret-at-least-32-chars';

/**
 * The table exactly as the sink's migration 0002 creates it (RETENTION_DAYS default 365), so
 * these tests run whether or not the sink has migrated this server yet, and a later migration
 * finds it identical. Never dropped or truncated: tests isolate by tenant.
 */
export const EVENTS_DDL = `CREATE TABLE IF NOT EXISTS audit.events (
  tenant_id LowCardinality(String),
  event_id UUID,
  event_type LowCardinality(String),
  timestamp DateTime64(3, 'UTC'),
  received_at DateTime64(3, 'UTC'),
  user_id String,
  source LowCardinality(String),
  actor_type LowCardinality(String) DEFAULT '',
  resource_type LowCardinality(String) DEFAULT '',
  resource_id String DEFAULT '',
  action LowCardinality(String) DEFAULT '',
  outcome LowCardinality(String) DEFAULT '',
  ip String DEFAULT '',
  user_agent String DEFAULT '',
  schema_version UInt16 DEFAULT 1,
  details Map(LowCardinality(String), String),
  event_details String CODEC(ZSTD(3)),
  kafka_partition UInt32 DEFAULT 0,
  kafka_offset UInt64 DEFAULT 0,
  INDEX idx_details_keys mapKeys(details) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_details_values mapValues(details) TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_event_id event_id TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 1,
  INDEX idx_resource_id resource_id TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant_id, timestamp, event_id)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS non_replicated_deduplication_window = 10000`;

export async function ensureTable(admin: ClickHouseClient): Promise<void> {
  await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS audit' });
  await admin.command({ query: EVENTS_DDL });
}

export const adminClient = () => createClickHouse(cfg, 'admin');

/** A tenant id of its own for each test file (the table is shared with everyone's tests). */
export const newTenant = () => `t_${randomBytes(6).toString('hex')}`;

const chTime = (iso: string) => iso.replace('T', ' ').replace('Z', '');

/** Inserts events as the sink would store them (flattened details + the JSON text). */
export async function insertEvents(admin: ClickHouseClient, events: AuditEvent[]): Promise<void> {
  await admin.insert({
    table: 'audit.events',
    format: 'JSONEachRow',
    values: events.map((e) => ({
      tenant_id: e.tenant_id,
      event_id: e.event_id,
      event_type: e.event_type,
      timestamp: chTime(e.timestamp),
      received_at: chTime(e.received_at),
      user_id: e.user_id,
      source: e.source,
      actor_type: e.actor_type ?? '',
      resource_type: e.resource_type ?? '',
      resource_id: e.resource_id ?? '',
      action: e.action ?? '',
      outcome: e.outcome ?? '',
      ip: e.ip ?? '',
      user_agent: e.user_agent ?? '',
      schema_version: e.schema_version,
      details: flattenDetails(e.event_details),
      event_details: JSON.stringify(e.event_details),
    })),
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

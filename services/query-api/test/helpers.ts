import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Auth, createAuth } from '@audit/auth';
import {
  type ClickHouseClient,
  type ClickHouseSettings,
  createClickHouse,
  MIGRATIONS_DIR,
  renderSql,
  splitStatements,
  toRow,
} from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger, createMetrics, type TenantLimits } from '@audit/http';
import { createTopicsReady, type Kafka, stackKafka } from '@audit/kafka';
import type { EventPublisher } from '@audit/publisher';
import { type AuditEvent, validateKafkaMessage } from '@audit/schema';
import type { Hono } from 'hono';
import { createAccessLog } from '../src/access-log.ts';
import { type AppDeps, createApp } from '../src/app.ts';

type AppConfig = AppDeps['config'];

export const cfg = loadConfig(stackSchema);
export const TEST_SECRET = 'query-api-test-secret-at-least-32-chars';
export const CURSOR_SECRET = 'query-api-cursor-secret-at-least-32-chars';

/**
 * The database of this test file (vitest loads this module once per file): a scratch database
 * holding the table as production creates it, so the tests never depend on (or change) the
 * shared server's `audit` database, whatever migration other work applied there.
 */
let database: string | undefined;

/** `<scratch database>.events`, for SQL a test runs itself. */
export function eventsTable(): string {
  if (!database) throw new Error('call ensureTable() first');
  return `${database}.events`;
}

/**
 * Creates this file's scratch database with every migration file of the sink applied in order,
 * as the sink's migrate() runs them (without its bookkeeping: the database is thrown away).
 * The admin creates it: the writer may create only `audit`.
 */
export async function ensureTable(): Promise<void> {
  if (database) return;
  const name = `qtest_${randomBytes(6).toString('hex')}`;
  const admin = adminClient();
  try {
    await admin.command({ query: `CREATE DATABASE ${name}` });
    const files = readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
      .sort();
    for (const file of files) {
      const sql = renderSql(readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'), {
        database: name,
        retentionDays: 365,
      });
      for (const query of splitStatements(sql)) await admin.command({ query });
    }
    database = name;
  } finally {
    await admin.close();
  }
}

/** Drops this file's scratch database (call in afterAll). */
export async function dropTable(): Promise<void> {
  if (!database) return;
  const admin = adminClient();
  try {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    database = undefined;
  } finally {
    await admin.close();
  }
}

export const adminClient = (settings?: ClickHouseSettings) => createClickHouse(cfg, 'admin', { settings });

/** A tenant id of its own for each test file. */
export const newTenant = () => `t_${randomBytes(6).toString('hex')}`;

/** Inserts events exactly as the sink stores them (its own row conversion). */
export async function insertEvents(admin: ClickHouseClient, events: AuditEvent[]): Promise<void> {
  await admin.insert({
    table: eventsTable(),
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

const logger = createLogger('query-api-test', 'silent');

/**
 * This file's access-log topic (a scratch topic on the real broker): the query API publishes the
 * record of every read there, as it does to the events topic in production.
 */
let accessTopic: string | undefined;
async function ensureAccessTopic(): Promise<string> {
  if (accessTopic) return accessTopic;
  const name = `qtest-access-${randomBytes(6).toString('hex')}`;
  const admin = stackKafka(cfg, 'query-api-test', { logger }).admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic: name, partitions: 1 }]);
  } finally {
    await admin.disconnect();
  }
  accessTopic = name;
  return name;
}

export interface TestApp {
  app: Hono;
  /** The topic the records of reads go to, and the publisher writing them. */
  accessTopic: string;
  accessLog: EventPublisher;
  /** This file's scratch database. */
  database: string;
  auth: Auth;
  reader: ClickHouseClient;
  /** A Bearer header value for `tenant` with `events:read` (or the given scopes). */
  token(tenant: string, scopes?: string[]): Promise<string>;
  get(path: string, tenant: string): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The query API on this file's scratch database. Its ClickHouse client is the admin held to
 * `readonly=2` (the reader's profile: reads only, settings per query), because the reader user
 * may read only the `audit` database; the reader user's own limits are tested directly.
 */
export async function makeApp(
  opts: {
    clickhouseUrl?: string;
    timeoutSeconds?: number;
    exportMaxRows?: number;
    tenantLimits?: TenantLimits;
    /** Another verifier (e.g. startApiAuth's, with API keys) and its `/oauth/token` routes. */
    auth?: Auth;
    credentialRoutes?: Hono;
    /** Settings beyond the defaults (viewer tokens, CORS). */
    config?: Partial<AppConfig>;
  } = {},
): Promise<TestApp> {
  const auth = opts.auth ?? (await createAuth({ AUTH_JWT_SECRET: TEST_SECRET }));
  const timeout = opts.timeoutSeconds ?? 10;
  eventsTable();
  const reader = createClickHouse(
    { ...cfg, CLICKHOUSE_URL: opts.clickhouseUrl ?? cfg.CLICKHOUSE_URL },
    'admin',
    {
      requestTimeoutMs: (timeout + 5) * 1000,
      settings: { readonly: '2' },
    },
  );
  const topic = await ensureAccessTopic();
  const metrics = createMetrics('query-api-test', false);
  const accessLog = createAccessLog({
    kafka: stackKafka(cfg, 'query-api-test', { logger }),
    topic,
    timeoutMs: 5000,
    logger,
    registry: metrics.registry,
  });
  const app = createApp({
    logger,
    metrics,
    clickhouse: reader,
    auth,
    accessLog,
    config: {
      CLICKHOUSE_DATABASE: database!,
      QUERY_TIMEOUT_SECONDS: timeout,
      QUERY_EXPORT_TIMEOUT_SECONDS: timeout,
      QUERY_EXPORT_MAX_ROWS: opts.exportMaxRows ?? 1_000_000,
      QUERY_CURSOR_SECRET: CURSOR_SECRET,
      ...opts.config,
    },
    ...(opts.tenantLimits ? { tenantLimits: opts.tenantLimits } : {}),
    ...(opts.credentialRoutes ? { credentialRoutes: opts.credentialRoutes } : {}),
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
    accessTopic: topic,
    accessLog,
    database: database!,
    auth,
    reader,
    token,
    get: async (path, tenant) => app.request(path, { headers: { Authorization: await token(tenant) } }),
    close: async () => {
      await accessLog.close();
      await reader.close();
    },
  };
}

/** Query string from pairs, percent-encoded (so '+', '&', '#' in values survive). */
export const qs = (pairs: Record<string, string> | [string, string][]) =>
  new URLSearchParams(Array.isArray(pairs) ? pairs : Object.entries(pairs)).toString();

/** Every record on `topic` so far (a test file's own access topic), each checked against the contract. */
export async function topicRecords(kafka: Kafka, topic: string): Promise<AuditEvent[]> {
  const consumer = kafka.consumer({ groupId: `access-${randomBytes(6).toString('hex')}` });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  const out: AuditEvent[] = [];
  if (total === 0) return out;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message, partition }) => {
        const r = validateKafkaMessage(message.value, {
          topic,
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
        });
        if (!r.ok) throw new Error(`record does not validate: ${JSON.stringify(r.issues)}`);
        out.push(r.event);
        if (out.length >= total) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

import { randomBytes } from 'node:crypto';
import { createAuth } from '@audit/auth';
import type { ClickHouseClient } from '@audit/clickhouse';
import { createLogger, createMetrics } from '@audit/http';
import { type Kafka, stackKafka } from '@audit/kafka';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SOURCE, createAccessLog, MAX_RECORDED_QUERY } from '../src/access-log.ts';
import { createApp } from '../src/app.ts';
import {
  adminClient,
  CURSOR_SECRET,
  cfg,
  dropTable,
  ensureTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  type TestApp,
  topicRecords,
} from './helpers.ts';

/**
 * Every read leaves a record: the query API publishes an `audit.log.*` event to Kafka (here a
 * scratch topic on the real broker) before the answer leaves, and answers 503 without the data
 * when it cannot.
 */
const A = newTenant();
const B = newTenant();
const BASE = Date.now() - 3600_000;
const eventsA = Array.from({ length: 12 }, (_, i) => makeEvent(A, BASE + i * 1000, { user_id: `u${i % 3}` }));
const logger = createLogger('access-log-test', 'silent');

let admin: ClickHouseClient;
let t: TestApp;
let kafka: Kafka;

/** The records added by `fn`. */
async function recordedBy(fn: () => Promise<void>): Promise<AuditEvent[]> {
  const before = (await topicRecords(kafka, t.accessTopic)).length;
  await fn();
  return (await topicRecords(kafka, t.accessTopic)).slice(before);
}

beforeAll(async () => {
  kafka = stackKafka(cfg, 'access-log-test', { logger });
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, eventsA);
  await insertEvents(admin, [makeEvent(B, BASE, {})]);
  t = await makeApp();
});

afterAll(async () => {
  await t?.close();
  await admin?.close();
  await dropTable();
});

describe('the record of every read', () => {
  it('GET /events: one audit.log.viewed in the reader’s trail with actor, query, rows and request id', async () => {
    const got = await recordedBy(async () => {
      const res = await t.app.request('/events?user_id=u1&limit=2', {
        headers: { Authorization: await t.token(A), 'X-Request-Id': 'req-list-1', 'User-Agent': 'curl/8' },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(2);
    });
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      event_type: 'audit.log.viewed',
      tenant_id: A,
      source: ACCESS_SOURCE,
      user_id: 'analyst',
      actor_type: 'user',
      action: 'read',
      resource_type: 'audit_log',
      outcome: 'success',
      user_agent: 'curl/8',
      event_details: {
        request_id: 'req-list-1',
        endpoint: 'GET /events',
        query: 'user_id=u1&limit=2',
        rows: 2,
      },
    });
  });

  it('get, stats and export are recorded too; an event read by id names it', async () => {
    const id = eventsA[3]!.event_id;
    const got = await recordedBy(async () => {
      for (const path of [`/events/${id}`, '/events/stats?group_by=user_id', '/events/export?limit=5']) {
        const res = await t.get(path, A);
        expect(res.status, path).toBe(200);
        await res.text();
      }
    });
    expect(got.map((e) => [e.event_type, e.event_details.endpoint, e.event_details.rows])).toEqual([
      ['audit.log.viewed', 'GET /events/{event_id}', 1],
      ['audit.log.viewed', 'GET /events/stats', 3],
      ['audit.log.exported', 'GET /events/export', undefined],
    ]);
    expect(got[0]!.resource_id).toBe(id);
    expect(got.every((e) => e.tenant_id === A)).toBe(true);
  });

  it('refused reads (bad parameter, no token, another tenant’s event) return nothing and record nothing', async () => {
    const got = await recordedBy(async () => {
      expect((await t.get('/events?limit=0', A)).status).toBe(400);
      expect((await t.app.request('/events')).status).toBe(401);
      expect((await t.get(`/events/${eventsA[0]!.event_id}`, B)).status).toBe(404);
    });
    expect(got).toEqual([]);
  });

  it('reads of the access log itself are not recorded again; other reads leave them out', async () => {
    const got = await recordedBy(async () => {
      for (const path of [
        '/events?event_type=audit.log.viewed',
        '/events?access_records=only',
        '/events/stats?event_type[prefix]=audit.',
      ]) {
        expect((await t.get(path, A)).status, path).toBe(200);
      }
    });
    expect(got).toEqual([]);
  });

  it('a long query string is kept bounded, and the record still passes the event contract', async () => {
    const long = `/events?user_id=${'x'.repeat(6000)}`;
    const got = await recordedBy(async () => {
      expect((await t.get(long, A)).status).toBe(200);
    });
    expect(got).toHaveLength(1);
    expect(got[0]!.event_details).toMatchObject({ query_truncated: true });
    expect(String(got[0]!.event_details.query)).toHaveLength(MAX_RECORDED_QUERY);
  });
});

describe('when the record cannot be written', () => {
  it('answers 503 and returns none of the data (list and export)', async () => {
    // A topic that does not exist: Kafka refuses every send, as when the broker is unreachable.
    const accessLog = createAccessLog({
      kafka,
      topic: `missing-${randomBytes(6).toString('hex')}`,
      timeoutMs: 1500,
      logger,
      registry: createMetrics('access-log-test', false).registry,
    });
    const auth = await createAuth({ AUTH_JWT_SECRET: 'access-log-test-secret-at-least-32-chars' });
    const app = createApp({
      logger,
      metrics: createMetrics('access-log-test', false),
      clickhouse: t.reader,
      auth,
      accessLog,
      config: {
        CLICKHOUSE_DATABASE: t.database,
        QUERY_TIMEOUT_SECONDS: 10,
        QUERY_EXPORT_TIMEOUT_SECONDS: 10,
        QUERY_EXPORT_MAX_ROWS: 1000,
        QUERY_CURSOR_SECRET: CURSOR_SECRET,
      },
    });
    const token = `Bearer ${await auth.issueToken({ subject: 'analyst', tenant: A, scopes: ['events:read'] })}`;
    try {
      for (const path of ['/events', '/events/export']) {
        const res = await app.request(path, { headers: { Authorization: token } });
        const body = await res.text();
        expect(res.status, path).toBe(503);
        expect(body).not.toContain(eventsA[0]!.event_id);
        expect(JSON.parse(body)).toMatchObject({ error: { code: 'unavailable' } });
      }
    } finally {
      await accessLog.close();
    }
  });
});

import type { ClickHouseClient } from '@audit/clickhouse';
import { createClickHouse } from '@audit/clickhouse';
import { expectOfflineReference } from '@audit/http/test-reference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../src/reader.ts';
import { adminClient, cfg, dropTable, ensureTable, makeApp, newTenant, type TestApp } from './helpers.ts';
import { startProxy } from './tcp-proxy.ts';

const T = newTenant();
const target = new URL(cfg.CLICKHOUSE_URL);
let admin: ClickHouseClient;

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
});
afterAll(async () => {
  await admin?.close();
  await dropTable();
});

const ENDPOINTS = [
  '/events',
  '/events/stats',
  '/events/export',
  '/events/018f0000-0000-7000-8000-000000000000',
];

describe('a failing or hung ClickHouse', () => {
  it('down: 503 unavailable JSON from every endpoint and /readyz, with no ClickHouse text', async () => {
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port) });
    const t = await makeApp({ clickhouseUrl: proxy.url, timeoutSeconds: 2 });
    try {
      expect((await t.app.request('/readyz')).status).toBe(200);
      await proxy.close();
      for (const path of ENDPOINTS) {
        const res = await t.get(path, T);
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        const body = await res.json();
        expect(body).toEqual({
          error: { code: 'unavailable', message: 'the event store is unavailable; retry later' },
        });
      }
      const ready = await t.app.request('/readyz');
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        error: { code: 'not_ready', details: ['clickhouse: unavailable'] },
      });
      expect((await t.app.request('/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('hung (accepts, never answers): 504 timeout JSON instead of a hanging request', async () => {
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port) });
    const t = await makeApp({ clickhouseUrl: proxy.url, timeoutSeconds: 1 });
    try {
      proxy.blackhole();
      for (const path of ['/events', '/events/export']) {
        const res = await t.get(path, T);
        expect(res.status, path).toBe(504);
        expect(await res.json()).toEqual({
          error: { code: 'timeout', message: 'the query took too long; narrow the time range or filters' },
        });
      }
    } finally {
      await t.close();
      await proxy.close();
    }
  });

  it('a query over max_execution_time is stopped by the server: 504', async () => {
    // The limits are real: the reader profile refuses a session that tries to lift them.
    const reader = createClickHouse(cfg, 'reader');
    await expect(
      reader.query({ query: 'SELECT 1', clickhouse_settings: { max_execution_time: 61 } }),
    ).rejects.toThrow(/max_execution_time|SETTING_CONSTRAINT_VIOLATION/i);
    const err = await reader
      .query({
        query: 'SELECT sleepEachRow(0.5) FROM numbers(10)',
        format: 'JSONEachRow',
        clickhouse_settings: {
          max_execution_time: 1,
          timeout_before_checking_execution_speed: 0,
          max_block_size: '1',
        },
      })
      .then((rs) => rs.json())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ type: 'TIMEOUT_EXCEEDED' });
    expect(classifyError(err)).toMatchObject({ status: 504, code: 'timeout' });
    await reader.close();
  });
});

describe('service routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeApp();
  });
  afterAll(async () => t?.close());

  it('/readyz is ready against the real server; /healthz ok', async () => {
    expect(await (await t.app.request('/readyz')).json()).toEqual({ status: 'ready' });
    expect(await (await t.app.request('/healthz')).json()).toEqual({ status: 'ok' });
  });

  it('/metrics has ClickHouse query time by endpoint', async () => {
    await t.get('/events', T);
    await t.get('/events/stats', T);
    const text = await (await t.app.request('/metrics')).text();
    expect(text).toMatch(
      /clickhouse_query_duration_seconds_count\{[^}]*endpoint="list",outcome="ok"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /clickhouse_query_duration_seconds_count\{[^}]*endpoint="stats",outcome="ok"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*method="GET",route="\/events",status="200"/,
    );
  });

  it('/openapi.json describes every route the app serves, and /docs renders it', async () => {
    const spec = (await (await t.app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toBe('3.1.0');
    // /oauth/token and /admin/* are mounted by main.ts from @audit/credentials (test/e2e/tenancy),
    // /streams/* by main.ts with its stream store (test/streams/manage.int.test.ts).
    expect(Object.keys(spec.paths).sort()).toEqual([
      '/admin/keys/{key_id}',
      '/admin/keys/{key_id}/revoke',
      '/admin/keys/{key_id}/rotate',
      '/admin/tenants',
      '/admin/tenants/{tenant}/analysts',
      '/admin/tenants/{tenant}/keys',
      '/checkpoints',
      '/checkpoints/consistency',
      '/checkpoints/latest',
      '/events',
      '/events/export',
      '/events/stats',
      '/events/{event_id}',
      '/events/{event_id}/proof',
      '/healthz',
      '/keys',
      '/leaves',
      '/login',
      '/metrics',
      '/oauth/token',
      '/readyz',
      '/streams',
      '/streams/{stream_id}',
      '/streams/{stream_id}/pause',
      '/streams/{stream_id}/resume',
      '/streams/{stream_id}/secret',
      '/streams/{stream_id}/test',
      '/streams/{stream_id}/tests/{test_id}',
      '/viewer/session',
      '/viewer/tokens',
    ]);
    await expectOfflineReference(t.app);
  });

  it('POST /login is mounted (404: no users configured here)', async () => {
    const res = await t.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'x', password: 'y' }),
    });
    expect(res.status).toBe(404);
  });

  it('answers 400 naming an unknown parameter, 404 for an unknown route', async () => {
    const res = await t.get('/events?colour=red', T);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 'invalid_parameter', details: { parameter: 'colour' } },
    });
    expect((await t.get('/nope', T)).status).toBe(404);
  });
});

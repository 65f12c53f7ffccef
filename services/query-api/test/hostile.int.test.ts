import type { ClickHouseClient } from '@audit/clickhouse';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  dropTable,
  ensureTable,
  eventsTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  qs,
  type TestApp,
} from './helpers.ts';

const T = newTenant();
const OTHER = newTenant();
const base = Date.now() - 86_400_000;

const VALUES = [
  "'",
  '"',
  "'; DROP TABLE audit.events; --",
  "x' OR '1'='1",
  '`events`',
  ')',
  ') OR (1=1',
  '\\',
  '\\N',
  '{p0:String}',
  '\u0000',
  '\t\n\r',
  'é😀\u202e漢字',
  '\ud800',
  'x'.repeat(10 * 1024),
  '',
  '%',
  '1e999',
  '-0',
];
const HOSTILE_NAMES = [
  'details.a.__proto__',
  'details.x)',
  'details..a',
  '__proto__',
  'constructor',
  'details.a[eq',
  'event_type[eq]]',
  "'; DROP",
  '`x`',
  `details.${'a'.repeat(10_000)}`,
  'details.a[__proto__]',
  'event_type[in',
  'details.a b',
];

// Stored values equal to some hostile strings, so "a correct result" is checkable, not just "no error".
const fixtures: AuditEvent[] = VALUES.slice(0, 13).map((v, i) =>
  makeEvent(T, base + i * 1000, { user_id: v || 'empty', event_details: { a: { b: v }, n: i } }),
);

// Every key ingest accepts is a filter path, so these parameter names are paths of this event.
const NAMED_PATHS = ['details.a.__proto__', 'details.x)', 'details..a', 'details.a[eq', 'details.a b'];
const named = makeEvent(T, base + 100_000, {
  user_id: 'named',
  event_details: {
    ...JSON.parse('{"a":{"__proto__":"x"}}'),
    'x)': 'x',
    '.a': 'x',
    'a[eq': 'x',
    'a b': 'x',
  },
});

let admin: ClickHouseClient;
let t: TestApp;

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, [...fixtures, named, makeEvent(OTHER, base, { user_id: "'" })]);
  t = await makeApp();
});

afterAll(async () => {
  await t?.close();
  await admin?.close();
  await dropTable();
});

const POSITIONS: ((v: string) => [string, [string, string][]])[] = [
  (v) => ['/events', [['user_id', v]]],
  (v) => ['/events', [['details.a.b', v]]],
  (v) => ['/events', [['details.n[gt]', v]]],
  (v) => ['/events', [['event_type[in]', v]]],
  (v) => ['/events', [['resource_id[prefix]', v]]],
  (v) => ['/events', [['outcome[exists]', v]]],
  (v) => ['/events', [['event_id', v]]],
  (v) => ['/events', [['schema_version', v]]],
  (v) => ['/events', [['from', v]]],
  (v) => ['/events', [['to', v]]],
  (v) => ['/events', [['order', v]]],
  (v) => ['/events', [['limit', v]]],
  (v) => ['/events', [['cursor', v]]],
  (v) => ['/events', [[v, '1']]],
  (v) => ['/events', [[`details.${v}`, '1']]],
  (v) => ['/events', [[`user_id[${v}]`, '1']]],
  (v) => ['/events/stats', [['group_by', v]]],
  (v) => ['/events/stats', [['group_by', `details.${v}`]]],
  (v) => ['/events/stats', [['interval', v]]],
  (v) => ['/events/stats', [['top', v]]],
  (v) => ['/events/stats', [['details.a.b[ne]', v]]],
  (v) => ['/events/export', [['format', v]]],
  (v) => ['/events/export', [['user_id', v]]],
  (v) => ['/events/export', [['limit', v]]],
];

async function check(path: string) {
  const res = await t.get(path, T);
  expect([200, 400], `${res.status} for ${path.slice(0, 200)}`).toContain(res.status);
  if (path.startsWith('/events/export') && res.status === 200) {
    const text = await res.text();
    for (const line of text.split('\n').filter(Boolean))
      expect((JSON.parse(line) as AuditEvent).tenant_id).toBe(T);
    return { status: 200 };
  }
  const body = (await res.json()) as { events?: AuditEvent[]; error?: { code: string; message: string } };
  if (res.status === 400) {
    expect(body.error?.code).toBe('invalid_parameter');
    expect(body.error?.message).not.toMatch(/DB::Exception|Code: \d+|SYNTAX/);
  }
  for (const e of body.events ?? []) expect(e.tenant_id).toBe(T);
  return { status: res.status, body };
}

describe('hostile input in every parameter → 400 or a correct result, never a 500 or a leak', () => {
  it.each(
    VALUES.map((v, i) => [i, v.length > 40 ? `${v.slice(0, 10)}…(${v.length})` : JSON.stringify(v), v]),
  )('value #%d %s', async (_i, _label, v) => {
    for (const position of POSITIONS) {
      const [path, params] = position(v as string);
      await check(`${path}?${qs(params)}`);
    }
    if (v !== '') await check(`/events/${qs({ x: v as string }).slice(2)}`);
  });

  it.each(HOSTILE_NAMES.map((n) => [n.length > 40 ? `${n.slice(0, 20)}…` : n, n]))(
    'name %s',
    async (_l, name) => {
      const r = await check(`/events?${qs([[name, 'x']])}`);
      // A details path is any key text (a query parameter, never SQL): it finds exactly the event
      // that has it. Everything else is a 400 naming it.
      if (NAMED_PATHS.includes(name)) {
        expect(r.status).toBe(200);
        expect(r.body?.events?.map((e) => e.event_id)).toEqual([named.event_id]);
      } else expect(r.status).toBe(400);
    },
  );

  it('survives malformed percent-encoding in the path and the query', async () => {
    for (const path of [
      '/events/%ZZ',
      '/events/%ED%A0%80',
      '/events?user_id=%ZZ',
      '/events?%ZZ=1',
      '/events?details.a.b=%ED%A0%80',
    ]) {
      await check(path);
    }
  });

  it('finds exactly the stored event for each hostile value that is stored', async () => {
    for (const e of fixtures) {
      const v = (e.event_details as { a: { b: string } }).a.b;
      const byDetail = await check(`/events?${qs({ 'details.a.b': v })}`);
      expect(byDetail.body?.events?.map((x) => x.event_id)).toEqual([e.event_id]);
      const byUser = await check(`/events?${qs({ user_id: e.user_id })}`);
      expect(byUser.body?.events?.map((x) => x.event_id)).toEqual([e.event_id]);
    }
  });

  it('leaves the table as it was', async () => {
    const rs = await admin.query({
      query: `SELECT count() AS n FROM ${eventsTable()} FINAL WHERE tenant_id = {t:String}`,
      query_params: { t: T },
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: string | number }>();
    expect(Number(row?.n)).toBe(fixtures.length + 1);
  });
});

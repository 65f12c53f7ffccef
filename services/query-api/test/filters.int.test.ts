import type { ClickHouseClient } from '@audit/clickhouse';
import { type AuditEvent, flattenDetails } from '@audit/schema';
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

const A = newTenant();
const B = newTenant();
const now = new Date();
// Two days ago at 10:00 UTC: well inside the table's TTL; 24 events 15 minutes apart (10:00–15:45).
const BASE = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 2, 10);
const TYPES = ['customer.account.created', 'customer.billed', 'customer.action.performed'];
const PLANS = ['free', 'pro', 'enterprise', 'pro'];

function fixture(tenant: string, i: number): AuditEvent {
  const outcome = i % 5 === 0 ? undefined : i % 2 ? 'success' : 'failure';
  const amount = i % 5 === 4 ? undefined : i % 7 === 3 ? 'n/a' : i * 10.5;
  return makeEvent(tenant, BASE + i * 15 * 60_000, {
    event_type: TYPES[i % 3]!,
    user_id: `u${i % 4}`,
    source: i < 12 ? 'billing' : 'web',
    ...(outcome ? { outcome } : {}),
    ...(i % 2 ? { resource_id: `inv-${i}` } : {}),
    schema_version: i % 6 === 0 ? 2 : 1,
    event_details: {
      customer: { plan: PLANS[i % 4], country: i % 3 === 0 ? 'FR' : 'DE' },
      ...(amount === undefined ? {} : { amount }),
      items: [{ sku: `s${i}` }],
      ...(i === 5 ? { note: `it's "quoted" ✓ é` } : {}),
    },
  });
}

const eventsA = Array.from({ length: 24 }, (_, i) => fixture(A, i));
const eventsB = Array.from({ length: 24 }, (_, i) => fixture(B, i));
const byTimeDesc = [...eventsA].sort((x, y) => y.timestamp.localeCompare(x.timestamp));

/** What ClickHouse's toFloat64OrNull gives for a stored detail. */
const num = (s: string | undefined) =>
  s === undefined || s === '' || !Number.isFinite(Number(s)) ? null : Number(s);
const d = (e: AuditEvent, path: string) => flattenDetails(e.event_details)[path];
const ids = (events: { event_id: string }[]) => events.map((e) => e.event_id);

let admin: ClickHouseClient;
let t: TestApp;

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, [...eventsA, ...eventsB]);
  // Duplicates of four events (a sink retry / producer resend): FINAL must show each once.
  await insertEvents(admin, eventsA.slice(0, 4));
  t = await makeApp();
});

afterAll(async () => {
  await t?.close();
  await admin?.close();
  await dropTable();
});

async function list(query: string, tenant = A) {
  const res = await t.get(`/events?${query}${query ? '&' : ''}limit=1000`, tenant);
  const body = (await res.json()) as { events: AuditEvent[]; next_cursor: string | null };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

const e0 = eventsA[0]!;
const e1 = eventsA[1]!;

const CASES: [string, (e: AuditEvent) => boolean][] = [
  ['', () => true],
  ['event_type=customer.billed', (e) => e.event_type === 'customer.billed'],
  ['event_type[eq]=customer.billed', (e) => e.event_type === 'customer.billed'],
  ['event_type[ne]=customer.billed', (e) => e.event_type !== 'customer.billed'],
  ['user_id[gt]=u1', (e) => e.user_id > 'u1'],
  ['user_id[gte]=u1', (e) => e.user_id >= 'u1'],
  ['user_id[lt]=u2', (e) => e.user_id < 'u2'],
  ['user_id[lte]=u2', (e) => e.user_id <= 'u2'],
  [
    'event_type[in]=customer.billed,customer.account.created',
    (e) => ['customer.billed', 'customer.account.created'].includes(e.event_type),
  ],
  ['event_type[prefix]=customer.a', (e) => e.event_type.startsWith('customer.a')],
  ['outcome[exists]=true', (e) => e.outcome !== undefined],
  ['outcome[exists]=false', (e) => e.outcome === undefined],
  ['outcome=failure', (e) => e.outcome === 'failure'],
  ['resource_id[prefix]=inv-1', (e) => (e.resource_id ?? '').startsWith('inv-1')],
  ['source=web&user_id=u3', (e) => e.source === 'web' && e.user_id === 'u3'],
  ['schema_version=2', (e) => e.schema_version === 2],
  ['schema_version[ne]=2', (e) => e.schema_version !== 2],
  ['schema_version[lt]=2', (e) => e.schema_version < 2],
  ['schema_version[in]=1,2', () => true],
  [`event_id=${e0.event_id}`, (e) => e === e0],
  [`event_id=${e0.event_id.toUpperCase()}`, (e) => e === e0],
  [`event_id[ne]=${e0.event_id}`, (e) => e !== e0],
  [`event_id[in]=${e0.event_id},${e1.event_id}`, (e) => e === e0 || e === e1],
  [`event_id[prefix]=${e1.event_id.slice(0, 13)}`, (e) => e.event_id.startsWith(e1.event_id.slice(0, 13))],
  ['details.customer.plan=pro', (e) => d(e, 'customer.plan') === 'pro'],
  ['details.customer.plan[ne]=pro', (e) => d(e, 'customer.plan') !== 'pro'],
  [
    'details.customer.plan[in]=free,enterprise',
    (e) => ['free', 'enterprise'].includes(d(e, 'customer.plan')!),
  ],
  ['details.customer.plan[prefix]=ent', (e) => d(e, 'customer.plan')!.startsWith('ent')],
  ['details.customer.country[exists]=true', () => true],
  ['details.customer.missing[exists]=false', () => true],
  ['details.customer.missing[exists]=true', () => false],
  ['details.amount[exists]=false', (e) => d(e, 'amount') === undefined],
  ['details.amount[gt]=100', (e) => (num(d(e, 'amount')) ?? Number.NaN) > 100],
  ['details.amount[gte]=105', (e) => (num(d(e, 'amount')) ?? Number.NaN) >= 105],
  ['details.amount[lt]=52.5', (e) => (num(d(e, 'amount')) ?? Number.NaN) < 52.5],
  ['details.amount[lte]=52.5', (e) => (num(d(e, 'amount')) ?? Number.NaN) <= 52.5],
  ['details.amount[gt]=-1e3', (e) => num(d(e, 'amount')) !== null],
  ['details.amount=21', (e) => d(e, 'amount') === '21'],
  ['details.amount[in]=0,21,n/a', (e) => ['0', '21', 'n/a'].includes(d(e, 'amount')!)],
  // Only events that have an amount: a missing key is no value, so it is not "another value".
  ['details.amount[ne]=n/a', (e) => d(e, 'amount') !== undefined && d(e, 'amount') !== 'n/a'],
  ['details.customer.plan[gt]=1', () => false],
  ['details.items.0.sku=s7', (e) => d(e, 'items.0.sku') === 's7'],
  [qs({ 'details.note': `it's "quoted" ✓ é` }), (e) => d(e, 'note') === `it's "quoted" ✓ é`],
  [
    'event_type=customer.billed&details.customer.plan=pro&details.amount[gte]=10',
    (e) =>
      e.event_type === 'customer.billed' &&
      d(e, 'customer.plan') === 'pro' &&
      (num(d(e, 'amount')) ?? Number.NaN) >= 10,
  ],
  [
    qs({ from: new Date(BASE + 3_600_000).toISOString(), to: new Date(BASE + 7_200_000).toISOString() }),
    (e) => Date.parse(e.timestamp) >= BASE + 3_600_000 && Date.parse(e.timestamp) < BASE + 7_200_000,
  ],
  [
    // The same instant written with an offset.
    qs({ from: `${new Date(BASE + 3_600_000 + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00` }),
    (e) => Date.parse(e.timestamp) >= BASE + 3_600_000,
  ],
  [qs({ to: new Date(BASE).toISOString() }), () => false],
];

describe('GET /events filter matrix (24 known events, 4 of them stored twice, a second tenant alongside)', () => {
  it.each(CASES)('%s', async (query, predicate) => {
    const body = await list(query);
    const expected = byTimeDesc.filter(predicate);
    expect(ids(body.events)).toEqual(ids(expected));
    expect(body.next_cursor).toBeNull();
    // Same filters through stats: the count agrees.
    const stats = await t.get(`/events/stats?${query}`, A);
    expect(await stats.json()).toEqual({ count: expected.length });
  });

  it('returns events in the contract shape', async () => {
    const body = await list(`event_id=${eventsA[5]!.event_id}`);
    expect(body.events).toEqual([eventsA[5]]);
  });

  it('orders ascending on request, descending by default, and pages when limit is small', async () => {
    expect(ids((await list('order=asc')).events)).toEqual(ids(eventsA));
    expect(ids((await list('order=desc')).events)).toEqual(ids(byTimeDesc));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = qs([
        ['order', 'asc'],
        ['source', 'billing'],
        ['limit', '5'],
        ...(cursor ? [['cursor', cursor]] : []),
      ] as [string, string][]);
      const res = await t.get(`/events?${q}`, A);
      const page = (await res.json()) as { events: AuditEvent[]; next_cursor: string | null };
      expect(page.events.length).toBeLessThanOrEqual(5);
      seen.push(...ids(page.events));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(ids(eventsA.filter((e) => e.source === 'billing')));
  });

  it('refuses a cursor used with other filters, another order or by another tenant', async () => {
    const res = await t.get('/events?source=billing&limit=2', A);
    const { next_cursor } = (await res.json()) as { next_cursor: string };
    expect(next_cursor).toEqual(expect.any(String));
    const again = (q: string, tenant = A) => t.get(`/events?${q}&${qs({ cursor: next_cursor })}`, tenant);
    expect((await again('source=billing&limit=2')).status).toBe(200);
    expect((await again('source=billing&limit=7')).status).toBe(200);
    for (const [q, tenant] of [
      ['source=web&limit=2', A],
      ['source=billing&order=asc', A],
      ['source=billing&user_id=u1', A],
      ['source=billing&limit=2', B],
    ] as const) {
      const r = await again(q, tenant);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({
        error: { code: 'invalid_parameter', details: { parameter: 'cursor' } },
      });
    }
  });
});

describe('GET /events/{event_id}', () => {
  it('returns the event of the caller’s tenant once, 404 for another tenant’s or an unknown id, 400 for a non-UUID', async () => {
    const res = await t.get(`/events/${e1.event_id}`, A);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(e1);
    expect((await t.get(`/events/${e1.event_id}`, B)).status).toBe(404);
    expect((await t.get('/events/018f0000-0000-7000-8000-000000000000', A)).status).toBe(404);
    const bad = await t.get('/events/not-a-uuid', A);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { details: { parameter: 'event_id' } } });
  });
});

describe('GET /events/stats equals direct SQL', () => {
  async function sql<T>(query: string, params: Record<string, unknown> = {}) {
    // Written as an analyst would, against this file's scratch copy of the table.
    const rs = await admin.query({
      query: query.replaceAll('audit.events', eventsTable()),
      query_params: { t: A, ...params },
      format: 'JSONEachRow',
    });
    return rs.json<T>();
  }

  it('groups by a common field', async () => {
    const res = await t.get('/events/stats?group_by=event_type&top=2', A);
    const direct = await sql<{ key: string; count: string }>(
      'SELECT event_type AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {t:String} GROUP BY key ORDER BY count DESC, key ASC LIMIT 2',
    );
    expect(direct).toHaveLength(2);
    expect(await res.json()).toEqual({
      groups: direct.map((r) => ({ key: r.key, count: Number(r.count) })),
      truncated: false,
    });
  });

  it('groups by a nested details path, with a filter', async () => {
    const res = await t.get('/events/stats?group_by=details.customer.plan&source=web', A);
    const direct = await sql<{ key: string; count: string }>(
      "SELECT details['customer.plan'] AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {t:String} AND source = 'web' GROUP BY key ORDER BY count DESC, key ASC",
    );
    expect(direct.map((r) => r.key).sort()).toEqual(['enterprise', 'free', 'pro']);
    expect(await res.json()).toEqual({
      groups: direct.map((r) => ({ type: 'string', key: r.key, count: Number(r.count) })),
      truncated: false,
    });
  });

  it('buckets by hour, and by day with the top values per bucket', async () => {
    const hourly = (await (await t.get('/events/stats?interval=hour', A)).json()) as { groups: unknown[] };
    expect(hourly).toEqual({
      groups: Array.from({ length: 6 }, (_, h) => ({
        bucket: new Date(BASE + h * 3_600_000).toISOString(),
        count: 4,
      })),
      truncated: false,
    });
    const daily = await (await t.get('/events/stats?interval=day&group_by=user_id&top=3', A)).json();
    const direct = await sql<{ key: string; count: string }>(
      'SELECT user_id AS key, count() AS count FROM audit.events FINAL WHERE tenant_id = {t:String} GROUP BY key ORDER BY count DESC, key ASC LIMIT 3',
    );
    const day = new Date(BASE - 10 * 3_600_000).toISOString();
    expect(daily).toEqual({
      groups: direct.map((r) => ({ bucket: day, key: r.key, count: Number(r.count) })),
      truncated: false,
    });
  });

  it('refuses bad grouping parameters by name', async () => {
    for (const [q, parameter] of [
      ['group_by=tenant_id', 'group_by'],
      [`group_by=details.${'k'.repeat(1032)}`, 'group_by'],
      ['interval=week', 'interval'],
      ['top=0', 'top'],
      ['top=1001', 'top'],
      ['limit=5', 'limit'],
    ]) {
      const r = await t.get(`/events/stats?${q}`, A);
      expect(r.status, q).toBe(400);
      expect(await r.json()).toMatchObject({ error: { details: { parameter } } });
    }
  });
});

describe('GET /events/export', () => {
  it('streams NDJSON equal to the list and to a direct SQL count', async () => {
    const res = await t.get('/events/export?format=ndjson&details.customer.plan=pro', A);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const exported = lines.map((l) => JSON.parse(l) as AuditEvent);
    expect(exported).toEqual(byTimeDesc.filter((e) => d(e, 'customer.plan') === 'pro'));
    const [direct] = await (
      await admin.query({
        query: `SELECT count() AS n FROM ${eventsTable()} FINAL WHERE tenant_id = {t:String} AND details['customer.plan'] = 'pro'`,
        query_params: { t: A },
        format: 'JSONEachRow',
      })
    ).json<{ n: string }>();
    expect(exported).toHaveLength(Number(direct!.n));
  });

  it('streams CSV with a header and details as JSON text, honouring limit and order', async () => {
    const res = await t.get('/events/export?format=csv&order=asc&limit=3', A);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    const rows = text.split('\r\n');
    expect(rows.pop()).toBe('');
    expect(rows[0]).toBe(
      'event_id,event_type,timestamp,received_at,tenant_id,user_id,source,actor_type,resource_type,resource_id,action,outcome,ip,user_agent,schema_version,event_details',
    );
    expect(rows).toHaveLength(4);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(ids(eventsA.slice(0, 3)));
    expect(rows[1]).toContain(`"${JSON.stringify(eventsA[0]!.event_details).replaceAll('"', '""')}"`);
  });

  it('exports nothing of another tenant and refuses a bad format', async () => {
    const res = await t.get(`/events/export?event_id=${e0.event_id}`, B);
    expect(await res.text()).toBe('');
    expect((await t.get('/events/export?format=xml', A)).status).toBe(400);
  });
});

describe('tenant isolation', () => {
  it('never returns another tenant’s events from any endpoint', async () => {
    const listB = await list('', B);
    expect(listB.events).toHaveLength(24);
    expect(listB.events.every((e) => e.tenant_id === B)).toBe(true);
    expect(await (await t.get('/events/stats', B)).json()).toEqual({ count: 24 });
    const exported = (await (await t.get('/events/export', B)).text()).trim().split('\n');
    expect(exported.map((l) => (JSON.parse(l) as AuditEvent).tenant_id)).toEqual(Array(24).fill(B));
    // A tenant_id filter is not a way around it.
    expect((await t.get(`/events?tenant_id=${A}`, B)).status).toBe(400);
  });

  it('needs a token with events:read', async () => {
    expect((await t.app.request('/events')).status).toBe(401);
    const writer = await t.token(A, ['events:write']);
    expect((await t.app.request('/events', { headers: { Authorization: writer } })).status).toBe(403);
  });
});

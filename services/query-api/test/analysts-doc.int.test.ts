import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

const DOC = fileURLToPath(new URL('../../../docs/analysts.md', import.meta.url));
const T = newTenant();
// The examples use tenant 'acme' and `audit.events`; this file runs them for a tenant of its
// own on its scratch copy of the table (see helpers.ts), with the reader's readonly=2.
const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) =>
  m[1]!.trim().replaceAll("'acme'", `'${T}'`),
);

// The doc's "API filter | the same condition in SQL" table, and events that tell its rows apart.
const TABLE_RE = /^\| API filter .*\n\| -+ \| -+ \|\n((?:\|.*\n)+)/m;
const mapping = [
  ...(TABLE_RE.exec(readFileSync(DOC, 'utf8'))?.[1] ?? '').matchAll(/^\| `(.+?)` +\| `(.+)` +\|$/gm),
].map((m) => ({ filter: m[1]!, sql: m[2]! }));
const M = newTenant();
const mappingEvents = [
  { plan: 'pro', amount: 15, customer: { country: 'FR' }, items: [{ sku: 'a' }], note: null },
  { plan: 'free', amount: '15', customer: 'none', items: 'none', note: 'null' },
  { plan: '', amount: 12.5, ключ: 'значение' },
  { plan: 'premium', amount: true },
  { amount: 'n/a' },
  {},
].map((d, i) => makeEvent(M, Date.now() - 7_200_000 + i * 1000, { user_id: `m${i}`, event_details: d }));

let reader: ClickHouseClient;
let admin: ClickHouseClient;
let api: TestApp;

async function run<T>(sql: string): Promise<T[]> {
  const rs = await reader.query({
    query: sql.replaceAll('audit.events', eventsTable()),
    format: 'JSONEachRow',
  });
  return rs.json<T>();
}

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  // A few rows for the doc's tenant, so the examples run over data, not only an empty set.
  const t = Date.now() - 3_600_000;
  await insertEvents(admin, [
    makeEvent(T, t, {
      event_type: 'customer.billed',
      user_id: 'u-42',
      resource_type: 'invoice',
      resource_id: 'inv-1001',
      outcome: 'success',
      event_details: { amount: 99.5, customer: { plan: 'pro', country: 'FR' }, items: [{ sku: 'SKU-1' }] },
    }),
    makeEvent(T, t + 1000, {
      event_type: 'customer.account.created',
      user_id: 'u-42',
      event_details: { customer: { plan: 'pro' } },
    }),
  ]);
  await insertEvents(admin, mappingEvents);
  reader = adminClient({ readonly: '2' });
  api = await makeApp();
});

afterAll(async () => {
  await api?.close();
  await reader?.close();
  await admin?.close();
  await dropTable();
});

describe('docs/analysts.md', () => {
  it('has at least ten example queries, each scoped to a tenant', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    for (const sql of blocks) expect(sql).toContain(`tenant_id = '${T}'`);
  });

  it.each(blocks.map((sql, i) => [i + 1, sql.split('\n')[0], sql]))(
    'example %d runs read-only: %s',
    async (_i, _first, sql) => {
      const rows = await run<Record<string, unknown>>(sql as string);
      expect(Array.isArray(rows)).toBe(true);
    },
  );

  it('the p95 example aggregates the stored amount', async () => {
    const sql = blocks.find((b) => b.includes('quantile(0.95)'))!;
    const rows = await run<{ event_type: string; p95: number }>(sql);
    expect(rows.find((r) => r.event_type === 'customer.billed')?.p95).toBeGreaterThan(0);
  });

  it('has a filter ↔ SQL table whose two sides find the same events', () => {
    expect(mapping.length).toBeGreaterThanOrEqual(10);
  });

  it.each(mapping.map((m) => [m.filter, m.sql]))('%s ≡ %s', async (filter, sql) => {
    const eq = filter.indexOf('=');
    const res = await api.get(`/events?${qs([[filter.slice(0, eq), filter.slice(eq + 1)]])}`, M);
    expect(res.status).toBe(200);
    const viaApi = ((await res.json()) as { events: AuditEvent[] }).events.map((e) => e.user_id).sort();
    const viaSql = (
      await run<{ user_id: string }>(
        `SELECT user_id FROM audit.events FINAL WHERE tenant_id = '${M}' AND (${sql}) ORDER BY user_id`,
      )
    ).map((r) => r.user_id);
    expect(viaApi).toEqual(viaSql);
  });

  it('each row of the table finds exactly the events its rule says', async () => {
    const expected: Record<string, string[]> = {
      'details.plan=pro': ['m0'],
      'details.plan=': ['m2'],
      'details.plan[ne]=pro': ['m1', 'm2', 'm3'],
      'details.plan[in]=pro,free': ['m0', 'm1'],
      'details.plan[prefix]=pr': ['m0', 'm3'],
      'details.amount=15': ['m0', 'm1'],
      'details.amount=15.0': ['m0'],
      'details.amount[gt]=10': ['m0', 'm2'],
      'details.amount[type]=string': ['m1', 'm4'],
      'details.customer[exists]=true': ['m0', 'm1'],
      'details.customer[exists]=false': ['m2', 'm3', 'm4', 'm5'],
      'details.items[type]=array': ['m0'],
      'details.note[type]=null': ['m0'],
      'details.note=null': ['m1'],
      'details.ключ=значение': ['m2'],
    };
    expect(mapping.map((m) => m.filter)).toEqual(Object.keys(expected));
    for (const m of mapping) {
      const rows = await run<{ user_id: string }>(
        `SELECT user_id FROM audit.events FINAL WHERE tenant_id = '${M}' AND (${m.sql}) ORDER BY user_id`,
      );
      expect(
        rows.map((r) => r.user_id),
        m.filter,
      ).toEqual(expected[m.filter]);
    }
  });
});

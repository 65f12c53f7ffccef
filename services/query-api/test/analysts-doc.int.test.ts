import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@audit/clickhouse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  dropTable,
  ensureTable,
  eventsTable,
  insertEvents,
  makeEvent,
  newTenant,
} from './helpers.ts';

const DOC = fileURLToPath(new URL('../../../docs/analysts.md', import.meta.url));
const T = newTenant();
// The examples use tenant 'acme' and `audit.events`; this file runs them for a tenant of its
// own on its scratch copy of the table (see helpers.ts), with the reader's readonly=2.
const blocks = [...readFileSync(DOC, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)].map((m) =>
  m[1]!.trim().replaceAll("'acme'", `'${T}'`),
);

let reader: ClickHouseClient;
let admin: ClickHouseClient;

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
  reader = adminClient({ readonly: '2' });
});

afterAll(async () => {
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
});

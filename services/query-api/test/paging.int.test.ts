import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@audit/clickhouse';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  dropTable,
  ensureTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  qs,
  type TestApp,
} from './helpers.ts';

const T = newTenant();
const N = 10_000;
const PAGE = 137;
const now = Date.now();
// 10,000 events over 2,000 distinct milliseconds of the last hour: five share each timestamp, so
// the event_id tie-break of the keyset is exercised on every page boundary.
const START = now - 3_600_000;
const originals = Array.from({ length: N }, (_, i) =>
  makeEvent(T, START + Math.floor(i / 5) * 1000, {
    event_type: i % 2 ? 'a.b' : 'c.d',
    user_id: `u${i % 10}`,
  }),
);

let admin: ClickHouseClient;
let t: TestApp;

beforeAll(async () => {
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, originals);
  t = await makeApp();
});

afterAll(async () => {
  await t?.close();
  await admin?.close();
  await dropTable();
});

/**
 * Keeps inserting while paging runs: new events inside the range being paged (they may or may
 * not be seen, never twice), newer ones, and re-sent copies of originals (duplicates FINAL hides).
 */
/** Every id inserted concurrently, by either test (they share the tenant). */
const extra = new Set<string>();

function insertWhile(isDone: () => boolean) {
  let batches = 0;
  const loop = (async () => {
    while (!isDone()) {
      const batch: AuditEvent[] = [];
      for (let k = 0; k < 40; k++) {
        const e = makeEvent(T, START + Math.floor(Math.random() * 3_600_000), { event_id: randomUUID() });
        batch.push(e);
        extra.add(e.event_id);
      }
      batch.push(makeEvent(T, Date.now(), { event_id: randomUUID() }));
      extra.add(batch.at(-1)!.event_id);
      for (let k = 0; k < 10; k++) batch.push(originals[Math.floor(Math.random() * N)]!);
      await insertEvents(admin, batch);
      batches++;
    }
  })();
  return { loop, batches: () => batches };
}

async function pageAll(order: 'asc' | 'desc', to: string) {
  let done = false;
  const writer = insertWhile(() => done);
  const seen: AuditEvent[] = [];
  let cursor: string | null = null;
  let pages = 0;
  try {
    do {
      const params: [string, string][] = [
        ['order', order],
        ['limit', String(PAGE)],
        ['to', to],
      ];
      if (cursor) params.push(['cursor', cursor]);
      const res = await t.get(`/events?${qs(params)}`, T);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { events: AuditEvent[]; next_cursor: string | null };
      expect(body.events.length).toBeLessThanOrEqual(PAGE);
      seen.push(...body.events);
      cursor = body.next_cursor;
      pages++;
    } while (cursor);
  } finally {
    done = true;
    await writer.loop;
  }
  return { seen, pages, batches: writer.batches() };
}

describe('paging 10,000 events with limit=137 while inserts continue', () => {
  it.each(['desc', 'asc'] as const)('%s: each event exactly once, in order', async (order) => {
    const to = new Date(now).toISOString();
    const { seen, pages, batches } = await pageAll(order, to);
    expect(batches).toBeGreaterThan(0);
    const seenIds = seen.map((e) => e.event_id);
    // Exactly once: no id twice, every original present, nothing that is neither.
    expect(new Set(seenIds).size).toBe(seenIds.length);
    const originalIds = new Set(originals.map((e) => e.event_id));
    expect(seenIds.filter((id) => originalIds.has(id))).toHaveLength(N);
    expect(seenIds.every((id) => originalIds.has(id) || extra.has(id))).toBe(true);
    expect(seen.every((e) => e.tenant_id === T && e.timestamp < to)).toBe(true);
    // In order of timestamp (ties are broken by event_id in ClickHouse's UUID order).
    const times = seen.map((e) => e.timestamp);
    const sorted = [...times].sort();
    expect(times).toEqual(order === 'asc' ? sorted : sorted.reverse());
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(N / PAGE));
  });
});

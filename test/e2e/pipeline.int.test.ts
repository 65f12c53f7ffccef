import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  exportAll,
  makeEvent,
  type Pipeline,
  pool,
  postEvents,
  produceDirect,
  queryJson,
  type RequestKind,
  startPipeline,
  verifyPipeline,
  waitForCount,
} from './pipeline.ts';

/**
 * The product's promise end to end, on the real stack with the four services as processes:
 * everything acknowledged comes back through the query API, exactly once, with its content, and
 * every stored event is sealed exactly once under a signed checkpoint.
 */
const HTTP_EVENTS = 100_000;
const DIRECT_EVENTS = 10_000;
const PRODUCERS = 8;

describe('end to end: HTTP and direct Kafka producers → sink → query API', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline('e2e');
  });
  afterAll(async () => {
    await p?.stop();
  });

  it(`${HTTP_EVENTS} events from ${PRODUCERS} HTTP producers plus ${DIRECT_EVENTS} straight to Kafka come back exactly`, async () => {
    const sent = new Map<string, Record<string, unknown>>();
    // Requests of three shapes: singles, JSON arrays of 100, NDJSON of 1,000.
    const requests: { kind: RequestKind; events: Record<string, unknown>[] }[] = [];
    let i = 0;
    const take = (n: number) => Array.from({ length: n }, () => makeEvent(i++, p.tenant));
    while (i < 2_000) requests.push({ kind: 'single', events: take(1) });
    while (i < 30_000) requests.push({ kind: 'array', events: take(100) });
    while (i < HTTP_EVENTS) requests.push({ kind: 'ndjson', events: take(Math.min(1000, HTTP_EVENTS - i)) });
    for (const r of requests) for (const e of r.events) sent.set(e.event_id as string, e);

    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    await pool(requests, PRODUCERS, async (r) => {
      const res = await postEvents(p, r.events, r.kind);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      for (const id of res.ids) acknowledged.add(id);
    });
    expect(Object.fromEntries(statuses)).toEqual({ 202: requests.length });
    expect(acknowledged.size).toBe(HTTP_EVENTS);

    const direct = await produceDirect(p, take(DIRECT_EVENTS));
    for (const e of direct) {
      acknowledged.add(e.event_id);
      sent.set(e.event_id, e as unknown as Record<string, unknown>);
    }
    const total = HTTP_EVENTS + DIRECT_EVENTS;
    expect(await waitForCount(p, total)).toBe(total);

    const stored = await exportAll(p);
    expect(stored.length).toBe(total);
    const storedIds = new Set(stored.map((e) => e.event_id));
    expect(storedIds.size).toBe(total);
    expect([...storedIds].filter((id) => !acknowledged.has(id))).toEqual([]);

    // Same content: every field the producer sent comes back as sent.
    let mismatches = 0;
    for (const e of stored) {
      const original = sent.get(e.event_id)!;
      const same =
        e.tenant_id === p.tenant &&
        e.event_type === original.event_type &&
        e.user_id === original.user_id &&
        e.timestamp === original.timestamp &&
        e.resource_id === original.resource_id &&
        e.outcome === original.outcome &&
        JSON.stringify(e.event_details) === JSON.stringify(original.event_details);
      if (!same) mismatches++;
    }
    expect(mismatches).toBe(0);

    // Counts by event_type from the stats endpoint match what was sent.
    const expected: Record<string, number> = {};
    for (const e of sent.values())
      expected[e.event_type as string] = (expected[e.event_type as string] ?? 0) + 1;
    const stats = await queryJson<{ groups: { key: string; count: number }[] }>(
      p,
      `/events/stats?group_by=event_type&top=${EVENT_TYPES.length}`,
    );
    expect(stats.status).toBe(200);
    expect(Object.fromEntries(stats.body.groups.map((g) => [g.key, g.count]))).toEqual(expected);
  }, 300_000);

  it('the trail verifies: every stored event sealed once, under signed, consistent, published checkpoints', async () => {
    const r = await verifyPipeline(p);
    console.log(
      `trail: ${r.events} events, ${r.leaves} leaves, ${r.checkpoints} checkpoints, latest size ${r.latestSize}, findings ${r.findings.length}`,
    );
    expect(r.findings).toEqual([]);
    // Every stored event is sealed: the sent ones and the records of the test's own reads
    // (audit.log.*, written by the query API into the tenant's trail).
    expect(r.ok).toBe(true);
    expect(r.leaves).toBe(r.events);
    expect(r.events).toBeGreaterThan(HTTP_EVENTS + DIRECT_EVENTS);
  }, 300_000);
});

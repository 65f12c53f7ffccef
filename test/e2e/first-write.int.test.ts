import { randomUUID } from 'node:crypto';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, type Pipeline, postEvents, queryJson, startPipeline, waitForCount } from './pipeline.ts';

/**
 * The four breaks through HTTP, with the three services as processes: a stored event
 * cannot be overwritten, one id with another timestamp stays one event, a request spanning 101
 * months neither stalls nor is lost, and an event older than the retention is not silently lost.
 * Whether ingest refuses a resend or an expired event itself (409/4xx) or the sink dead-letters
 * it (202), what is stored is asserted exactly.
 */
const stack = loadConfig(stackSchema);
const admin = createClickHouse(stack, 'admin');

async function dlqReasons(p: Pipeline, n: number, timeoutMs = 30_000): Promise<string[]> {
  const consumer = p.kafka.consumer({ groupId: `e2e-dlq-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: `${p.topic}.dlq`, fromBeginning: true });
  const reasons: string[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        reasons.push(String(message.headers?.['dlq-reason'] ?? ''));
        if (reasons.length >= n) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return reasons.sort();
}

async function storedRows(tenant: string, id: string) {
  const rs = await admin.query({
    query: `SELECT event_details, toString(timestamp) AS ts FROM ${stack.CLICKHOUSE_DATABASE}.events
      WHERE tenant_id = {t:String} AND event_id = {id:UUID}`,
    query_params: { t: tenant, id },
    format: 'JSONEachRow',
  });
  return rs.json<{ event_details: string; ts: string }>();
}

async function getEvent(p: Pipeline, id: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await queryJson<Record<string, unknown>>(p, `/events/${id}`);
    if (r.status === 200 || Date.now() > until) return r;
    await new Promise((res) => setTimeout(res, 250));
  }
}

describe('end to end: first write wins, no poison pill, nothing lost in silence', () => {
  let p: Pipeline;
  beforeAll(async () => {
    // RETENTION_DAYS is 365 and ingest accepts at most 24 h ahead, so no accepted request can
    // span 101 months here: the request is refused whole (the sink's month grouping for
    // longer retentions is covered by services/sink tests); 1971 is far outside the retention.
    p = await startPipeline('fww');
  });
  afterAll(async () => {
    await p?.stop();
    await admin.close();
  });

  it('an overwrite and a new timestamp for a stored id leave the original; a 101-month request is refused, not stalled; an expired event is refused', async () => {
    const original = makeEvent(1, p.tenant);
    const other = makeEvent(2, p.tenant);
    expect((await postEvents(p, [original, other], 'array')).status).toBe(202);
    const id = original.event_id as string;
    const first = await getEvent(p, id);
    expect(first.status).toBe(200);
    expect(first.body.event_details).toEqual(original.event_details);

    const overwrite = { ...original, event_details: { overwritten: true } };
    const moved = { ...other, timestamp: '2026-06-01T00:00:00.000Z' };
    const resend = [
      (await postEvents(p, [overwrite], 'single')).status,
      (await postEvents(p, [moved], 'single')).status,
    ];
    for (const s of resend) expect([202, 409]).toContain(s);

    const months = Array.from({ length: 101 }, (_, i) => ({
      ...makeEvent(100 + i, p.tenant),
      user_id: 'one-user',
      timestamp: new Date(Date.UTC(2027, i, 15, 12)).toISOString(),
    }));
    expect((await postEvents(p, months, 'array')).status).toBe(400);
    const expired: Record<string, unknown> = {
      ...makeEvent(3, p.tenant),
      timestamp: '1971-01-01T00:00:00.000Z',
    };
    const expiredStatus = (await postEvents(p, [expired], 'single')).status;
    expect(expiredStatus).toBe(400);

    // Sent after them all, on whichever partition: queryable within seconds.
    const after = makeEvent(4, p.tenant);
    const t0 = Date.now();
    expect((await postEvents(p, [after], 'single')).status).toBe(202);
    expect((await getEvent(p, after.event_id as string)).status).toBe(200);
    console.log(`event after the 101-month request queryable after ${Date.now() - t0} ms`);
    expect(await waitForCount(p, 3, '', 30_000)).toBe(3);
    expect(await waitForCount(p, 0, 'user_id=one-user', 1_000)).toBe(0);

    // The original, through the API and in SQL: one row each, first content, first timestamp.
    const again = await getEvent(p, id);
    expect(again.body.event_details).toEqual(original.event_details);
    expect((await getEvent(p, other.event_id as string)).body.timestamp).toBe(other.timestamp);
    const sql = await storedRows(p.tenant, id);
    expect(sql.map((r) => JSON.parse(r.event_details))).toEqual([original.event_details]);
    expect((await storedRows(p.tenant, other.event_id as string)).length).toBe(1);
    expect((await getEvent(p, expired.event_id as string, 1000)).status).toBe(404);

    // What reached Kafka and could not be stored is in the DLQ with its reason.
    const expected = [
      ...resend.filter((s) => s === 202).map(() => 'conflict'),
      ...(expiredStatus === 202 ? ['expired'] : []),
    ].sort();
    expect(await dlqReasons(p, expected.length)).toEqual(expected);
  });
});

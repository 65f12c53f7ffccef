import { afterAll, describe, expect, it } from 'vitest';
import { startSink } from '../src/sink.ts';
import {
  admin,
  createTopics,
  logger,
  makeEvents,
  produce,
  readTopic,
  sinkConfig,
  stack,
  tenantId,
  toMessage,
  waitFor,
} from './helpers.ts';

afterAll(async () => {
  await admin.close();
});

async function rows(tenant: string) {
  const rs = await admin.query({
    query: `SELECT toString(event_id) AS id, toString(timestamp) AS ts, event_details, kafka_offset
      FROM ${stack.CLICKHOUSE_DATABASE}.events WHERE tenant_id = {t:String} ORDER BY id, ts`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  return rs.json<{ id: string; ts: string; event_details: string; kafka_offset: string }>();
}

const metric = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);

describe('sink: first write wins, nothing dropped in silence, no poison pill (real Kafka and ClickHouse)', () => {
  it('a mixed stream: valid events stored once, every bad message dead-lettered with its reason, the partition keeps flowing', async () => {
    const t = await createTopics(2);
    const tenant = tenantId();
    // 101 months fit only a long retention: 20,000 days here (the sink raises the shared table's
    // TTL; TTL merges run hours apart, and the next default sink puts 365 back). The months lie
    // in the past (ingest and the schema refuse more than 24 h ahead); 1971 is still outside it.
    const sink = await startSink({ config: sinkConfig(t, { RETENTION_DAYS: '20000' }), logger });
    const key = `${tenant}/same-actor`;
    const on = (m: ReturnType<typeof toMessage>) => ({ ...m, key });
    try {
      const valid = makeEvents(20, tenant);
      // The request: one user_id, 101 different months (more than one INSERT may span).
      const months = makeEvents(101, tenant).map((e, i) => ({
        ...e,
        user_id: 'one-user',
        timestamp: new Date(Date.UTC(1990, i, 15, 12)).toISOString(),
      }));
      const expired = { ...makeEvents(1, tenant)[0]!, timestamp: '1971-01-01T00:00:00.000Z' };
      const inBatchConflict = { ...valid[3]!, event_details: { overwritten: true } };
      const phase1 = [
        ...valid.slice(0, 10).map(toMessage),
        { value: Buffer.from('{"event_type": not json') },
        { value: Buffer.from(JSON.stringify({ event_type: 'Bad Type!', tenant_id: tenant })) },
        toMessage(expired),
        toMessage(inBatchConflict),
        ...months.map(toMessage),
        ...valid.slice(10).map(toMessage),
      ].map(on);
      await produce(t.topic, phase1);
      const stored1 = valid.length + months.length;
      expect(
        (
          await waitFor(
            () => rows(tenant),
            (r) => r.length >= stored1,
          )
        ).length,
      ).toBe(stored1);

      // Phase 2, against stored rows: an overwrite (same id and timestamp, other body), the same id
      // with a new timestamp, an identical resend, then a fresh event that must flow right through.
      const overwrite = { ...valid[0]!, event_details: { overwritten: true } };
      const newTimestamp = { ...valid[1]!, timestamp: '2026-06-01T00:00:00.000Z' };
      const fresh = makeEvents(1, tenant)[0]!;
      await produce(t.topic, [overwrite, newTimestamp, valid[2]!, fresh].map(toMessage).map(on));
      const all = await waitFor(
        () => rows(tenant),
        (r) => r.length >= stored1 + 1,
      );
      expect(all.length).toBe(stored1 + 1);
      // Exactly the valid ids, once each, with the first content.
      expect(all.map((r) => r.id).sort()).toEqual(
        [...valid, ...months, fresh].map((e) => e.event_id.toLowerCase()).sort(),
      );
      const byId = new Map(all.map((r) => [r.id, r]));
      expect(JSON.parse(byId.get(valid[0]!.event_id)!.event_details)).toEqual(valid[0]!.event_details);
      expect(JSON.parse(byId.get(valid[3]!.event_id)!.event_details)).toEqual(valid[3]!.event_details);
      expect(byId.get(valid[1]!.event_id)!.ts).toBe('2026-01-15 00:00:00.007');

      const total = phase1.length + 4;
      expect(
        await waitFor(
          () => t.committed(t.groupId),
          (n) => n === total,
        ),
      ).toBe(total);
      const dlq = await readTopic(t.dlq, 6);
      const reasons = dlq
        .map((d) => [Number(d.headers['source-offset']), d.headers['dlq-reason']])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(reasons).toEqual([
        [10, 'unparseable'],
        [11, 'invalid'],
        [12, 'expired'],
        [13, 'conflict'],
        [phase1.length, 'conflict'],
        [phase1.length + 1, 'conflict'],
      ]);
      const conflict = dlq.find((d) => Number(d.headers['source-offset']) === phase1.length)!;
      expect(JSON.parse(conflict.headers['dlq-error']!)).toEqual([
        expect.objectContaining({
          path: 'event_id',
          stored: { kafka_partition: expect.any(Number), kafka_offset: 0 },
        }),
      ]);
      expect(
        JSON.parse(dlq.find((d) => d.headers['dlq-reason'] === 'expired')!.headers['dlq-error']!)[0].message,
      ).toMatch(/older than the retention of 20000 days/);

      const text = await waitFor(
        async () => (await fetch(`${sink.server!.url}/metrics`)).text(),
        (m) => /^sink_paused_partitions\{service="sink"\} 0$/m.test(m),
        30_000,
      );
      expect(text).toMatch(/^sink_paused_partitions\{service="sink"\} 0$/m);
      expect(metric(text, /^sink_duplicates_total\{of="stored",service="sink"\} (\d+)$/m)).toBe(1);
      expect(metric(text, /^sink_dlq_messages_total\{reason="conflict",service="sink"\} (\d+)$/m)).toBe(3);
      expect(metric(text, /^sink_dlq_messages_total\{reason="expired",service="sink"\} (\d+)$/m)).toBe(1);
      expect(metric(text, /^sink_rows_inserted_total\{service="sink"\} (\d+)$/m)).toBe(stored1 + 1);
    } finally {
      await sink.stop();
      await t.drop();
    }
  });

  it('a range redelivered after its offsets were lost is found stored: no second row, counted as a redelivery', async () => {
    const t = await createTopics(1);
    const tenant = tenantId();
    const events = makeEvents(300, tenant);
    await produce(t.topic, events.map(toMessage));
    // The stored hook sees every row before its offsets are committed.
    const hooked: string[] = [];
    // With one partition, the group's committed offset when a range is hooked is its first offset.
    const committedAtHook: Array<[number, number]> = [];
    const first = await startSink({
      config: sinkConfig(t),
      logger,
      onStored: async (rows, range) => {
        committedAtHook.push([await t.committed(t.groupId), Number(range.firstOffset)]);
        hooked.push(...rows.map((r) => r.event_id));
      },
    });
    await waitFor(
      () => t.committed(t.groupId),
      (n) => n === 300,
    );
    await first.stop();
    expect(hooked.sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(committedAtHook.length).toBeGreaterThan(0);
    for (const [committed, firstOffset] of committedAtHook) expect(committed).toBe(firstOffset);
    const rehooked: string[] = [];
    // A new group reads the same range again from offset 0, as after a lost commit.
    const again = await startSink({
      config: sinkConfig({ ...t, groupId: `${t.groupId}-again` }),
      logger,
      onStored: async (rows) => {
        rehooked.push(...rows.map((r) => r.event_id));
      },
    });
    try {
      expect(
        await waitFor(
          () => t.committed(`${t.groupId}-again`),
          (n) => n === 300,
        ),
      ).toBe(300);
      expect((await rows(tenant)).length).toBe(300);
      const text = await (await fetch(`${again.server!.url}/metrics`)).text();
      expect(metric(text, /^sink_duplicates_total\{of="redelivery",service="sink"\} (\d+)$/m)).toBe(300);
      expect(text).not.toMatch(/^sink_rows_inserted_total\{service="sink"\} [1-9]/m);
      // Redelivered rows this very message stored count as stored by the range: the hook sees them again.
      expect(rehooked.sort()).toEqual(events.map((e) => e.event_id).sort());
    } finally {
      await again.stop();
      await t.drop();
    }
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { startSink } from '../src/sink.ts';
import {
  admin,
  counts,
  createTopics,
  expectStoredOnce,
  logger,
  makeEvents,
  produce,
  readTopic,
  sinkConfig,
  storedIds,
  tenantId,
  toMessage,
  waitFor,
} from './helpers.ts';

afterAll(async () => {
  await admin.close();
});

describe('sink (in-process, real Kafka and ClickHouse)', () => {
  it('stores 50,000 events exactly once, ids equal, offsets committed, health and metrics served', async () => {
    const t = await createTopics();
    const tenant = tenantId();
    const events = makeEvents(50_000, tenant);
    await produce(t.topic, events.map(toMessage));
    const sink = await startSink({ config: sinkConfig(t, { SINK_BATCH_MAX_ROWS: '5000' }), logger });
    try {
      const c = await waitFor(
        () => counts(tenant),
        (c) => c.final >= 50_000,
      );
      expect(c).toEqual({ final: 50_000, uniq: 50_000, raw: 50_000 });
      expect(await storedIds(tenant)).toEqual(events.map((e) => e.event_id).sort());
      expect(
        await waitFor(
          () => t.committed(t.groupId),
          (n) => n === 50_000,
        ),
      ).toBe(50_000);

      const base = sink.server!.url;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^sink_rows_inserted_total\{service="sink"\} 50000$/m);
      expect(metrics).toMatch(/sink_batch_rows_count\{service="sink"\} \d+/);
      expect(metrics).toMatch(/sink_insert_duration_seconds_bucket/);
      // Every partition drained: lag 0 on each of the 6.
      expect(metrics.match(/^sink_consumer_lag\{[^}]*\} 0$/gm)?.length).toBe(6);
      await sink.stop();
      // A graceful stop commits nothing beyond what was stored, and leaves the offsets in place.
      expect(await t.committed(t.groupId)).toBe(50_000);
    } finally {
      await sink.stop();
      await t.drop();
    }
  });

  it('dead-letters a malformed and a schema-invalid message with their reason; the valid ones around them are stored', async () => {
    const t = await createTopics();
    const tenant = tenantId();
    const events = makeEvents(20, tenant);
    const malformed = Buffer.from('{"event_type": not json');
    const invalid = Buffer.from(
      JSON.stringify({ event_type: 'Bad Type!', timestamp: '2026-01-01T00:00:00Z', tenant_id: tenant }),
    );
    // One key: all on one partition, the bad ones between valid ones.
    const key = `${tenant}/same-actor`;
    const messages = [
      ...events.slice(0, 10).map((e) => ({ ...toMessage(e), key })),
      { key, value: malformed, headers: { origin: 'test' } },
      { key, value: invalid },
      ...events.slice(10).map((e) => ({ ...toMessage(e), key })),
    ];
    await produce(t.topic, messages);
    const sink = await startSink({ config: sinkConfig(t), logger });
    try {
      expect(
        await waitFor(
          () => counts(tenant),
          (c) => c.final >= 20,
        ),
      ).toEqual({ final: 20, uniq: 20, raw: 20 });
      expect(await storedIds(tenant)).toEqual(events.map((e) => e.event_id).sort());
      const dlq = await readTopic(t.dlq, 2);
      expect(dlq).toHaveLength(2);
      const [a, b] = dlq.sort(
        (x, y) => Number(x.headers['source-offset']) - Number(y.headers['source-offset']),
      );
      expect(a!.value).toEqual(malformed);
      expect(a!.key).toBe(key);
      expect(a!.headers).toMatchObject({
        origin: 'test',
        'dlq-reason': 'unparseable',
        'source-topic': t.topic,
        'source-offset': '10',
      });
      expect(b!.value).toEqual(invalid);
      expect(b!.headers).toMatchObject({
        'dlq-reason': 'invalid',
        'source-topic': t.topic,
        'source-offset': '11',
      });
      expect(a!.headers['source-partition']).toBe(b!.headers['source-partition']);
      const issues = JSON.parse(b!.headers['dlq-error']!) as Array<{ path: string }>;
      expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['event_type', 'user_id']));
      // Offsets past the bad messages were committed: the partition kept flowing.
      expect(
        await waitFor(
          () => t.committed(t.groupId),
          (n) => n === 22,
        ),
      ).toBe(22);
      const metrics = await (await fetch(`${sink.server!.url}/metrics`)).text();
      expect(metrics).toMatch(/^sink_dlq_messages_total\{reason="unparseable",service="sink"\} 1$/m);
      expect(metrics).toMatch(/^sink_dlq_messages_total\{reason="invalid",service="sink"\} 1$/m);
    } finally {
      await sink.stop();
      await t.drop();
    }
  });

  it('two instances in one group share the partitions and store every event once', async () => {
    const t = await createTopics();
    const tenant = tenantId();
    const cfg = sinkConfig(t, { SINK_BATCH_MAX_ROWS: '2000' });
    const a = await startSink({ config: cfg, logger });
    const b = await startSink({ config: cfg, logger });
    try {
      // Both joined and split the 6 partitions between them.
      const split = await waitFor(
        async () => [a.consumer.assignment().length, b.consumer.assignment().length],
        ([x, y]) => x! > 0 && y! > 0 && x! + y! === 6,
      );
      expect(split[0]! + split[1]!).toBe(6);
      const events = makeEvents(20_000, tenant);
      await produce(t.topic, events.map(toMessage));
      const c = await expectStoredOnce(tenant, events, t);
      console.log(`two instances: raw rows ${c.raw} for 20000 events (FINAL ${c.final})`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await t.drop();
    }
  });
});

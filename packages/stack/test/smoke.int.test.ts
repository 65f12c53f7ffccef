import { randomUUID } from 'node:crypto';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createTopicsReady, stackKafka } from '@audit/kafka';
import { afterAll, describe, expect, it } from 'vitest';

const cfg = loadConfig(stackSchema);

describe('the stack is real', () => {
  it('Kafka: 1,000 messages produced come back through a consumer group', async () => {
    const kafka = stackKafka(cfg, 'smoke');
    const topic = `smoke.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsReady(admin, [{ topic, partitions: 3 }]);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const sent = Array.from({ length: 1000 }, (_, i) => `m-${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: sent.map((value, i) => ({ key: String(i % 7), value })),
    });
    await producer.disconnect();

    const groupId = `smoke-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received.length} received`)), 60_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message.value?.toString() ?? '');
            if (received.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    await consumer.stop();
    await consumer.disconnect();
    // The group committed what it consumed: its offsets on the broker add up to 1,000.
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const total = (committed?.partitions ?? []).reduce((n, p) => n + Number(p.offset), 0);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    expect(received.sort()).toEqual([...sent].sort());
    expect(total).toBe(1000);
  });

  describe('ClickHouse', () => {
    const writer = createClickHouse(cfg, 'writer');
    const reader = createClickHouse(cfg, 'reader');
    const admin = createClickHouse(cfg, 'admin');
    const table = `${cfg.CLICKHOUSE_DATABASE}.smoke_${randomUUID().replaceAll('-', '')}`;

    afterAll(async () => {
      await admin.command({ query: `DROP TABLE IF EXISTS ${table}` });
      await Promise.all([writer.close(), reader.close(), admin.close()]);
    });

    it('the writer creates a MergeTree table with a JSON column, inserts, and reads back with a query parameter', async () => {
      await writer.command({ query: `CREATE DATABASE IF NOT EXISTS ${cfg.CLICKHOUSE_DATABASE}` });
      await writer.command({
        query: `CREATE TABLE ${table} (id UInt32, tenant LowCardinality(String), details JSON) ENGINE = MergeTree ORDER BY (tenant, id)`,
      });
      await writer.insert({
        table,
        format: 'JSONEachRow',
        values: [
          { id: 1, tenant: 'acme', details: { plan: 'pro', amount: 42 } },
          { id: 2, tenant: 'globex', details: { plan: 'free', amount: 7 } },
          { id: 3, tenant: 'acme', details: { plan: 'free', customer: { country: 'FR' } } },
        ],
      });
      const rs = await writer.query({
        query: `SELECT id, details.plan::String AS plan FROM ${table} WHERE tenant = {tenant:String} AND details.plan::String = {plan:String} ORDER BY id`,
        query_params: { tenant: 'acme', plan: 'free' },
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ id: 3, plan: 'free' }]);

      const version = await (
        await reader.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{ v: string }>();
      expect(version[0]?.v).toMatch(/^2[4-9]\.|^[3-9]\d\./);
    });

    it('the read-only user can read but is refused a write', async () => {
      const rows = await (
        await reader.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
      ).json<{ n: string }>();
      expect(Number(rows[0]?.n)).toBe(3);
      await expect(
        reader.insert({ table, format: 'JSONEachRow', values: [{ id: 9, tenant: 'acme', details: {} }] }),
      ).rejects.toThrow(/readonly|Not enough privileges|ACCESS_DENIED/i);
      expect(
        Number(
          (
            await (
              await reader.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
            ).json<{ n: string }>()
          )[0]?.n,
        ),
      ).toBe(3);
    });

    it('the writer cannot drop the trail (append-only)', async () => {
      await expect(writer.command({ query: `DROP TABLE ${table}` })).rejects.toThrow(
        /Not enough privileges|ACCESS_DENIED/i,
      );
      await expect(writer.command({ query: `ALTER TABLE ${table} DELETE WHERE 1` })).rejects.toThrow(
        /Not enough privileges|ACCESS_DENIED/i,
      );
    });
  });
});

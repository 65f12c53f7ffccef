import { randomUUID } from 'node:crypto';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { stackKafka } from '@audit/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateStack, startPrivateStack } from '../src/index.ts';
import { portOpen } from '../src/procs.ts';

describe('a private stack survives server restarts with its data', () => {
  let stack: PrivateStack;
  beforeAll(async () => {
    stack = await startPrivateStack('restart');
  });
  afterAll(async () => {
    await stack?.destroy();
  });

  it('Kafka: a stopped broker closes its port; restarted, it still has the acknowledged messages', async () => {
    const cfg = loadConfig(stackSchema, { ...process.env, ...stack.env });
    const kafka = stackKafka(cfg, 'restart');
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic: cfg.KAFKA_TOPIC,
      acks: -1,
      messages: [{ key: 'k', value: 'before-restart' }],
    });
    await producer.disconnect();

    await stack.stopKafka();
    expect(await portOpen(stack.cfg.kafkaHost, stack.cfg.kafkaPort)).toBe(false);
    await stack.startKafka();

    const consumer = kafka.consumer({ groupId: `restart-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: cfg.KAFKA_TOPIC, fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
    });
    await consumer.disconnect();
    expect(value).toBe('before-restart');
  });

  it('ClickHouse: rows inserted before a restart are there after it', async () => {
    const cfg = loadConfig(stackSchema, { ...process.env, ...stack.env });
    const writer = createClickHouse(cfg, 'writer');
    await writer.command({ query: 'CREATE DATABASE IF NOT EXISTS audit' });
    await writer.command({ query: 'CREATE TABLE audit.restart (n UInt32) ENGINE = MergeTree ORDER BY n' });
    await writer.insert({
      table: 'audit.restart',
      values: [{ n: 1 }, { n: 2 }, { n: 3 }],
      format: 'JSONEachRow',
    });
    await writer.close();

    await stack.stopClickHouse();
    await stack.startClickHouse();

    const reader = createClickHouse(cfg, 'reader');
    const rows = await (
      await reader.query({ query: 'SELECT sum(n) AS s FROM audit.restart', format: 'JSONEachRow' })
    ).json<{ s: string }>();
    await reader.close();
    expect(Number(rows[0]?.s)).toBe(6);
  });
});

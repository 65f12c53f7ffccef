/**
 * scripts/dlq-replay.ts on the real broker and ClickHouse, with private topics, group and tenant.
 * The DLQ holds a poison message (not JSON), a schema-invalid one, and two valid events that were
 * dead-lettered by a transient failure (the "fixed" case). A dry run lists exactly that and
 * changes nothing; --apply puts the two valid ones back with their original bytes and keys; a
 * second --apply replays nothing; the real sink, consuming the events topic, stores each once.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import {
  aclTopicsOf,
  applyAcls,
  createTopicsReady,
  type KafkaMessage,
  type Message,
  serviceAcls,
  stackKafka,
} from '@audit/kafka';
import { type AuditEvent, serializeEvent, uuidv7 } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../packages/http/src/index.ts';
import { replayDlq } from '../../scripts/dlq-replay.ts';
import { loadSinkConfig } from '../../services/sink/src/config.ts';
import { startSink } from '../../services/sink/src/sink.ts';
import { root } from './metrics-catalog.ts';

const stack = loadConfig(stackSchema);
const kafka = stackKafka(stack, 'ops-dlq-replay-test');
const ch = createClickHouse(stack, 'admin');
const id = randomUUID();
const topic = `test.${id}`;
const dlqTopic = `test.${id}.dlq`;
const groupId = `dlq-replay-test-${id}`;
const tenant = `t_${randomBytes(6).toString('hex')}`;

const event = (i: number): AuditEvent => ({
  event_id: uuidv7(),
  event_type: 'customer.account.created',
  timestamp: `2026-02-0${i + 1}T10:00:00.000Z`,
  received_at: `2026-02-0${i + 1}T10:00:01.000Z`,
  tenant_id: tenant,
  source: 'billing',
  user_id: `user-${i}`,
  schema_version: 1,
  event_details: { plan: 'pro', seats: i + 1 },
});
const good = [event(0), event(1)];
const dlqHeaders = (reason: string, offset: number) => ({
  'content-type': 'application/json',
  'dlq-reason': reason,
  'dlq-error': '[{"path":"","message":"clickhouse: timeout"}]',
  'source-topic': topic,
  'source-partition': '0',
  'source-offset': String(offset),
});
const dlqMessages: Message[] = [
  { key: `${tenant}/user-0`, value: serializeEvent(good[0]!), headers: dlqHeaders('rejected', 10) },
  { key: `${tenant}/poison`, value: '{"event_type": "x", oops', headers: dlqHeaders('unparseable', 11) },
  {
    key: `${tenant}/bad`,
    value: JSON.stringify({ ...event(2), event_type: 'Not A Valid Type!' }),
    headers: dlqHeaders('invalid', 12),
  },
  { key: `${tenant}/user-1`, value: serializeEvent(good[1]!), headers: dlqHeaders('rejected', 13) },
];

async function readAll(t: string): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const [p] = await admin.fetchTopicOffsets(t);
  await admin.disconnect();
  const n = Number(p!.high);
  if (n === 0) return [];
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: t, fromBeginning: true });
  const out: KafkaMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          out.push(message);
          if (out.length >= n) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

const opts = (apply: boolean) => ({ kafka, dlqTopic, topic, groupId, apply });

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsReady(admin, [
    { topic, partitions: 1 },
    { topic: dlqTopic, partitions: 1 },
  ]);
  // The sink under test authenticates as itself: its ACLs on this test's topics and group.
  await applyAcls(
    admin,
    serviceAcls(
      aclTopicsOf(
        { ...stack, KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlqTopic, KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.` },
        { sink: `sink-${id}` },
      ),
    ),
  );
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: dlqTopic, acks: -1, messages: dlqMessages });
  await producer.disconnect();
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic, dlqTopic] }).catch(() => {});
  await admin.disconnect();
  await ch.close();
});

describe('DLQ replay', () => {
  it('--dry-run lists what would be replayed and skipped, and changes nothing', async () => {
    const s = await replayDlq(opts(false));
    expect(s).toMatchObject({ examined: 4, total: 4, replayed: 2, skipped: 2, applied: false });
    expect(s.items.map((i) => [i.offset, i.action, i.reason ?? i.eventId])).toEqual([
      ['0', 'replay', good[0]!.event_id],
      ['1', 'skip', 'unparseable'],
      ['2', 'skip', 'invalid'],
      ['3', 'replay', good[1]!.event_id],
    ]);
    expect(s.items[2]!.issues?.map((i) => i.path)).toEqual(['event_type']);
    expect(await readAll(topic)).toEqual([]);
    // No offsets committed: the same dry run sees the same four messages.
    expect((await replayDlq(opts(false))).examined).toBe(4);
  });

  it('--limit stops after N messages and --apply commits only those', async () => {
    const s = await replayDlq({ ...opts(true), limit: 1 });
    expect(s).toMatchObject({ examined: 1, replayed: 1, skipped: 0 });
    const s2 = await replayDlq(opts(true));
    expect(s2).toMatchObject({ examined: 3, total: 3, replayed: 1, skipped: 2 });
    expect(s2.items.map((i) => i.offset)).toEqual(['1', '2', '3']);
  });

  it('replayed the valid messages once, with their original key and bytes', async () => {
    const replayed = await readAll(topic);
    expect(replayed.map((m) => m.key?.toString())).toEqual([`${tenant}/user-0`, `${tenant}/user-1`]);
    expect(replayed.map((m) => m.value?.toString())).toEqual(good.map(serializeEvent));
    const h = replayed[1]!.headers!;
    expect(String(h['dlq-replayed-from'])).toBe(`${dlqTopic}/0/3`);
    expect(String(h['content-type'])).toBe('application/json');
    expect(Object.keys(h).filter((k) => k.startsWith('dlq-') && k !== 'dlq-replayed-from')).toEqual([]);
    expect(Object.keys(h).filter((k) => k.startsWith('source-'))).toEqual([]);
  });

  it('a second --apply replays nothing', async () => {
    expect(await replayDlq(opts(true))).toMatchObject({ examined: 0, total: 0, replayed: 0 });
    expect(await readAll(topic)).toHaveLength(2);
  });

  it('the sink stores each replayed event exactly once', async () => {
    const cfg = loadSinkConfig({
      ...process.env,
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: dlqTopic,
      SINK_GROUP_ID: `sink-${id}`,
      KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
      PORT: '0',
      SINK_BATCH_MAX_WAIT_MS: '200',
    });
    const sink = await startSink({
      config: cfg,
      logger: createLogger('dlq-replay-test', 'fatal'),
      http: false,
    });
    const ids = async () => {
      const rs = await ch.query({
        query: `SELECT toString(event_id) AS id, count() AS n FROM ${stack.CLICKHOUSE_DATABASE}.events
                WHERE tenant_id = {t:String} GROUP BY id ORDER BY id`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      });
      return (await rs.json<{ id: string; n: string | number }>()).map((r) => ({ id: r.id, n: Number(r.n) }));
    };
    try {
      for (let i = 0; i < 400 && (await ids()).length < 2; i++) await new Promise((r) => setTimeout(r, 250));
    } finally {
      await sink.stop();
    }
    // Without FINAL: not even an unmerged duplicate row.
    expect(await ids()).toEqual(
      good.map((e) => ({ id: e.event_id, n: 1 })).sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('the command line: --dry-run prints the plan and the progress', async () => {
    const run = promisify(execFile);
    const { stdout, stderr } = await run(
      'pnpm',
      ['exec', 'tsx', 'scripts/dlq-replay.ts', '--dry-run', '--from-offset', '0'],
      {
        cwd: root,
        env: { ...process.env, KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlqTopic, DLQ_REPLAY_GROUP: groupId },
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(
      `would replay p0@0 key=${tenant}/user-0 event_id=${good[0]!.event_id} type=customer.account.created (was rejected)`,
    );
    expect(lines[1]).toMatch(new RegExp(`^would skip   p0@1 key=${tenant}/poison unparseable: `));
    expect(lines[2]).toMatch(new RegExp(`^would skip   p0@2 key=${tenant}/bad invalid: event_type: `));
    expect(lines[3]).toMatch(/^would replay p0@3 /);
    expect(stderr).toContain('[dlq-replay] 4/4 (100%) replayed 2, skipped 2');
    expect(stderr).toContain('done: examined 4, would replay 2, skipped 2 (dry run');
  });
});

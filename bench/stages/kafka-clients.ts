import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Message } from '@audit/kafka';
import { Consumer, MessagesStreamModes, ProduceAcks, Producer, stringSerializers } from '@platformatic/kafka';
import { kafkaMessages } from '../lib/events.ts';
import { closedLoopFn } from '../lib/http-load.ts';
import { latencySummary, type Row, ratio, round, status } from '../lib/report.ts';
import { createBenchTopic } from '../lib/topics.ts';
import type { StageContext, StageResult } from './context.ts';

interface ProducerClient {
  name: string;
  send(messages: Message[]): Promise<void>;
  close(): Promise<void>;
}

interface ConsumeResult {
  messages: number;
  firstMessageMs: number;
  /** From the first to the last message: the steady rate, without the group join. */
  steadyPerSec: number;
}

const load1 = () => round(os.loadavg()[0]!, 1);

/**
 * Producer and consumer throughput of the Kafka client libraries on the local broker, with the
 * producer configured as the ingest publisher is (idempotent, acks=-1) and the same messages.
 * @confluentinc/kafka-javascript is not here: see docs/performance.md (its native build does not
 * run under pnpm's default policy and its prebuilt binary comes from GitHub).
 */
export async function kafkaClientsStage(ctx: StageContext): Promise<StageResult> {
  const n = ctx.events ?? (ctx.quick ? 30_000 : 200_000);
  const maxSeconds = ctx.seconds ?? (ctx.quick ? 4 : 15);
  const topic = await createBenchTopic(ctx.kafka, 'clients');
  const pool = kafkaMessages(5000, 'bench_clients');
  const rows: Row[] = [];
  const notes: string[] = [];
  const cases = [
    { batch: 1000, conc: 1 },
    { batch: 1000, conc: 4 },
    { batch: 100, conc: 16 },
  ];

  const kafkajsProducer = async (): Promise<ProducerClient> => {
    const p = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    return {
      name: 'kafkajs 2.2.4',
      send: async (messages) => void (await p.send({ topic: topic.topic, acks: -1, messages })),
      close: () => p.disconnect(),
    };
  };
  const platformaticProducer = async (): Promise<ProducerClient> => {
    const p = new Producer({
      clientId: 'bench-platformatic',
      bootstrapBrokers: ctx.brokers,
      sasl: { mechanism: 'SCRAM-SHA-512', ...ctx.sasl },
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    return {
      name: '@platformatic/kafka 1.35',
      send: async (messages) =>
        void (await p.send({
          messages: messages.map((m) => ({
            topic: topic.topic,
            key: m.key as string,
            value: m.value as string,
            headers: m.headers as Record<string, string>,
          })),
        })),
      close: () => p.close(),
    };
  };

  const results = new Map<string, number>();
  try {
    for (const { batch, conc } of cases) {
      for (const make of [kafkajsProducer, platformaticProducer]) {
        const client = await make();
        try {
          await client.send(pool.slice(0, batch)); // connect, producer id, metadata
          const r = await closedLoopFn({
            send: async (i) => {
              const start = (i * batch) % pool.length;
              await client.send(pool.slice(start, start + batch));
            },
            eventsPerCall: batch,
            concurrency: conc,
            maxEvents: n,
            maxSeconds,
            label: `${client.name} produce ×${batch} c=${conc}`,
          });
          if (r.errors > 0)
            notes.push(`${client.name} ×${batch}: ${r.errors} failed sends, first: ${r.firstError}`);
          const eps = Math.round(r.events / r.seconds);
          results.set(`${client.name}/${batch}/${conc}`, eps);
          rows.push({
            stage: 'kafka-clients',
            case: `produce ×${batch}`,
            client: client.name,
            conc,
            msgs_per_s: eps,
            ...latencySummary(r.latenciesMs),
            errors: r.errors,
            vs_kafkajs: ratio(eps, results.get(`kafkajs 2.2.4/${batch}/${conc}`)),
            load1: load1(),
          });
        } finally {
          await client.close();
        }
      }
    }

    // Both consumers read everything produced above from the earliest offset, each in its own group.
    const produced = await highWatermarkSum(ctx, topic.topic);
    const consumers: [string, () => Promise<ConsumeResult>][] = [
      ['kafkajs 2.2.4', () => consumeKafkajs(ctx, topic.topic, produced)],
      ['@platformatic/kafka 1.35', () => consumePlatformatic(ctx, topic.topic, produced)],
    ];
    let base: number | undefined;
    for (const [name, run] of consumers) {
      const r = await run();
      base ??= r.steadyPerSec;
      rows.push({
        stage: 'kafka-clients',
        case: `consume ${produced} from earliest`,
        client: name,
        msgs_per_s: Math.round(r.steadyPerSec),
        first_msg_ms: Math.round(r.firstMessageMs),
        errors: produced - r.messages,
        vs_kafkajs: ratio(r.steadyPerSec, base),
        load1: load1(),
      });
    }
  } finally {
    await topic.drop();
  }
  return {
    rows,
    params: { maxMessagesPerCase: n, maxSecondsPerCase: maxSeconds, topic: topic.topic },
    notes: [
      ...notes,
      'producers: idempotent, acks=-1, same 680-byte messages (key, value, 2 headers); closed loop of `conc` concurrent send() calls',
      'consumers: fresh group, earliest offset, default fetch sizes, no per-message work; rate from first to last message',
    ],
  };
}

async function consumeKafkajs(ctx: StageContext, topic: string, total: number): Promise<ConsumeResult> {
  const consumer = ctx.kafka.consumer({ groupId: `bench-${randomUUID()}` });
  const t0 = performance.now();
  let first = 0;
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (count === 0) first = performance.now();
        count += batch.messages.length;
        status(`kafkajs consume: ${count}/${total}`);
        if (count >= total) resolve(performance.now());
      },
    });
  });
  const end = await Promise.race([done, timeout(120_000)]);
  await consumer.disconnect();
  status(`kafkajs consume: ${count}/${total}`, true);
  return { messages: count, firstMessageMs: first - t0, steadyPerSec: count / ((end - first) / 1000) };
}

async function consumePlatformatic(ctx: StageContext, topic: string, total: number): Promise<ConsumeResult> {
  const consumer = new Consumer({
    groupId: `bench-${randomUUID()}`,
    clientId: 'bench-platformatic',
    bootstrapBrokers: ctx.brokers,
    sasl: { mechanism: 'SCRAM-SHA-512', ...ctx.sasl },
  });
  const t0 = performance.now();
  let first = 0;
  let count = 0;
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  });
  const done = new Promise<number>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', () => {
      if (count === 0) first = performance.now();
      count++;
      if (count % 1000 === 0) status(`@platformatic/kafka consume: ${count}/${total}`);
      if (count === total) resolve(performance.now());
    });
  });
  const end = await Promise.race([done, timeout(120_000)]);
  await stream.close();
  await consumer.close(true);
  status(`@platformatic/kafka consume: ${count}/${total}`, true);
  return { messages: count, firstMessageMs: first - t0, steadyPerSec: count / ((end - first) / 1000) };
}

async function highWatermarkSum(ctx: StageContext, topic: string): Promise<number> {
  const admin = ctx.kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

const timeout = (ms: number) =>
  new Promise<number>((r) => setTimeout(() => r(performance.now()), ms).unref());

import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { type Auth, createAuth } from '@audit/auth';
import { type StoredEventsLookup, storedEventsLookup } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger, createMetrics } from '@audit/http';
import {
  createTopicsReady,
  type Kafka,
  type KafkaClientOptions,
  type KafkaMessage,
  stackKafka,
} from '@audit/kafka';
import { createKafkaPublisher, type EventPublisher } from '@audit/publisher';
import type { Hono } from 'hono';
import { createByteGate } from '../src/admission.ts';
import { createApp } from '../src/app.ts';
import type { BodyLimits } from '../src/body.ts';
import { createIngestMetrics, type IngestMetrics } from '../src/metrics.ts';
import { createRecentIds } from '../src/recent-ids.ts';
import { createResendCheck, type ResendCheck } from '../src/resends.ts';

/** kafkajs' socket factory type (not re-exported by @audit/kafka). */
type ISocketFactory = NonNullable<NonNullable<KafkaClientOptions['extra']>['socketFactory']>;

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const stack = loadConfig(stackSchema);
export const RETENTION_DAYS = 365;

/** The id index lookup as production wires it: the reader user on the shared database. */
export function readerLookup(over: { url?: string; timeoutMs?: number } = {}): StoredEventsLookup {
  return storedEventsLookup({
    url: over.url ?? stack.CLICKHOUSE_URL,
    username: stack.CLICKHOUSE_READER_USER,
    password: stack.CLICKHOUSE_READER_PASSWORD,
    database: stack.CLICKHOUSE_DATABASE,
    timeoutMs: over.timeoutMs ?? 2000,
  });
}
export const SECRET = 'test-secret-for-ingest-api-integration-0123456789';
export const AUDIENCE = 'audit-ingest-test';
export const DEV_USERS_FILE = new URL('../../../deploy/local/dev-users.json', import.meta.url).pathname;

export const DEFAULT_LIMITS: BodyLimits = {
  json: { maxEvents: 1000, maxBytes: 5 * 1024 * 1024 },
  ndjson: { maxEvents: 10_000, maxBytes: 16 * 1024 * 1024 },
};

export const newTenant = () => `t_${randomBytes(6).toString('hex')}`;

/** The admin's client (it creates and reads the tests' topics); the proxy's, with a socket factory. */
export function kafkaClient(socketFactory?: ISocketFactory): Kafka {
  return stackKafka(stack, `ingest-test-${randomUUID().slice(0, 8)}`, {
    ...(socketFactory ? { extra: { socketFactory } } : {}),
  });
}

/** A fresh topic `test.<uuid>` so concurrent test files never see each other's messages. */
export async function createTopic(kafka: Kafka, partitions = 3): Promise<string> {
  const topic = `test.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsReady(admin, [{ topic, partitions }]);
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Messages on a topic = the sum of its high watermarks (no transactions, so no control records). */
export async function topicMessageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads every message of a topic with a fresh consumer group, from the beginning. */
export async function readTopic(kafka: Kafka, topic: string): Promise<KafkaMessage[]> {
  const expected = await topicMessageCount(kafka, topic);
  const out: KafkaMessage[] = [];
  if (expected === 0) return out;
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            out.push(message);
            if (out.length === expected) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

export interface TestApp {
  app: Hono;
  auth: Auth;
  publisher: EventPublisher;
  resends: ResendCheck;
  metrics: IngestMetrics;
  close(): Promise<void>;
}

export async function buildApp(opts: {
  kafka: Kafka;
  topic: string;
  timeoutMs?: number;
  limits?: BodyLimits;
  audience?: string;
  usersFile?: string;
  /** Default: the real id index (reader user, shared ClickHouse). */
  lookup?: StoredEventsLookup;
  recentIds?: number;
}): Promise<TestApp> {
  const logger = createLogger('ingest-api-test', process.env.LOG_LEVEL ?? 'silent');
  const httpMetrics = createMetrics('ingest-api', false);
  const metrics = createIngestMetrics(httpMetrics);
  const auth = await createAuth({
    AUTH_JWT_SECRET: SECRET,
    ...(opts.audience ? { AUTH_AUDIENCE: opts.audience } : {}),
    ...(opts.usersFile ? { AUTH_USERS_FILE: opts.usersFile } : {}),
  });
  const publisher = createKafkaPublisher({
    kafka: opts.kafka,
    topic: opts.topic,
    timeoutMs: opts.timeoutMs ?? 5000,
    retryAfterSeconds: 5,
    maxPendingEvents: 100_000,
    compression: 'none',
    logger,
    metrics,
    readyCacheMs: 0,
  });
  const resends = createResendCheck({
    lookup: opts.lookup ?? readerLookup(),
    recent: createRecentIds(opts.recentIds ?? 10_000),
    metrics,
  });
  const app = createApp({
    logger,
    httpMetrics,
    metrics,
    auth,
    publisher,
    resends,
    retentionDays: RETENTION_DAYS,
    limits: opts.limits ?? DEFAULT_LIMITS,
    admission: {
      gate: createByteGate(8 * 1024 * 1024),
      timeoutMs: opts.timeoutMs ?? 5000,
      retryAfterSeconds: 5,
    },
  });
  return { app, auth, publisher, resends, metrics, close: () => publisher.close() };
}

/** An hour ago: inside any retention, whenever the tests run. */
export const RECENT_TIMESTAMP = new Date(Date.now() - 3_600_000).toISOString();

let seq = 0;
/** A valid event as a producer would send it. */
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    event_id: randomUUID(),
    event_type: 'customer.account.created',
    timestamp: RECENT_TIMESTAMP,
    user_id: `user-${seq}`,
    event_details: { plan: 'pro', seats: seq, nested: { ok: true } },
    ...overrides,
  };
}

export function post(
  app: Hono,
  token: string | undefined,
  body: string | Uint8Array,
  contentType = 'application/json',
) {
  return app.request('/events', {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

/**
 * A TCP proxy in front of the broker that can be closed (every connection cut, new ones
 * refused) and reopened on the same port: "broker down" without touching the shared broker.
 */
export async function startKafkaProxy(target = BROKERS[0]!) {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxyPort = (server.address() as net.AddressInfo).port;
  return {
    port: proxyPort,
    /** kafkajs `socketFactory`: every broker connection (bootstrap and advertised) goes through the proxy. */
    socketFactory: ({ onConnect }: { onConnect: () => void }) => {
      const s = net.connect({ host: '127.0.0.1', port: proxyPort }, onConnect);
      s.setKeepAlive(true, 60_000);
      return s;
    },
    async down() {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
    async up() {
      await new Promise<void>((r) => server.listen(proxyPort, '127.0.0.1', r));
    },
  };
}

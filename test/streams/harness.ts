import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { createAuth } from '@audit/auth';
import { loadConfig, stackSchema } from '@audit/config';
import { aclTopicsOf, type Kafka, provisionPipeline, removeAcls, stackKafka } from '@audit/kafka';
import { generateStreamsKeyPair } from '@audit/streams';
import { type ServiceProcess, startService, TEST_JWT_SECRET } from '../e2e/harness.ts';
import { makeEvent } from '../e2e/pipeline.ts';

/** A tenant of the streams tests: its tokens and its event counter. */
export interface StreamTenant {
  id: string;
  writeToken: string;
  manageToken: string;
  readToken: string;
  next: number;
}

/**
 * What the streams tests run: the ingest API (events in), the query API (the /streams API) and
 * the streamer, as separate processes on a topic, groups and tenants of their own. No sink: the
 * streams read Kafka, not ClickHouse.
 */
export interface StreamsStack {
  topic: string;
  kafka: Kafka;
  ingest: ServiceProcess;
  query: ServiceProcess;
  streamer: ServiceProcess;
  tenants: [StreamTenant, StreamTenant];
  /** Posts `n` events of the tenant (batches of 500); returns their ids. */
  post(t: StreamTenant, n: number): Promise<string[]>;
  /** A call to the query API as the tenant's streams:manage token. */
  api<T = Record<string, unknown>>(
    t: StreamTenant,
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startStreamsStack(
  name: string,
  streamerEnv: Record<string, string> = {},
): Promise<StreamsStack> {
  const cfg = loadConfig(stackSchema, process.env);
  const id = randomUUID().slice(0, 8);
  const topic = `test.${name}.${id}`;
  const kafka = stackKafka(cfg, `e2e-${name}`);
  const names = {
    KAFKA_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_LEAVES_TOPIC: `${topic}.leaves`,
    KAFKA_CHECKPOINTS_TOPIC: `${topic}.checkpoints`,
    KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
  };
  const groupPrefix = `e2e-streamer-${id}.`;
  const admin = kafka.admin();
  await admin.connect();
  const acl = await provisionPipeline(admin, aclTopicsOf(names, { streamer: groupPrefix }), {
    partitions: 6,
  });
  await admin.disconnect();

  const keys = generateStreamsKeyPair();
  const logDir = path.join(os.tmpdir(), `audit-e2e-${name}-${id}`);
  const policy = { STREAMS_ALLOW_PRIVATE_NETWORKS: 'true', STREAMS_ALLOW_PLAINTEXT: 'true' };
  const env = { ...names, ...policy, HOST: '127.0.0.1' };
  const [ingest, query, streamer] = await Promise.all([
    startService('ingest-api', env, logDir),
    startService(
      'query-api',
      { ...env, STREAMS_SECRETS_PUBLIC_KEY: keys.publicKey, QUERY_STREAM_TEST_WAIT_MS: '20000' },
      logDir,
    ),
    startService(
      'streamer',
      {
        ...env,
        STREAMER_SECRETS_KEY: keys.privateKey,
        STREAMER_GROUP_PREFIX: groupPrefix,
        STREAMER_POLL_INTERVAL_MS: '500',
        STREAMER_STATUS_INTERVAL_MS: '1000',
        STREAMER_RETRY_INITIAL_MS: '200',
        STREAMER_RETRY_MAX_MS: '2000',
        STREAMER_REQUEST_TIMEOUT_MS: '3000',
        STREAMER_SESSION_TIMEOUT_MS: '10000',
        ...streamerEnv,
      },
      logDir,
    ),
  ]);
  const auth = await createAuth({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
  const tenant = async (suffix: string): Promise<StreamTenant> => {
    const tid = `st_${name}_${id}_${suffix}`.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
    const token = (scopes: ('events:write' | 'events:read' | 'streams:manage')[]) =>
      auth.issueToken({ subject: `${tid}-${scopes.join('+')}`, tenant: tid, scopes }, { ttlSeconds: 3600 });
    return {
      id: tid,
      writeToken: await token(['events:write']),
      manageToken: await token(['streams:manage']),
      readToken: await token(['events:read']),
      next: 0,
    };
  };
  const tenants: [StreamTenant, StreamTenant] = [await tenant('a'), await tenant('b')];
  const created: { t: StreamTenant; id: string }[] = [];

  const api: StreamsStack['api'] = async (t, method, p, body, token) => {
    const res = await fetch(`${query.url}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? t.manageToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const parsed = text === '' ? {} : JSON.parse(text);
    if (method === 'POST' && p === '/streams' && res.status === 201)
      created.push({ t, id: parsed.stream_id });
    return { status: res.status, body: parsed };
  };

  const post = async (t: StreamTenant, n: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 500) {
      const batch = Array.from({ length: Math.min(500, n - i) }, () => makeEvent(t.next++, t.id));
      const res = await fetch(`${ingest.url}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.writeToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      ids.push(...((await res.json()) as { event_ids: string[] }).event_ids);
    }
    return ids;
  };

  return {
    topic,
    kafka,
    ingest,
    query,
    streamer,
    tenants,
    post,
    api,
    stop: async () => {
      // Streams live in the shared control database: leave none of this run's behind.
      for (const c of created) await api(c.t, 'DELETE', `/streams/${c.id}`).catch(() => {});
      await Promise.all([ingest.kill('SIGTERM'), query.kill('SIGTERM'), streamer.kill('SIGTERM')]);
      const a = kafka.admin();
      await a.connect();
      await removeAcls(a, acl).catch(() => {});
      await a.disconnect();
    },
  };
}

/** Partition and offset of every message of the topic, by event_id (read as the admin). */
export async function topicPositions(
  kafka: Kafka,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<Map<string, { partition: number; offset: number }>> {
  const out = new Map<string, { partition: number; offset: number }>();
  const consumer = kafka.consumer({ groupId: `e2e-positions-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const e = JSON.parse(message.value!.toString()) as { event_id: string };
        if (!out.has(e.event_id)) out.set(e.event_id, { partition, offset: Number(message.offset) });
        if (out.size >= expected) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, timeoutMs))]);
  await consumer.disconnect();
  return out;
}

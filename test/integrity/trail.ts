/**
 * The whole tamper-evidence path in one process, on a private stack: events produced to Kafka,
 * the real sink (with its leaf hook), the real sealer, and the query API app (as the reader user).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuth } from '@audit/auth';
import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger, createMetrics } from '@audit/http';
import { createTopicsReady, type Kafka, stackKafka } from '@audit/kafka';
import { type AuditEvent, serializeEvent, uuidv7 } from '@audit/schema';
import type { PrivateStack } from '@audit/stack';
import { parsePublished, type VerifyReport, verifyTrail } from '@audit/tlog';
import { generateNoteKey, nodeSha256 } from '@audit/tlog/node';
import { createAccessLog } from '../../services/query-api/src/access-log.ts';
import { createApp } from '../../services/query-api/src/app.ts';
import { loadSealerConfig } from '../../services/sealer/src/config.ts';
import { type RunningSealer, startSealer } from '../../services/sealer/src/service.ts';
import { loadSinkConfig } from '../../services/sink/src/config.ts';
import { type RunningSink, startSink } from '../../services/sink/src/sink.ts';

export const logger = createLogger('integrity-test', process.env.LOG_LEVEL ?? 'fatal');

export interface Trail {
  env: Record<string, string | undefined>;
  kafka: Kafka;
  admin: ClickHouseClient;
  sink: RunningSink;
  sealer: RunningSealer;
  key: { privateKey: string; verifierKey: string };
  witnessFile: string;
  produce(events: AuditEvent[]): Promise<void>;
  /** Runs the verifier for `tenant` through the query API app (reader user), with the witness file. */
  verify(tenant: string, opts?: { published?: boolean }): Promise<VerifyReport>;
  /** GET `path` from the query API app with a read token of `tenant`. */
  get(tenant: string, path: string): Promise<Response>;
  /** The query API app itself and a read token (`Bearer …`) of `tenant`, for other requests. */
  app: { request(path: string, init?: RequestInit): Response | Promise<Response> };
  readToken(tenant: string): Promise<string>;
  stop(): Promise<void>;
}

export function makeEvents(tenant: string, n: number, start = 0): AuditEvent[] {
  const base = Date.UTC(2026, 0, 15);
  return Array.from({ length: n }, (_, k) => {
    const i = start + k;
    return {
      event_id: uuidv7(),
      event_type: 'customer.billed',
      timestamp: new Date(base + i * 10).toISOString(),
      received_at: new Date(base + i * 10 + 3).toISOString(),
      tenant_id: tenant,
      source: 'integrity-test',
      user_id: `user-${i % 97}`,
      resource_type: 'invoice',
      resource_id: `inv-${i}`,
      outcome: i % 7 === 0 ? 'failure' : 'success',
      schema_version: 1,
      event_details: {
        i,
        amount: (i % 1000) / 10,
        customer: { plan: i % 2 ? 'pro' : 'free', tags: ['a', 'b'] },
      },
    };
  });
}

export async function startTrail(stack: PrivateStack, extra: Record<string, string> = {}): Promise<Trail> {
  const env = { ...process.env, ...stack.env, ...extra };
  const stackCfg = loadConfig(stackSchema, env);
  const kafka = stackKafka(stackCfg, 'integrity-test');
  const admin = createClickHouse(stackCfg, 'admin');
  const sink = await startSink({
    config: loadSinkConfig({ ...env, PORT: '0', SINK_BATCH_MAX_WAIT_MS: '200', SINK_RETRY_MAX_MS: '2000' }),
    logger,
  });
  const key = generateNoteKey('audit-test.example');
  const witnessFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'witness-')), 'checkpoints.ndjson');
  const sealer = await startSealer({
    config: loadSealerConfig({
      ...env,
      PORT: '0',
      SEALER_SIGNING_KEY: key.privateKey,
      SEAL_INTERVAL_MS: '300',
      SEALER_WITNESS_FILE: witnessFile,
      SEALER_RETRY_MAX_MS: '2000',
    }),
    logger,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const reader = createClickHouse(stackCfg, 'reader');
  const auth = await createAuth({ AUTH_JWT_SECRET: 'integrity-test-secret-at-least-32-chars!!' });
  const metrics = createMetrics('integrity-test', false);
  // The records of this harness' reads go to a topic no sink reads: the tests count exactly the
  // events they produced (test/e2e runs the real query API, whose records go into the trail).
  const accessTopic = `${stackCfg.KAFKA_TOPIC}.access-test`;
  const topicAdmin = kafka.admin();
  await topicAdmin.connect();
  await createTopicsReady(topicAdmin, [{ topic: accessTopic, partitions: 1 }]);
  await topicAdmin.disconnect();
  const accessLog = createAccessLog({
    kafka,
    topic: accessTopic,
    timeoutMs: 10_000,
    logger,
    registry: metrics.registry,
  });
  const app = createApp({
    logger,
    metrics,
    clickhouse: reader,
    auth,
    accessLog,
    config: {
      CLICKHOUSE_DATABASE: 'audit',
      QUERY_TIMEOUT_SECONDS: 30,
      QUERY_EXPORT_TIMEOUT_SECONDS: 60,
      QUERY_EXPORT_MAX_ROWS: 1_000_000,
      QUERY_CURSOR_SECRET: 'integrity-test-cursor-secret-at-least-32',
    },
  });
  const readToken = async (tenant: string) =>
    `Bearer ${await auth.issueToken({ subject: 'verifier', tenant, scopes: ['events:read'] })}`;
  return {
    env,
    kafka,
    admin,
    sink,
    sealer,
    key,
    witnessFile,
    async produce(events) {
      for (let i = 0; i < events.length; i += 5000) {
        await producer.send({
          topic: stackCfg.KAFKA_TOPIC,
          acks: -1,
          messages: events.slice(i, i + 5000).map((e) => ({
            key: `${e.tenant_id}/${e.user_id}`,
            value: serializeEvent(e),
            headers: { 'content-type': 'application/json', 'schema-version': '1' },
          })),
        });
      }
    },
    async get(tenant, path) {
      return app.request(path, { headers: { authorization: await readToken(tenant) } });
    },
    app,
    readToken,
    async verify(tenant, opts = {}) {
      const token = await readToken(tenant);
      return verifyTrail({
        url: 'http://query-api',
        token,
        keys: [key.verifierKey],
        published:
          opts.published === false ? undefined : parsePublished(fs.readFileSync(witnessFile, 'utf8')),
        sha256: nodeSha256,
        fetch: async (url, init) => app.request(url, init),
      });
    },
    async stop() {
      await producer.disconnect();
      await accessLog.close();
      await reader.close();
      await sealer.stop();
      await sink.stop();
      await admin.close();
    },
  };
}

export async function sql<T>(ch: ClickHouseClient, query: string, params: Record<string, unknown> = {}) {
  const rs = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** Size of the tenant's latest stored checkpoint (0 when none). */
export async function sealedSize(ch: ClickHouseClient, tenant: string): Promise<number> {
  const [r] = await sql<{ n: string }>(
    ch,
    'SELECT max(tree_size) AS n FROM audit.tlog_checkpoints WHERE tenant_id = {t:String}',
    { t: tenant },
  );
  return Number(r?.n ?? 0);
}

export async function waitFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

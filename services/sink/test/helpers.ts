import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { createLogger } from '@audit/http';
import {
  aclTopicsOf,
  applyAcls,
  createTopicsReady,
  type IHeaders,
  type Message,
  removeAcls,
  serviceAcls,
  stackKafka,
} from '@audit/kafka';
import { type AuditEvent, serializeEvent, uuidv7 } from '@audit/schema';
import { expect } from 'vitest';
import { loadSinkConfig, type SinkConfig } from '../src/config.ts';

export const stack = loadConfig(stackSchema);
/** The test's own client is the admin's; the sinks under test authenticate as the sink's principal. */
export const kafka = stackKafka(stack, 'sink-test');
export const admin = createClickHouse(stack, 'admin');
export const logger = createLogger('sink-test', process.env.LOG_LEVEL ?? 'fatal');

export const tenantId = () => `t_${randomBytes(6).toString('hex')}`;

/**
 * A fresh topic (6 partitions) and DLQ topic, a group, a tenant topic prefix, and the sink
 * principal's ACLs on exactly those; `drop()` deletes the topics and the ACLs.
 */
export async function createTopics(partitions = 6) {
  const id = randomUUID();
  const topic = `test.${id}`;
  const dlq = `test.${id}.dlq`;
  const groupId = `sink-test-${id}`;
  const tenantPrefix = `test.${id}.t.`;
  const kadmin = kafka.admin();
  await kadmin.connect();
  await createTopicsReady(kadmin, [
    { topic, partitions },
    { topic: dlq, partitions: 1 },
  ]);
  // Only the ACLs on this test's own resources: the shared leaves topic and the sealer's group
  // keep the stack's, which drop() must never remove from under the other files' sinks.
  const own = new Set([topic, dlq, tenantPrefix, groupId]);
  const acl = serviceAcls(
    aclTopicsOf(
      { ...stack, KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: dlq, KAFKA_TENANT_TOPIC_PREFIX: tenantPrefix },
      { sink: groupId },
    ),
  ).filter((a) => own.has(a.resourceName));
  await applyAcls(kadmin, acl);
  return {
    topic,
    dlq,
    groupId,
    tenantPrefix,
    /** A tenant's own topic (direct producers) under this test's prefix, created now. */
    async tenantTopic(tenant: string, n = partitions): Promise<string> {
      const name = `${tenantPrefix}${tenant}`;
      await createTopicsReady(kadmin, [{ topic: name, partitions: n }]);
      return name;
    },
    /** Sum of the group's committed offsets over the topic's partitions. */
    async committed(groupId: string): Promise<number> {
      const [t] = await kadmin.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    },
    async drop() {
      const tenantTopics = (await kadmin.listTopics()).filter((n) => n.startsWith(tenantPrefix));
      await kadmin.deleteTopics({ topics: [topic, dlq, ...tenantTopics] }).catch(() => {});
      await removeAcls(kadmin, acl).catch(() => {});
      await kadmin.disconnect();
    },
  };
}

export function makeEvents(n: number, tenant: string): AuditEvent[] {
  const base = Date.parse('2026-01-15T00:00:00.000Z');
  return Array.from({ length: n }, (_, i) => ({
    event_id: uuidv7(),
    event_type: 'customer.action.performed',
    timestamp: new Date(base + i * 7).toISOString(),
    received_at: new Date(base + i * 7 + 3).toISOString(),
    tenant_id: tenant,
    source: 'sink-test',
    user_id: `user-${i % 97}`,
    resource_type: 'invoice',
    resource_id: `inv-${i}`,
    schema_version: 1,
    event_details: { i, plan: i % 2 ? 'pro' : 'free', customer: { country: 'FR', tags: ['a', 'b'] } },
  }));
}

export const toMessage = (e: AuditEvent): Message => ({
  key: `${e.tenant_id}/${e.user_id}`,
  value: serializeEvent(e),
  headers: { 'content-type': 'application/json', 'schema-version': '1' },
});

export async function produce(topic: string, messages: Message[]) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 5000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 5000) });
  }
  await producer.disconnect();
}

/** Sink config for one test: its own topics and group, random HTTP port, short batch wait. */
export function sinkConfig(
  t: { topic: string; dlq: string; groupId: string; tenantPrefix: string },
  extra: Record<string, string> = {},
): SinkConfig {
  return loadSinkConfig({
    ...process.env,
    KAFKA_TOPIC: t.topic,
    KAFKA_DLQ_TOPIC: t.dlq,
    SINK_GROUP_ID: t.groupId,
    KAFKA_TENANT_TOPIC_PREFIX: t.tenantPrefix,
    PORT: '0',
    HOST: '127.0.0.1',
    SINK_BATCH_MAX_WAIT_MS: '300',
    SINK_RETRY_MAX_MS: '2000',
    ...extra,
  });
}

export async function counts(tenant: string) {
  const rs = await admin.query({
    query: `SELECT
      (SELECT count() FROM ${stack.CLICKHOUSE_DATABASE}.events FINAL WHERE tenant_id = {t:String}) AS final,
      (SELECT uniqExact(event_id) FROM ${stack.CLICKHOUSE_DATABASE}.events WHERE tenant_id = {t:String}) AS uniq,
      (SELECT count() FROM ${stack.CLICKHOUSE_DATABASE}.events WHERE tenant_id = {t:String}) AS raw`,
    query_params: { t: tenant },
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ final: string; uniq: string; raw: string }>();
  return { final: Number(r!.final), uniq: Number(r!.uniq), raw: Number(r!.raw) };
}

export async function storedIds(tenant: string): Promise<string[]> {
  const rs = await admin.query({
    query: `SELECT toString(event_id) AS id FROM ${stack.CLICKHOUSE_DATABASE}.events FINAL WHERE tenant_id = {t:String} ORDER BY id`,
    query_params: { t: tenant },
    format: 'JSONCompactEachRow',
  });
  return (await rs.json<[string]>()).map((r) => r[0]);
}

/** Polls until `done(value)`; the timeout only bounds a failing test. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The sink's promise for one test's events: every one stored once (FINAL count and distinct ids
 * equal the number sent, the same ids) and the group committed exactly that many offsets.
 * Returns the counts for the test's log line.
 */
export async function expectStoredOnce(
  tenant: string,
  events: AuditEvent[],
  topics: { groupId: string; committed(groupId: string): Promise<number> },
) {
  const n = events.length;
  const c = await waitFor(
    () => counts(tenant),
    (c) => c.final >= n,
  );
  expect(c.final).toBe(n);
  expect(c.uniq).toBe(n);
  expect(await storedIds(tenant)).toEqual(events.map((e) => e.event_id).sort());
  expect(
    await waitFor(
      () => topics.committed(topics.groupId),
      (k) => k === n,
    ),
  ).toBe(n);
  return c;
}

export interface DlqRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Reads `n` messages of a DLQ topic from the beginning. */
export async function readTopic(topic: string, n: number, timeoutMs = 60_000): Promise<DlqRecord[]> {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: DlqRecord[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => resolve(), timeoutMs);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          out.push({
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: headersToStrings(message.headers),
          });
          if (out.length >= n) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out;
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k] = Array.isArray(v) ? String(v[0]) : String(v ?? '');
  return out;
}

/** A TCP proxy in front of a server, which a test can take down and bring back on the same port. */
export async function tcpProxy(targetPort: number, targetHost = '127.0.0.1') {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        client.pipe(upstream).pipe(client);
        const done = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', done).on('close', done);
        upstream.on('error', done).on('close', done);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    /** Refuses new connections and cuts the open ones. */
    async close() {
      const s = server;
      for (const sock of sockets) sock.destroy();
      sockets.clear();
      await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    },
    reopen: open,
  };
}

/**
 * Quick local load test of the ingest API against the running stack, with the raw kafkajs
 * producer measured in the same run as the ceiling. Not a test: prints a table.
 *
 *   pnpm --filter @audit/ingest-api load            # DURATION=10 CONNECTIONS=50 BATCH_CONNECTIONS=8
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createAuth } from '@audit/auth';
import { loadConfig, stackSchema } from '@audit/config';
import {
  aclTopicsOf,
  applyAcls,
  CompressionTypes,
  type Kafka,
  SERVICE_PRINCIPALS,
  serviceAcls,
  stackKafka,
} from '@audit/kafka';
import autocannon from 'autocannon';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const BATCH_CONNECTIONS = Number(process.env.BATCH_CONNECTIONS ?? 8);
const SECRET = 'load-test-secret-0123456789-0123456789';
const PORT = 18_080 + Math.floor(Math.random() * 1000);

const event = (i: number) => ({
  event_type: 'customer.action.performed',
  timestamp: new Date().toISOString(),
  user_id: `user-${i % 997}`,
  resource_type: 'invoice',
  resource_id: `inv-${i}`,
  event_details: { plan: 'pro', amount: i * 3, tags: ['a', 'b'], nested: { ip_country: 'DE', ok: true } },
});

const stack = loadConfig(stackSchema, { ...process.env, KAFKA_BROKERS: BROKERS });

async function createTopic(kafka: Kafka): Promise<string> {
  const topic = `bench.${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  // The ingest API under test authenticates as itself: its WRITE ACL on this topic.
  const ingest = `User:${SERVICE_PRINCIPALS.ingest.username}`;
  await applyAcls(
    admin,
    serviceAcls({ ...aclTopicsOf(stack), events: topic }).filter((a) => a.principal === ingest),
  );
  await admin.disconnect();
  return topic;
}

async function startServer(topic: string, compression: string): Promise<ChildProcess> {
  const child = spawn('pnpm', ['exec', 'tsx', 'src/main.ts'], {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      ...process.env,
      PORT: String(PORT),
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC: topic,
      AUTH_JWT_SECRET: SECRET,
      INGEST_KAFKA_COMPRESSION: compression,
      // The load test measures capacity, not the per-tenant limits (docs/limits.md).
      RATE_LIMIT_REQUESTS_PER_SECOND: '0',
      RATE_LIMIT_EVENTS_PER_SECOND: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${PORT}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  throw new Error('server did not become ready');
}

async function stopServer(child: ChildProcess) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Row {
  scenario: string;
  'req/s': number;
  'events/s': number;
  'p50 ms': number;
  'p99 ms': number;
  non2xx: number;
}

async function http(
  name: string,
  token: string,
  body: string,
  eventsPerRequest: number,
  connections: number,
) {
  const r = await autocannon({
    url: `http://127.0.0.1:${PORT}/events`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
    connections,
    duration: DURATION,
  });
  const ok = r.requests.total - r.non2xx;
  return {
    scenario: name,
    'req/s': Math.round(ok / DURATION),
    'events/s': Math.round((ok * eventsPerRequest) / DURATION),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    non2xx: r.non2xx + r.errors + r.timeouts,
  } satisfies Row;
}

/** The ceiling: the same idempotent acks=all producer, no HTTP, `concurrency` sends in flight. */
async function rawProducer(
  kafka: Kafka,
  topic: string,
  name: string,
  batch: number,
  concurrency: number,
  gzip: boolean,
): Promise<Row> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const latencies: number[] = [];
  let sent = 0;
  const end = Date.now() + DURATION * 1000;
  const worker = async () => {
    let i = 0;
    while (Date.now() < end) {
      const messages = Array.from({ length: batch }, () => {
        const e = { ...event(i++), event_id: randomUUID(), tenant_id: 'bench', source: 'bench' };
        return { key: `bench/${e.user_id}`, value: JSON.stringify(e) };
      });
      const t0 = performance.now();
      await producer.send({
        topic,
        acks: -1,
        compression: gzip ? CompressionTypes.GZIP : CompressionTypes.None,
        messages,
      });
      latencies.push(performance.now() - t0);
      sent += batch;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - t0) / 1000;
  await producer.disconnect();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.floor((latencies.length - 1) * p)]! * 10) / 10;
  return {
    scenario: name,
    'req/s': Math.round(latencies.length / seconds),
    'events/s': Math.round(sent / seconds),
    'p50 ms': pct(0.5),
    'p99 ms': pct(0.99),
    non2xx: 0,
  };
}

const kafka = stackKafka(stack, 'ingest-load');
const auth = await createAuth({ AUTH_JWT_SECRET: SECRET });
const token = await auth.issueToken({ subject: 'load', tenant: 'bench', scopes: ['events:write'] });
const single = JSON.stringify(event(1));
const thousand = JSON.stringify(Array.from({ length: 1000 }, (_, i) => event(i)));
console.log(`bodies: single ${single.length} B, 1000-event ${thousand.length} B; ${DURATION}s per scenario`);

const rows: Row[] = [];
for (const compression of (process.env.COMPRESSIONS ?? 'none,gzip').split(',')) {
  const topic = await createTopic(kafka);
  const server = await startServer(topic, compression);
  try {
    rows.push(
      await http(`HTTP 1 event/req (${compression}, c=${CONNECTIONS})`, token, single, 1, CONNECTIONS),
    );
    rows.push(
      await http(
        `HTTP 1000 events/req (${compression}, c=${BATCH_CONNECTIONS})`,
        token,
        thousand,
        1000,
        BATCH_CONNECTIONS,
      ),
    );
  } finally {
    await stopServer(server);
  }
  const gzip = compression === 'gzip';
  rows.push(
    await rawProducer(
      kafka,
      topic,
      `kafkajs 1 msg/send (${compression}, c=${CONNECTIONS})`,
      1,
      CONNECTIONS,
      gzip,
    ),
  );
  rows.push(
    await rawProducer(
      kafka,
      topic,
      `kafkajs 1000 msgs/send (${compression}, c=${BATCH_CONNECTIONS})`,
      1000,
      BATCH_CONNECTIONS,
      gzip,
    ),
  );
}
console.table(rows);

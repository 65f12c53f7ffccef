import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { createKafka, type Kafka, SERVICE_PRINCIPALS, stackKafka, tenantPrincipal } from '@audit/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLocalStackConfig } from '../src/config.ts';
import { devTenantPassword, userKafka } from '../src/kafka-auth.ts';
import { repoRoot } from '../src/paths.ts';

const cfg = loadLocalStackConfig();
const acmeTopic = `${cfg.KAFKA_TENANT_TOPIC_PREFIX}acme`;
const globexTopic = `${cfg.KAFKA_TENANT_TOPIC_PREFIX}globex`;
const clients: Kafka[] = [];
const producers: Array<{ disconnect(): Promise<void> }> = [];

/**
 * A valid event of the topic's tenant (acme unless the topic names another): a sink reading this
 * stack's topics (e.g. `pnpm start` on the same stack) stores it instead of dead-lettering it.
 */
function probe(topic: string): string {
  const tenant = topic.startsWith(cfg.KAFKA_TENANT_TOPIC_PREFIX)
    ? topic.slice(cfg.KAFKA_TENANT_TOPIC_PREFIX.length)
    : 'acme';
  return JSON.stringify({
    tenant_id: tenant,
    event_type: 'test.kafka_auth.probe',
    timestamp: new Date().toISOString(),
    user_id: 'kafka-auth-test',
    source: 'test.kafka-auth',
    event_details: {},
  });
}

/** One send (one client retry at most): the broker's answer as the error's `type` (or 'ok'). */
async function send(kafka: Kafka, topic: string): Promise<string> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  producers.push(producer);
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ value: probe(topic) }] });
    return 'ok';
  } catch (err) {
    return errorType(err);
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** kafkajs wraps the broker's error code (`type`) in a non-retriable error's `cause`. */
function errorType(err: unknown): string {
  const e = err as { type?: string; name?: string; cause?: { type?: string } };
  return e.type ?? e.cause?.type ?? e.name ?? String(err);
}

const as = (user: string, password: string) => {
  const k = userKafka(cfg, `auth-test-${user}`, { name: user, password }, { retries: 1 });
  clients.push(k);
  return k;
};
const acme = () => as(tenantPrincipal('acme'), devTenantPassword('acme'));

afterAll(async () => {
  await Promise.all(producers.map((p) => p.disconnect().catch(() => {})));
});

describe('the broker authenticates every client and authorizes each principal (SCRAM-SHA-512, ACLs)', () => {
  it("acme's producer credential writes acme's topic and nothing else: not globex's, not the events topic", async () => {
    expect(await send(acme(), acmeTopic)).toBe('ok');
    expect(await send(acme(), globexTopic)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await send(acme(), cfg.KAFKA_TOPIC)).toBe('TOPIC_AUTHORIZATION_FAILED');
  });

  it("acme's credential cannot read, not even its own topic (the admin, same code, can)", async () => {
    /** Joins a fresh group on acme's topic: 'joined', or why the consumer crashed. */
    const consume = async (kafka: Kafka) => {
      const consumer = kafka.consumer({ groupId: `acme-reader-${randomBytes(4).toString('hex')}` });
      await consumer.connect();
      await consumer.subscribe({ topic: acmeTopic, fromBeginning: true });
      const outcome = new Promise<string>((resolve) => {
        consumer.on(consumer.events.GROUP_JOIN, () => resolve('joined'));
        consumer.on(consumer.events.CRASH, (e) => resolve(errorType(e.payload.error)));
      });
      await consumer.run({ eachMessage: async () => {} });
      const r = await outcome;
      await consumer.disconnect();
      return r;
    };
    expect(await consume(stackKafka(cfg, 'auth-test-admin-reader'))).toBe('joined');
    // kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED (FindCoordinator needs DESCRIBE on
    // the group) as "no coordinator"; the admin's join above shows there is one.
    expect(await consume(acme())).toBe('KafkaJSGroupCoordinatorNotFound');
  });

  it('an unauthenticated client cannot produce, to the events topic or a tenant topic', async () => {
    // connect() alone succeeds (ApiVersions needs no login); the first real request fails.
    const anonymous = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: 'anonymous', retries: 1 });
    for (const topic of [cfg.KAFKA_TOPIC, acmeTopic]) {
      const outcome = await send(anonymous, topic);
      // A request other than the SASL handshake on a SASL listener: the broker hangs up.
      expect(outcome, topic).toBe('KafkaJSConnectionClosedError');
    }
  });

  it('a wrong password is refused at login', async () => {
    expect(await send(as(tenantPrincipal('acme'), 'not-the-password'), acmeTopic)).toMatch(
      /SASL|authentication/i,
    );
  });

  it('a service principal is held to its own ACLs: the sink cannot write the events topic, ingest cannot write a tenant topic', async () => {
    const p = SERVICE_PRINCIPALS;
    expect(await send(as(p.sink.username, p.sink.devPassword), cfg.KAFKA_TOPIC)).toBe(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(await send(as(p.ingest.username, p.ingest.devPassword), acmeTopic)).toBe(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(await send(as(p.ingest.username, p.ingest.devPassword), cfg.KAFKA_TOPIC)).toBe('ok');
  });

  it('`pnpm kafka:tenant <id>` provisions a new direct producer: its topic shaped like the events topic, its credential, its ACL', async () => {
    const tenant = `t${randomBytes(5).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'packages/stack/src/cli.ts'), 'tenant', tenant],
      { cwd: repoRoot, env: { ...process.env, KAFKA_TENANT_PASSWORD: password }, timeout: 120_000 },
    );
    const topic = `${cfg.KAFKA_TENANT_TOPIC_PREFIX}${tenant}`;
    expect(stdout).toContain(`topic ${topic}`);
    expect(stdout).not.toContain(password);
    const admin = stackKafka(cfg, 'auth-test-admin').admin();
    await admin.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic, cfg.KAFKA_TOPIC] });
      const parts = md.topics.map((t) => t.partitions.length);
      expect(parts[0]).toBe(parts[1]);
      const user = as(tenantPrincipal(tenant), password);
      expect(await send(user, topic)).toBe('ok');
      expect(await send(user, acmeTopic)).toBe('TOPIC_AUTHORIZATION_FAILED');
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  });
});

import type { Kafka } from '@audit/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildApp,
  createTopic,
  kafkaClient,
  newTenant,
  post,
  readTopic,
  sampleEvent,
  startKafkaProxy,
  type TestApp,
} from './helpers.ts';

type Accepted = { event_ids: string[] };
const TIMEOUT_MS = 2000;

/**
 * Every producer connection (bootstrap and the advertised broker address from metadata) goes
 * through a TCP proxy via kafkajs' socketFactory; closing the proxy is "the broker is down"
 * for this app only, while the shared broker keeps running for everybody else.
 */
describe('Kafka unavailable', () => {
  let direct: Kafka;
  let topic: string;
  let proxy: Awaited<ReturnType<typeof startKafkaProxy>>;
  let t: TestApp;
  let token: string;
  const accepted: string[] = [];
  const refused: string[] = [];

  beforeAll(async () => {
    direct = kafkaClient();
    topic = await createTopic(direct);
    proxy = await startKafkaProxy();
    t = await buildApp({ kafka: kafkaClient(proxy.socketFactory), topic, timeoutMs: TIMEOUT_MS });
    token = await t.auth.issueToken({ subject: 'svc', tenant: newTenant(), scopes: ['events:write'] });
  });
  afterAll(async () => {
    await proxy?.up().catch(() => {});
    await t?.close();
    await proxy?.down();
  });

  async function send(): Promise<{ status: number; retryAfter: string | null; id: string }> {
    const event = sampleEvent();
    const res = await post(t.app, token, JSON.stringify(event));
    const id = event.event_id as string;
    if (res.status === 202) {
      expect(((await res.json()) as Accepted).event_ids).toEqual([id]);
      accepted.push(id);
    } else {
      refused.push(id);
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), id };
  }

  it('accepts while the broker is reachable', async () => {
    expect((await send()).status).toBe(202);
  });

  it('answers 503 with Retry-After (not 202, not a hang) when the broker goes away', async () => {
    await proxy.down();
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const r = await send();
      expect(r.status).toBe(503);
      expect(r.retryAfter).toBe('5');
      // Bounded by the configured Kafka timeout (generous margin for a loaded machine).
      expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS + 3000);
    }
    const ready = await t.app.request('/readyz');
    expect(ready.status).toBe(503);
  });

  it('recovers by itself once the broker is back', async () => {
    await proxy.up();
    // The producer reconnects inside its retry loop; a client retries on 503 as documented.
    let status = 0;
    for (let attempt = 0; attempt < 10 && status !== 202; attempt++) {
      status = (await send()).status;
      expect([202, 503]).toContain(status);
    }
    expect(status).toBe(202);
    expect((await t.app.request('/readyz')).status).toBe(200);
  });

  it('never acknowledged an event that is missing, and wrote no event twice', async () => {
    // Let the sends that timed out finish (they keep retrying in the background), then read.
    await t.close();
    const ids = (await readTopic(direct, topic)).map(
      (m) => JSON.parse(m.value!.toString()).event_id as string,
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of accepted) expect(ids).toContain(id);
    // Anything else on the topic is a request that got 503: allowed to land late, and deduplicated downstream.
    for (const id of ids.filter((i) => !accepted.includes(i))) expect(refused).toContain(id);
  });
});

describe('Kafka down when the service starts', () => {
  it('answers 503, is not ready, then connects on its own once Kafka is reachable', async () => {
    const direct = kafkaClient();
    const topic = await createTopic(direct);
    const proxy = await startKafkaProxy();
    await proxy.down();
    const t = await buildApp({ kafka: kafkaClient(proxy.socketFactory), topic, timeoutMs: TIMEOUT_MS });
    try {
      const token = await t.auth.issueToken({
        subject: 'svc',
        tenant: newTenant(),
        scopes: ['events:write'],
      });
      const first = await post(t.app, token, JSON.stringify(sampleEvent()));
      expect(first.status).toBe(503);
      expect(first.headers.get('retry-after')).toBe('5');
      expect((await t.app.request('/readyz')).status).toBe(503);
      await proxy.up();
      const event = sampleEvent();
      let status = 0;
      for (let attempt = 0; attempt < 10 && status !== 202; attempt++) {
        status = (await post(t.app, token, JSON.stringify(event))).status;
        expect([202, 503]).toContain(status);
      }
      expect(status).toBe(202);
      await t.close();
      const ids = (await readTopic(direct, topic)).map((m) => JSON.parse(m.value!.toString()).event_id);
      expect(ids).toEqual([event.event_id]);
    } finally {
      await t.close();
      await proxy.down();
    }
  });
});

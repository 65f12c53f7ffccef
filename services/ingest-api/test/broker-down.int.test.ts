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

  async function send(): Promise<{ status: number; retryAfter: string | null; id: string; body: unknown }> {
    const event = sampleEvent();
    const res = await post(t.app, token, JSON.stringify(event));
    const id = event.event_id as string;
    const body = await res.json();
    if (res.status === 202) {
      expect((body as Accepted).event_ids).toEqual([id]);
      accepted.push(id);
    } else {
      refused.push(id);
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), id, body };
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
      // The send may still land: the answer says so and names the ids to resend with.
      expect(r.body).toEqual({
        error: {
          code: 'unavailable',
          message: expect.any(String),
          details: { event_ids: [r.id], may_have_been_written: true },
        },
      });
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

describe('a 503 with server-chosen ids, resent with the ids it returned or the same Idempotency-Key', () => {
  it('never creates a second event', async () => {
    const direct = kafkaClient();
    const topic = await createTopic(direct);
    const proxy = await startKafkaProxy();
    const t = await buildApp({ kafka: kafkaClient(proxy.socketFactory), topic, timeoutMs: TIMEOUT_MS });
    try {
      const token = await t.auth.issueToken({
        subject: 'svc',
        tenant: newTenant(),
        scopes: ['events:write'],
      });
      const { event_id: _a, ...a } = sampleEvent();
      const { event_id: _b, ...b } = sampleEvent();
      const send = (body: unknown, headers: Record<string, string> = {}) =>
        t.app.request('/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
          body: JSON.stringify(body),
        });
      await proxy.down();
      // No event_id and no key: the 503 returns the ids the server chose.
      const failed = await send([a]);
      expect(failed.status).toBe(503);
      const details = (
        (await failed.json()) as {
          error: { details: { event_ids: string[]; may_have_been_written: boolean } };
        }
      ).error.details;
      expect(details.may_have_been_written).toBe(true);
      expect(details.event_ids).toHaveLength(1);
      // With a key: the ids of the 503 are the ones every resend gets.
      const keyed = await send([b], { 'idempotency-key': 'order-7' });
      expect(keyed.status).toBe(503);
      const keyedIds = ((await keyed.json()) as { error: { details: { event_ids: string[] } } }).error.details
        .event_ids;
      await proxy.up();
      const resend = async (body: unknown, headers: Record<string, string> = {}) => {
        for (let attempt = 0; attempt < 10; attempt++) {
          const res = await send(body, headers);
          if (res.status === 202) return (await res.json()) as Accepted;
          expect(res.status).toBe(503);
        }
        throw new Error('never accepted');
      };
      expect((await resend([{ ...a, event_id: details.event_ids[0] }])).event_ids).toEqual(details.event_ids);
      expect((await resend([b], { 'idempotency-key': 'order-7' })).event_ids).toEqual(keyedIds);
      await t.close();
      // A send that timed out may have landed as well as its resend (the sink keeps the first copy
      // of an id): whatever is on the topic carries only these two ids, never a third event.
      const ids = (await readTopic(direct, topic)).map(
        (m) => JSON.parse(m.value!.toString()).event_id as string,
      );
      expect(new Set(ids)).toEqual(new Set([details.event_ids[0], keyedIds[0]]));
    } finally {
      await t.close();
      await proxy.down();
    }
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

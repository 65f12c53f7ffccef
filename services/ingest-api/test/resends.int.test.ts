import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { createClickHouse, migrate, toRow } from '@audit/clickhouse';
import type { Kafka } from '@audit/kafka';
import { type EventInput, idempotencyKeyEventId, normalizeEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildApp,
  createTopic,
  kafkaClient,
  newTenant,
  post,
  RETENTION_DAYS,
  readerLookup,
  readTopic,
  sampleEvent,
  stack,
  type TestApp,
  topicMessageCount,
} from './helpers.ts';

type Accepted = { accepted: number; event_ids: string[]; duplicates: string[] };
type ErrorBody = { error: { code: string; message: string; details: unknown } };
const SUBJECT = 'billing-service';

/** `metric{labels} value` from /metrics, 0 when absent. */
async function metric(t: TestApp, name: string, label = ''): Promise<number> {
  const text = await (await t.app.request('/metrics')).text();
  const re = new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\d+)$`, 'm');
  return Number(re.exec(text)?.[1] ?? 0);
}

function postWith(t: TestApp, token: string, body: unknown, headers: Record<string, string>) {
  return t.app.request('/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
}

describe('resends: first write wins at ingest', () => {
  let kafka: Kafka;
  let topic: string;
  let t: TestApp;
  const tenant = newTenant();
  let token: string;
  const admin = createClickHouse(stack, 'admin');

  beforeAll(async () => {
    // The table as production creates it (the sink's migrations, writer user); tests isolate by tenant.
    const writer = createClickHouse(stack, 'writer');
    await migrate(writer, { database: stack.CLICKHOUSE_DATABASE, retentionDays: RETENTION_DAYS });
    await writer.close();
    kafka = kafkaClient();
    topic = await createTopic(kafka);
    t = await buildApp({ kafka, topic });
    token = await t.auth.issueToken({ subject: SUBJECT, tenant, scopes: ['events:write'] });
  });
  afterAll(async () => {
    await t?.close();
    await admin.close();
  });

  describe('before the sink stored it (this replica remembers its acknowledgements)', () => {
    const original = sampleEvent();
    const lookups = () => metric(t, 'ingest_id_lookup_duration_seconds_count', 'outcome="ok"');

    it('the first send is published', async () => {
      const res = await post(t.app, token, JSON.stringify(original));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({ accepted: 1, event_ids: [original.event_id], duplicates: [] });
      expect(await topicMessageCount(kafka, topic)).toBe(1);
    });

    it('an identical resend → 202 with duplicates, from memory (no lookup), nothing published', async () => {
      const before = await lookups();
      const res = await post(t.app, token, JSON.stringify(original));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        accepted: 1,
        event_ids: [original.event_id],
        duplicates: [original.event_id],
      });
      expect(await lookups()).toBe(before);
      expect(await topicMessageCount(kafka, topic)).toBe(1);
    });

    it('the same id with another body → 409 conflict naming it; nothing of the request is published', async () => {
      const fresh = sampleEvent();
      const changed = { ...original, event_details: { plan: 'free' } };
      const res = await post(t.app, token, JSON.stringify([fresh, changed]));
      expect(res.status).toBe(409);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('conflict');
      expect(body.error.details).toEqual({ event_ids: [original.event_id] });
      expect(await topicMessageCount(kafka, topic)).toBe(1);
      expect(await metric(t, 'events_rejected_total', 'reason="conflict"')).toBe(2);
    });

    it('the same id with another timestamp is a conflict too', async () => {
      const res = await post(
        t.app,
        token,
        JSON.stringify({ ...original, timestamp: new Date().toISOString() }),
      );
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.details).toEqual({ event_ids: [original.event_id] });
    });

    it('one id twice in a request: identical → published once; different → 409', async () => {
      const e = sampleEvent();
      const res = await post(t.app, token, JSON.stringify([e, e]));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        accepted: 2,
        event_ids: [e.event_id, e.event_id],
        duplicates: [e.event_id],
      });
      const f = sampleEvent();
      const bad = await post(t.app, token, JSON.stringify([f, { ...f, user_id: 'someone-else' }]));
      expect(bad.status).toBe(409);
      expect(((await bad.json()) as ErrorBody).error.details).toEqual({ event_ids: [f.event_id] });
      const ids = (await readTopic(kafka, topic)).map((m) => JSON.parse(m.value!.toString()).event_id);
      // Keyed by id, so on different partitions: compare as sets (and the count).
      expect(ids.sort()).toEqual([original.event_id as string, e.event_id as string].sort());
    });
  });

  describe('after the sink stored it (the id index in ClickHouse)', () => {
    let fresh: TestApp;
    let stored: EventInput;
    let other: EventInput;

    beforeAll(async () => {
      // A new replica: nothing in memory, so only the id index can know the ids.
      fresh = await buildApp({ kafka, topic });
      stored = sampleEvent() as EventInput;
      other = sampleEvent() as EventInput;
      const receivedAt = new Date(Date.now() - 60_000);
      const rows = [stored, other].map((input, i) =>
        toRow(normalizeEvent(input, { tenantId: tenant, source: SUBJECT, receivedAt }), 0, String(i)),
      );
      await admin.insert({
        table: `${stack.CLICKHOUSE_DATABASE}.events`,
        format: 'JSONEachRow',
        values: rows,
      });
    });
    afterAll(async () => {
      await fresh?.close();
    });

    it('an identical resend → 202 with duplicates, nothing published', async () => {
      const before = await topicMessageCount(kafka, topic);
      const extra = sampleEvent();
      const res = await post(fresh.app, token, JSON.stringify([stored, extra, other]));
      expect(res.status).toBe(202);
      expect(await res.json()).toEqual({
        accepted: 3,
        event_ids: [stored.event_id, extra.event_id, other.event_id],
        duplicates: [stored.event_id, other.event_id],
      });
      expect(await topicMessageCount(kafka, topic)).toBe(before + 1);
      expect(await metric(fresh, 'events_duplicate_total')).toBe(2);
      expect(await metric(fresh, 'events_accepted_total')).toBe(1);
    });

    it('other content → 409 conflict naming the id, nothing published', async () => {
      const replica = await buildApp({ kafka, topic });
      try {
        const before = await topicMessageCount(kafka, topic);
        const res = await post(
          replica.app,
          token,
          JSON.stringify({ ...stored, event_details: { rewritten: true } }),
        );
        expect(res.status).toBe(409);
        const body = (await res.json()) as ErrorBody;
        expect(body.error).toMatchObject({ code: 'conflict', details: { event_ids: [stored.event_id] } });
        expect(body.error.message).toMatch(/first write wins/);
        expect(await topicMessageCount(kafka, topic)).toBe(before);
      } finally {
        await replica.close();
      }
    });

    it('another tenant may use the same id (ids are per tenant)', async () => {
      const otherToken = await t.auth.issueToken({
        subject: SUBJECT,
        tenant: newTenant(),
        scopes: ['events:write'],
      });
      const res = await post(
        fresh.app,
        otherToken,
        JSON.stringify({ ...stored, event_details: { mine: 1 } }),
      );
      expect(res.status).toBe(202);
      expect(((await res.json()) as Accepted).duplicates).toEqual([]);
    });
  });

  describe('nothing accepted that storage would drop', () => {
    it('a timestamp older than the retention → 400 expired saying why, counted, nothing published', async () => {
      const before = await topicMessageCount(kafka, topic);
      const res = await post(
        t.app,
        token,
        JSON.stringify(sampleEvent({ timestamp: '2020-01-01T00:00:00Z' })),
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('expired');
      expect(body.error.message).toMatch(
        /^timestamp is older than the retention of 365 days \(oldest accepted: .*\): it would never be stored$/,
      );
      expect(body.error.details).toEqual([
        {
          index: 0,
          issues: [{ path: 'timestamp', message: expect.stringMatching(/older than the retention/) }],
        },
      ]);
      expect(await metric(t, 'events_rejected_total', 'reason="expired"')).toBe(1);
      expect(await topicMessageCount(kafka, topic)).toBe(before);
    });

    it('a timestamp in 2105 (its TTL would wrap to 1970) → 400 timestamp_in_future', async () => {
      const res = await post(
        t.app,
        token,
        JSON.stringify([sampleEvent(), sampleEvent({ timestamp: '2105-06-01T00:00:00Z' })]),
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as ErrorBody;
      expect(body.error.code).toBe('timestamp_in_future');
      expect((body.error.details as { index: number }[]).map((d) => d.index)).toEqual([1]);
      expect(await metric(t, 'events_rejected_total', 'reason="timestamp_in_future"')).toBe(2);
    });
  });

  describe('Idempotency-Key', () => {
    const body = () =>
      [0, 1, 2].map((i) => {
        const { event_id: _, ...e } = sampleEvent({ user_id: `key-user-${i}`, event_details: { i } });
        return e;
      });
    const events = body();

    it('the ids derive from (tenant, key, index); a resend gets the same ids as duplicates', async () => {
      const key = randomUUID();
      const before = await topicMessageCount(kafka, topic);
      const first = await postWith(t, token, events, { 'idempotency-key': key });
      expect(first.status).toBe(202);
      const a = (await first.json()) as Accepted;
      expect(a.event_ids).toEqual([0, 1, 2].map((i) => idempotencyKeyEventId(tenant, key, i)));
      expect(a.duplicates).toEqual([]);
      const again = await postWith(t, token, events, { 'idempotency-key': `"${key}"` });
      expect(again.status).toBe(202);
      expect(await again.json()).toEqual({ accepted: 3, event_ids: a.event_ids, duplicates: a.event_ids });
      expect(await topicMessageCount(kafka, topic)).toBe(before + 3);
      // Another key: other ids, published.
      const other = await postWith(t, token, events, { 'idempotency-key': randomUUID() });
      expect(((await other.json()) as Accepted).duplicates).toEqual([]);
      expect(await topicMessageCount(kafka, topic)).toBe(before + 6);
    });

    it('the key reused for another request → 409 conflict', async () => {
      const key = randomUUID();
      expect((await postWith(t, token, events, { 'idempotency-key': key })).status).toBe(202);
      const res = await postWith(t, token, body().reverse(), { 'idempotency-key': key });
      expect(res.status).toBe(409);
      expect(((await res.json()) as ErrorBody).error.details).toEqual({
        event_ids: [idempotencyKeyEventId(tenant, key, 0), idempotencyKeyEventId(tenant, key, 2)],
      });
    });

    it('an event_id in the body wins over the key', async () => {
      const own = sampleEvent();
      const res = await postWith(t, token, [own, events[0]], { 'idempotency-key': 'order-1' });
      expect(((await res.json()) as Accepted).event_ids).toEqual([
        own.event_id,
        idempotencyKeyEventId(tenant, 'order-1', 1),
      ]);
    });

    it('a malformed key → 400 invalid_idempotency_key, nothing published', async () => {
      const before = await topicMessageCount(kafka, topic);
      const res = await postWith(t, token, events, { 'idempotency-key': 'no spaces allowed' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe('invalid_idempotency_key');
      expect(await topicMessageCount(kafka, topic)).toBe(before);
    });
  });

  describe('ClickHouse unavailable or slow: the check is skipped and the events are published', () => {
    it('refused connection → 202, counted as skipped (error)', async () => {
      const closed = net.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const down = await buildApp({
        kafka,
        topic,
        lookup: readerLookup({ url: `http://127.0.0.1:${port}` }),
      });
      try {
        const before = await topicMessageCount(kafka, topic);
        const res = await post(down.app, token, JSON.stringify(sampleEvent()));
        expect(res.status).toBe(202);
        expect(await topicMessageCount(kafka, topic)).toBe(before + 1);
        expect(await metric(down, 'ingest_id_check_skipped_total', 'reason="error"')).toBe(1);
      } finally {
        await down.close();
      }
    });

    it('a server that never answers → 202 after the lookup timeout, counted as skipped (timeout)', async () => {
      const sockets = new Set<net.Socket>();
      const silent = net.createServer((s) => sockets.add(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const slow = await buildApp({ kafka, topic, lookup: readerLookup({ url, timeoutMs: 200 }) });
      try {
        const res = await post(slow.app, token, JSON.stringify(sampleEvent()));
        expect(res.status).toBe(202);
        expect(await metric(slow, 'ingest_id_check_skipped_total', 'reason="timeout"')).toBe(1);
      } finally {
        await slow.close();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => silent.close(() => r()));
      }
    });
  });
});

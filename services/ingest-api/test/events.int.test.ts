import { startServer } from '@audit/http';
import { expectOfflineReference } from '@audit/http/test-reference';
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
  type TestApp,
  topicMessageCount,
} from './helpers.ts';

type Accepted = { accepted: number; event_ids: string[]; duplicates: string[] };

describe('POST /events against the real broker', () => {
  let kafka: Kafka;
  let topic: string;
  let t: TestApp;
  const tenant = newTenant();
  let token: string;
  const limits = {
    json: { maxEvents: 5, maxBytes: 4096 },
    ndjson: { maxEvents: 6, maxBytes: 8192 },
  };

  beforeAll(async () => {
    kafka = kafkaClient();
    topic = await createTopic(kafka);
    t = await buildApp({ kafka, topic, limits });
    token = await t.auth.issueToken({ subject: 'billing-service', tenant, scopes: ['events:write'] });
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('rejected requests write nothing', () => {
    const cases: [string, () => [string | Uint8Array, string], number, string][] = [
      [
        'one invalid item among valid ones',
        () => [
          JSON.stringify([sampleEvent(), { ...sampleEvent(), timestamp: 'yesterday' }, sampleEvent()]),
          'application/json',
        ],
        400,
        'validation_failed',
      ],
      ['malformed JSON', () => ['[{"event_type": ', 'application/json'], 400, 'invalid_json'],
      [
        'malformed NDJSON line',
        () => [`${JSON.stringify(sampleEvent())}\n{oops}\n`, 'application/x-ndjson'],
        400,
        'invalid_json',
      ],
      [
        'invalid UTF-8',
        () => [Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 'application/json'],
        400,
        'invalid_utf8',
      ],
      ['an empty array', () => ['[]', 'application/json'], 400, 'empty_body'],
      ['an empty body', () => ['', 'application/json'], 400, 'empty_body'],
      [
        'too many events',
        () => [JSON.stringify(Array.from({ length: 6 }, () => sampleEvent())), 'application/json'],
        413,
        'too_many_events',
      ],
      [
        'too many bytes',
        () => [JSON.stringify(sampleEvent({ event_details: { pad: 'x'.repeat(5000) } })), 'application/json'],
        413,
        'payload_too_large',
      ],
      [
        'another content type',
        () => [JSON.stringify(sampleEvent()), 'text/plain'],
        415,
        'unsupported_media_type',
      ],
      [
        "another tenant's event",
        () => [JSON.stringify([sampleEvent(), sampleEvent({ tenant_id: 'globex' })]), 'application/json'],
        403,
        'tenant_mismatch',
      ],
    ];

    it.each(cases)('%s → %i %s', async (_name, body, status, code) => {
      const [text, contentType] = body();
      const res = await post(t.app, token, text, contentType);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    });

    it('a chunked body (no Content-Length) over the byte limit → 413 while streaming', async () => {
      const server = await startServer(t.app.fetch, { port: 0, host: '127.0.0.1' });
      try {
        let chunks = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            // 1 KiB chunks up to 64 KiB: far more than the 4 KiB limit.
            if (chunks++ < 64) controller.enqueue(new Uint8Array(1024).fill(0x20));
            else controller.close();
          },
        });
        const res = await fetch(`${server.url}/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
          duplex: 'half',
        } as RequestInit);
        expect(res.status).toBe(413);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
      } finally {
        await server.close();
      }
    });

    it('left the topic empty', async () => {
      expect(await topicMessageCount(kafka, topic)).toBe(0);
    });
  });

  it('lists every invalid index with field paths and messages', async () => {
    const body = [
      sampleEvent(),
      { ...sampleEvent(), event_type: 'Not A Type' },
      sampleEvent(),
      { event_type: 'a.b', timestamp: '2026-01-02T03:04:05Z', user_id: 'u', bogus: 1 },
    ];
    const res = await post(t.app, token, JSON.stringify(body));
    expect(res.status).toBe(400);
    const err = (
      (await res.json()) as { error: { details: { index: number; issues: { path: string }[] }[] } }
    ).error;
    expect(err.details.map((d) => d.index)).toEqual([1, 3]);
    expect(err.details[0]!.issues.map((i) => i.path)).toEqual(['event_type']);
    expect(err.details[1]!.issues.some((i) => i.path === 'bogus' || i.path === '')).toBe(true);
  });

  it('reports the NDJSON line of an invalid event', async () => {
    const text = `${JSON.stringify(sampleEvent())}\n\n${JSON.stringify({ ...sampleEvent(), user_id: 42 })}\n`;
    const res = await post(t.app, token, text, 'application/x-ndjson');
    expect(res.status).toBe(400);
    const err = ((await res.json()) as { error: { details: unknown } }).error;
    expect(err.details).toEqual([
      { index: 1, line: 3, issues: [expect.objectContaining({ path: 'user_id' })] },
    ]);
  });

  describe('accepted events', () => {
    const sent: Record<string, unknown>[] = [];
    const ids: string[] = [];
    let generatedId = '';

    beforeAll(async () => {
      // One event, a JSON array, NDJSON, and an event without an event_id (server-generated).
      const single = sampleEvent({ source: 'crm', actor_type: 'user', ip: '10.0.0.1' });
      const batch = [sampleEvent(), sampleEvent()];
      const lines = [sampleEvent(), sampleEvent(), sampleEvent()];
      const { event_id: _, ...noId } = sampleEvent({ user_id: 'no-id-user' });
      const requests: [string, string, Record<string, unknown>[]][] = [
        [JSON.stringify(single), 'application/json; charset=utf-8', [single]],
        [JSON.stringify(batch), 'application/json', batch],
        [lines.map((l) => JSON.stringify(l)).join('\n'), 'application/x-ndjson', lines],
        [JSON.stringify(noId), 'application/json', [noId]],
      ];
      for (const [text, ct, events] of requests) {
        const res = await post(t.app, token, text, ct);
        expect(res.status).toBe(202);
        const body = (await res.json()) as Accepted;
        expect(body.accepted).toBe(events.length);
        sent.push(...events);
        ids.push(...body.event_ids);
      }
      generatedId = ids.at(-1)!;
    });

    it('returns the client event_ids, and a UUIDv7 when absent', () => {
      expect(ids.slice(0, -1)).toEqual(sent.slice(0, -1).map((e) => e.event_id));
      expect(generatedId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('puts each event on the topic exactly once with its content, key and headers', async () => {
      const messages = await readTopic(kafka, topic);
      expect(messages).toHaveLength(sent.length);
      const byId = new Map(messages.map((m) => [JSON.parse(m.value!.toString()).event_id as string, m]));
      expect([...byId.keys()].sort()).toEqual([...ids].sort());
      sent.forEach((input, i) => {
        const m = byId.get(ids[i]!)!;
        const value = JSON.parse(m.value!.toString()) as Record<string, unknown>;
        expect(value).toMatchObject({
          ...input,
          event_id: ids[i],
          tenant_id: tenant,
          source: input.source ?? 'billing-service',
          schema_version: 1,
        });
        expect(typeof value.received_at).toBe('string');
        // Keyed by id: every copy of one event_id lands on one partition (first write wins in order).
        expect(m.key!.toString()).toBe(`${tenant}/${ids[i]}`);
        expect(m.headers?.['content-type']?.toString()).toBe('application/json');
        expect(m.headers?.['schema-version']?.toString()).toBe('1');
      });
    });

    it('acknowledges an identical resend as duplicates without publishing it again', async () => {
      const again = sent.slice(1, 3);
      const before = await topicMessageCount(kafka, topic);
      const res = await post(t.app, token, JSON.stringify(again));
      expect(res.status).toBe(202);
      const body = (await res.json()) as Accepted;
      expect(body).toEqual({
        accepted: 2,
        event_ids: again.map((e) => e.event_id),
        duplicates: body.event_ids,
      });
      expect(await topicMessageCount(kafka, topic)).toBe(before);
    });

    it('counts accepted and rejected events in /metrics', async () => {
      const text = await (await t.app.request('/metrics')).text();
      // 7 published; the resend of 2 is counted as duplicates and was not sent to Kafka.
      expect(text).toMatch(/^events_accepted_total\{[^}]*\} 7$/m);
      expect(text).toMatch(/^events_duplicate_total\{[^}]*\} 2$/m);
      // 3 + 4 + 2 events in the three validation failures above.
      expect(text).toMatch(/^events_rejected_total\{[^}]*reason="validation_failed"[^}]*\} 9$/m);
      expect(text).toMatch(/^events_rejected_total\{[^}]*reason="tenant_mismatch"[^}]*\} 2$/m);
      expect(text).toMatch(/^kafka_send_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} 4$/m);
    });
  });

  it('is ready when Kafka answers', async () => {
    const res = await t.app.request('/readyz');
    expect(res.status).toBe(200);
  });

  it('serves OpenAPI 3.1 with the event schema, and the docs page', async () => {
    const doc = (await (await t.app.request('/openapi.json')).json()) as {
      openapi: string;
      components: { schemas: { Event: { properties: Record<string, unknown>; required: string[] } } };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.schemas.Event.required).toEqual(
      expect.arrayContaining(['event_type', 'timestamp', 'user_id']),
    );
    const post = (
      doc as unknown as {
        paths: {
          '/events': { post: { parameters: { name: string }[]; responses: Record<string, unknown> } };
        };
      }
    ).paths['/events'].post;
    expect(post.parameters.map((p) => p.name)).toEqual(['Idempotency-Key']);
    expect(Object.keys(post.responses).sort()).toEqual([
      '202',
      '400',
      '401',
      '403',
      '409',
      '413',
      '415',
      '429',
      '503',
    ]);
    expect(JSON.stringify(post.responses['503'])).toContain('may_have_been_written');
    await expectOfflineReference(t.app);
  });
});

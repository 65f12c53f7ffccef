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

// event_details is stored flattened (keys joined by '.'): two nodes with one path could not both
// be stored, and the empty key could not be found again, so ingest refuses both by name.
describe('POST /events: event_details paths', () => {
  let kafka: Kafka;
  let topic: string;
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    kafka = kafkaClient();
    topic = await createTopic(kafka, 1);
    t = await buildApp({ kafka, topic });
    token = await t.auth.issueToken({ subject: 'billing', tenant: newTenant(), scopes: ['events:write'] });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    [{ 'a.b': 'flat', a: { b: 'nested' } }, 'event_details.a.b', 'flattens to the path "a.b" of another key'],
    [{ a: { b: 'nested' }, 'a.b': 'flat' }, 'event_details.a.b', 'flattens to the path "a.b" of another key'],
    [{ 'items.0': 'x', items: ['y'] }, 'event_details.items.0', 'flattens to the path "items.0"'],
    [{ '': 'x' }, 'event_details.', 'key must not be empty'],
  ])('refuses %j with a 400 naming %s, and writes nothing', async (details, path, message) => {
    const res = await post(
      t.app,
      token,
      JSON.stringify([sampleEvent(), sampleEvent({ event_details: details })]),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: { code: string; details: { index: number; issues: { path: string; message: string }[] }[] };
    };
    expect(body.error.code).toBe('validation_failed');
    expect(body.error.details).toHaveLength(1);
    expect(body.error.details[0]!.index).toBe(1);
    expect(body.error.details[0]!.issues).toHaveLength(1);
    expect(body.error.details[0]!.issues[0]!.path).toBe(path);
    expect(body.error.details[0]!.issues[0]!.message).toContain(message);
    expect(await topicMessageCount(kafka, topic)).toBe(0);
  });

  it('accepts dotted keys that collide with nothing, Unicode keys and keys with spaces', async () => {
    const details = { 'a.b': 1, a: { c: 2 }, ключ: 'значение', 'with space': 's', 'tags[0]': 'x' };
    const res = await post(t.app, token, JSON.stringify(sampleEvent({ event_details: details })));
    expect(res.status).toBe(202);
    const messages = await readTopic(kafka, topic);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!.value!.toString()).event_details).toEqual(details);
  });
});

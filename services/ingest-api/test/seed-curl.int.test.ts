import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RunningServer, startServer } from '@audit/http';
import type { Kafka } from '@audit/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildApp,
  createTopic,
  DEV_USERS_FILE,
  kafkaClient,
  RECENT_TIMESTAMP,
  readTopic,
  type TestApp,
} from './helpers.ts';

const run = promisify(execFile);

/** The seed document's curl commands, verbatim except host and port, against a served app. */
describe("the seed's curl commands", () => {
  let kafka: Kafka;
  let topic: string;
  let t: TestApp;
  let server: RunningServer;
  let token = '';

  async function curl(args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
    const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...args]);
    const nl = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(nl + 1)), body: JSON.parse(stdout.slice(0, nl)) };
  }

  beforeAll(async () => {
    kafka = kafkaClient();
    topic = await createTopic(kafka);
    t = await buildApp({ kafka, topic, usersFile: DEV_USERS_FILE });
    server = await startServer(t.app.fetch, { port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('login with the documented dev user', async () => {
    const r = await curl([
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"username":"acme-producer", "password":"devpass"}',
      `${server.url}/login`,
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', token: expect.any(String) });
    token = r.body.token as string;
  });

  it('the placeholder body gets a 400 naming the missing and the unknown fields', async () => {
    const r = await curl([
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-H',
      `Authorization: ${token}`,
      '-d',
      '{"key1":"value1", "key2":"value2"}',
      `${server.url}/events`,
    ]);
    expect(r.status).toBe(400);
    const error = r.body.error as { code: string; details: { index: number; issues: { path: string }[] }[] };
    expect(error.code).toBe('validation_failed');
    const paths = error.details[0]!.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['event_type', 'timestamp', 'user_id']));
    expect(JSON.stringify(error)).toContain('key1');
    expect(JSON.stringify(error)).toContain('key2');
    expect(await readTopic(kafka, topic)).toHaveLength(0);
  });

  it('a real event as the body gets 202 and lands on the topic for tenant acme', async () => {
    // The seed's event with a recent timestamp (a fixed date would fall out of the retention).
    const event = `{"event_type":"customer.account.created","timestamp":"${RECENT_TIMESTAMP}","user_id":"u-42","event_details":{"plan":"pro"}}`;
    const r = await curl([
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-H',
      `Authorization: ${token}`,
      '-d',
      event,
      `${server.url}/events`,
    ]);
    expect(r.status).toBe(202);
    const ids = r.body.event_ids as string[];
    expect(r.body.accepted).toBe(1);
    const messages = await readTopic(kafka, topic);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!.value!.toString())).toMatchObject({
      event_id: ids[0],
      tenant_id: 'acme',
      source: 'acme-producer',
      user_id: 'u-42',
      event_details: { plan: 'pro' },
    });
  });
});

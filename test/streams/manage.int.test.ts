import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../e2e/pipeline.ts';
import { type StreamsStack, type StreamTenant, startStreamsStack } from './harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from './receivers/index.ts';

/**
 * Managing streams through the API on the real stack: what it refuses, test deliveries, pause and
 * resume, suspension after failing (and that its backlog is kept), secret rotation, secrets never
 * readable, and every change recorded in the tenant's trail.
 */
let s: StreamsStack;
let a: StreamTenant;
let b: StreamTenant;
let rx: WebhookReceiver;
let streamId: string;
let secret: string;

const waitUntil = async (what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await sleep(300);
  }
  throw new Error(`not within ${timeoutMs} ms: ${what}`);
};
/** A POST on a connection of its own (no keep-alive), answering the status. */
function rawPost(url: string, token: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const has = (ids: string[]) => () => {
  const got = rx.records().events();
  return ids.every((id) => got.has(id));
};

beforeAll(async () => {
  s = await startStreamsStack('manage', { STREAMER_SUSPEND_AFTER_MS: '4000' });
  [a, b] = s.tenants;
  rx = await startWebhookReceiver({ secrets: [] });
  const r = await s.api<{ stream_id: string; signing_secret: string }>(a, 'POST', '/streams', {
    name: 'hook',
    destination: { type: 'webhook', url: rx.url, ca: rx.ca },
    batch: { max_events: 50, max_wait_ms: 200 },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  streamId = r.body.stream_id;
  secret = r.body.signing_secret;
  expect(secret).toMatch(/^whsec_/);
  rx.setSecrets([secret]);
}, 240_000);

afterAll(async () => {
  await s?.stop();
  await rx?.close();
});

describe('the streams API', () => {
  it('refuses what it must, with a 4xx JSON error', async () => {
    const post = (body: unknown, token?: string) =>
      s.api<{ error?: { code: string } }>(a, 'POST', '/streams', body, token);
    const hook = { type: 'webhook', url: rx.url };
    expect((await post({ name: 'x', destination: hook }, a.readToken)).status).toBe(403);
    expect((await post({ name: 'x', destination: hook }, 'not-a-token')).status).toBe(401);
    for (const [body, code] of [
      [{ name: 'x', destination: { type: 'webhook', url: 'ftp://example.com/' } }, 'invalid_request'],
      [{ name: 'x', destination: { type: 'webhook', url: 'https://u:p@example.com/' } }, 'invalid_request'],
      [{ name: 'x', destination: { type: 's3', bucket: 'b' } }, 'invalid_request'],
      [{ name: 'x', destination: hook, extra: 1 }, 'invalid_request'],
      [{ name: 'x', destination: { ...hook, secret: 'whsec_mine' } }, 'invalid_request'],
      [{ name: 'x', destination: { type: 'splunk', url: rx.url } }, 'invalid_request'],
      [{ name: 'x', destination: { type: 'syslog', host: 'a b', port: 1 } }, 'invalid_request'],
      [{ name: 'x', filter: 'from=2026-01-01T00:00:00Z', destination: hook }, 'invalid_filter'],
      [{ name: 'x', filter: 'nosuchfield=1', destination: hook }, 'invalid_filter'],
      [{ name: 'x', filter: 'details.amount[gt]=abc', destination: hook }, 'invalid_filter'],
      [{ name: '', destination: hook }, 'invalid_request'],
      [
        {
          name: 'x',
          destination: { ...hook, ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
        },
        'invalid_request',
      ],
      [{ name: 'x', destination: hook, batch: { max_events: 100_000 } }, 'invalid_request'],
    ] as const) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code, JSON.stringify(r.body)).toBe(code);
    }
    // On its own connection: the server answers 413 and closes it while the body is still coming.
    const big = await rawPost(`${s.query.url}/streams`, a.manageToken, {
      name: 'x',
      destination: { ...hook, ca: `-----BEGIN CERTIFICATE-----${'A'.repeat(200_000)}` },
    });
    expect(big).toBe(413);
    expect((await s.api(a, 'GET', '/streams/st_nope')).status).toBe(404);
    expect((await s.api(b, 'DELETE', `/streams/${streamId}`)).status).toBe(404);
    expect((await s.api(a, 'PUT', `/streams/${streamId}`, {})).status).toBe(405);
  });

  it('never returns or stores a secret in the clear', async () => {
    const token = `hec-${randomUUID()}`;
    const r = await s.api<{ stream_id: string; destination: Record<string, unknown> }>(
      a,
      'POST',
      '/streams',
      {
        name: 'splunk',
        destination: {
          type: 'splunk',
          url: 'https://splunk.example.com:8088/services/collector/event',
          token,
        },
      },
    );
    expect(r.status).toBe(201);
    expect(JSON.stringify(r.body)).not.toContain(token);
    const got = await s.api(a, 'GET', `/streams/${r.body.stream_id}`);
    expect(JSON.stringify(got.body)).not.toContain(token);
    const cfg = loadConfig(stackSchema, process.env);
    const admin = createClickHouse(cfg, 'admin');
    const rows = await (
      await admin.query({
        query: 'SELECT * FROM audit_control.stream_versions WHERE stream_id = {id:String}',
        query_params: { id: r.body.stream_id },
        format: 'JSONEachRow',
      })
    ).json();
    await admin.close();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect((await s.api(a, 'DELETE', `/streams/${r.body.stream_id}`)).status).toBe(204);
    expect((await s.api(a, 'GET', `/streams/${r.body.stream_id}`)).status).toBe(404);
  });

  it('a test delivery goes through the streamer and says what the destination answered', async () => {
    // The receiver may still be finishing the stream's first connection on a loaded machine: a
    // test delivery is one attempt, so a failed one is asked again (at most twice) and each
    // answer is kept for the message.
    const answers: unknown[] = [];
    let ok = await s.api<{ ok: boolean; done: boolean; test_id: string; error?: string }>(
      a,
      'POST',
      `/streams/${streamId}/test`,
    );
    for (let i = 0; i < 2 && !(ok.status === 200 && ok.body.ok); i++) {
      answers.push(ok.body);
      await new Promise((r) => setTimeout(r, 1000));
      ok = await s.api(a, 'POST', `/streams/${streamId}/test`);
    }
    expect(ok.status, JSON.stringify([...answers, ok.body])).toBe(200);
    expect(ok.body, JSON.stringify(answers)).toMatchObject({ done: true, ok: true });
    expect(
      rx
        .records()
        .firstArrival()
        .some((e) => e.event_type === 'audit.stream.test'),
    ).toBe(true);
    await rx.faults.set({ mode: 'status', status: 503 }, { times: 1 });
    const bad = await s.api<{ ok: boolean; status: number; error: string }>(
      a,
      'POST',
      `/streams/${streamId}/test`,
    );
    expect(bad.body).toMatchObject({ ok: false, status: 503 });
  });

  it('pause holds delivery, resume delivers what came meanwhile', async () => {
    await sleep(1500);
    const first = await s.post(a, 100);
    await waitUntil('first events', has(first));
    expect((await s.api<{ state: string }>(a, 'POST', `/streams/${streamId}/pause`)).body.state).toBe(
      'paused',
    );
    await sleep(1500);
    const during = await s.post(a, 100);
    await sleep(3000);
    const got = rx.records().events();
    expect(during.filter((id) => got.has(id))).toEqual([]);
    expect((await s.api<{ state: string }>(a, 'POST', `/streams/${streamId}/resume`)).body.state).toBe(
      'active',
    );
    await waitUntil('events posted while paused', has(during));
  });

  it('a destination failing for STREAMER_SUSPEND_AFTER_MS suspends the stream; its backlog is delivered on resume', async () => {
    await rx.faults.set({ mode: 'down' });
    const early = await s.post(a, 50);
    await waitUntil('suspended', async () => {
      const r = await s.api<{ state: string }>(a, 'GET', `/streams/${streamId}`);
      return r.body.state === 'suspended';
    });
    const r = await s.api<{ state_reason: string; status: { last_error: string; failed: number } }>(
      a,
      'GET',
      `/streams/${streamId}`,
    );
    expect(r.body.state_reason).toMatch(/failing for/);
    const late = await s.post(a, 50);
    await rx.faults.set({ mode: 'ok' });
    await sleep(3000);
    const got = rx.records().events();
    expect(late.filter((id) => got.has(id))).toEqual([]);
    expect((await s.api<{ state: string }>(a, 'POST', `/streams/${streamId}/resume`)).body.state).toBe(
      'active',
    );
    await waitUntil('the backlog after resume', has([...early, ...late]));
  }, 120_000);

  it('rotating the webhook secret: both sign during the grace, then only the new one', async () => {
    const r = await s.api<{ signing_secret: string; previous_secret_valid_until: string }>(
      a,
      'POST',
      `/streams/${streamId}/secret`,
      { grace_seconds: 3600 },
    );
    expect(r.status).toBe(200);
    const fresh = r.body.signing_secret;
    expect(fresh).not.toBe(secret);
    rx.setSecrets([secret]);
    await sleep(1500);
    const withOld = await s.post(a, 20);
    await waitUntil('verified with the old secret', has(withOld));
    rx.setSecrets([fresh]);
    const withNew = await s.post(a, 20);
    await waitUntil('verified with the new secret', has(withNew));
    const none = await s.api<{ signing_secret: string }>(a, 'POST', `/streams/${streamId}/secret`, {
      grace_seconds: 0,
    });
    rx.setSecrets([fresh]);
    await sleep(1500);
    const rejectedBefore = rx.records().rejected.badSignature ?? 0;
    await s.post(a, 5);
    await waitUntil(
      'old secret refused',
      () => (rx.records().rejected.badSignature ?? 0) > rejectedBefore,
      30_000,
    );
    rx.setSecrets([none.body.signing_secret]);
  }, 120_000);

  it('every change is a record in the tenant’s own trail', async () => {
    const types = new Set<string>();
    const consumer = s.kafka.consumer({ groupId: `e2e-records-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: s.topic, fromBeginning: true });
    const want = [
      'audit.stream.created',
      'audit.stream.paused',
      'audit.stream.resumed',
      'audit.stream.tested',
      'audit.stream.secret_rotated',
      'audit.stream.deleted',
    ];
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const e = JSON.parse(message.value!.toString()) as { event_type: string; tenant_id: string };
          if (e.tenant_id === a.id && e.event_type.startsWith('audit.stream.')) types.add(e.event_type);
          if (want.every((t) => types.has(t))) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    expect([...types].sort()).toEqual([...want].sort());
  });
});

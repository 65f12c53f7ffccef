import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  checkAuditEvent,
  type DatadogReceiver,
  parseStructuredData,
  type SplunkReceiver,
  type SyslogReceiver,
  splitConcatenated,
  startDatadogReceiver,
  startSplunkReceiver,
  startSyslogReceiver,
  startWebhookReceiver,
  type WebhookReceiver,
} from './receivers/index.ts';

/**
 * The streams tests' receivers, driven by plain Node clients with hand-built requests: each
 * wire-format check accepts a valid request and is shown to refuse a request that breaks it,
 * the fault switch really refuses, fails, throttles and hangs, and rsyslogd really receives
 * octet-counted frames over TLS and dies with its owner.
 */

function makeEvent(tenant: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event_id: randomUUID(),
    event_type: 'customer.account.created',
    timestamp: new Date(Date.now() - 60_000 + Math.floor(Math.random() * 1000)).toISOString(),
    received_at: new Date().toISOString(),
    tenant_id: tenant,
    source: 'receivers-test',
    user_id: 'u-1',
    schema_version: 1,
    event_details: { plan: 'pro', note: 'quotes " and \\ and ünïcode' },
    ...extra,
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

function post(
  url: string,
  options: {
    headers?: Record<string, string>;
    body?: string | Buffer;
    ca?: string;
    method?: string;
    agent?: http.Agent | false;
  },
): Promise<Answer> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: options.method ?? 'POST',
        headers: options.headers,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.agent !== undefined ? { agent: options.agent } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('Standard Webhooks receiver', () => {
  const secret = `whsec_${Buffer.from('first secret of 24 bytes').toString('base64')}`;
  const rotated = `whsec_${Buffer.from('second secret, rotated in').toString('base64')}`;
  const stranger = `whsec_${Buffer.from('a secret nobody configured').toString('base64')}`;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secrets: [secret, rotated] });
  });
  afterAll(() => receiver?.close());

  const sign = (key: string, id: string, ts: string, body: string) =>
    `v1,${createHmac('sha256', Buffer.from(key.slice('whsec_'.length), 'base64'))
      .update(`${id}.${ts}.${body}`)
      .digest('base64')}`;
  const batch = (tenant: string, events: AuditEvent[]) =>
    JSON.stringify({
      type: 'audit.events',
      timestamp: new Date().toISOString(),
      data: { stream_id: 'stream-1', tenant_id: tenant, events },
    });
  const deliver = (
    body: string,
    opts: { id?: string; ts?: string; signature?: string; headers?: Record<string, string> } = {},
  ) => {
    const id = opts.id ?? `msg_${randomUUID()}`;
    const ts = opts.ts ?? String(Math.floor(Date.now() / 1000));
    return post(receiver.url, {
      ca: receiver.ca,
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': ts,
        'webhook-signature': opts.signature ?? sign(secret, id, ts, body),
        ...opts.headers,
      },
    });
  };

  it('accepts signed batches over HTTPS, counts events, first arrivals, tenants and webhook-ids', async () => {
    const [a, b, c] = [makeEvent('acme'), makeEvent('acme'), makeEvent('acme')];
    const first = await deliver(batch('acme', [a!, b!]), { id: 'msg_retried' });
    expect(first.status).toBe(204);
    // The same batch again under the same webhook-id, as a retry after a lost answer would be.
    expect((await deliver(batch('acme', [a!, b!]), { id: 'msg_retried' })).status).toBe(204);
    // Rotation: a header listing an unknown and the new signature passes on the new one.
    const body = batch('acme', [c!]);
    const ts = String(Math.floor(Date.now() / 1000));
    const both = `${sign(stranger, 'msg_rot', ts, body)} ${sign(rotated, 'msg_rot', ts, body)}`;
    expect((await deliver(body, { id: 'msg_rot', ts, signature: both })).status).toBe(204);

    const r = receiver.records();
    expect(r.deliveries).toBe(3);
    expect(r.rejected).toEqual({});
    expect(r.events()).toEqual(
      new Map([
        [a!.event_id, 2],
        [b!.event_id, 2],
        [c!.event_id, 1],
      ]),
    );
    expect(r.firstArrival().map((e) => e.event_id)).toEqual([a!.event_id, b!.event_id, c!.event_id]);
    expect(r.firstArrival()[0]).toEqual(a);
    expect(r.tenants()).toEqual(new Set(['acme']));
    expect(r.webhookIds().get('msg_retried')).toBe(2);
    expect(r.webhookIds().get('msg_rot')).toBe(1);
  });

  it("verifies the spec's own example signature", async () => {
    // standardwebhooks.com's example: signature correct, timestamp from 2021, body not ours.
    const old = await startWebhookReceiver({
      secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
      toleranceSeconds: 1e10,
    });
    try {
      const headers = {
        'content-type': 'application/json',
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
      };
      const body = '{"test": 2432232314}';
      const good = await post(old.url, {
        ca: old.ca,
        body,
        headers: { ...headers, 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
      });
      const bad = await post(old.url, {
        ca: old.ca,
        body,
        headers: { ...headers, 'webhook-signature': 'v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' },
      });
      expect([good.status, bad.status]).toEqual([400, 401]);
      expect(old.records().rejected).toEqual({ badBody: 1, badSignature: 1 });
    } finally {
      await old.close();
    }
  });

  it('refuses every broken request with its reason, and accepts none of their events', async () => {
    const before = receiver.records();
    const now = Math.floor(Date.now() / 1000);
    const ok = batch('acme', [makeEvent('acme')]);
    const id = 'msg_x';
    const answers = [
      await post(receiver.url, { ca: receiver.ca, method: 'PUT', body: ok }),
      await deliver(ok, { headers: { 'content-type': 'text/plain' } }),
      await post(receiver.url, {
        ca: receiver.ca,
        body: ok,
        headers: { 'content-type': 'application/json' },
      }),
      await deliver(ok, { ts: '1.5e9' }),
      await deliver(ok, { ts: String(now - 301) }),
      await deliver(ok, { ts: String(now + 301) }),
      await deliver(ok, { id, ts: String(now), signature: sign(stranger, id, String(now), ok) }),
      await deliver(`${ok} `, { id, ts: String(now), signature: sign(secret, id, String(now), ok) }),
      await deliver(ok, { id, ts: String(now), signature: sign(secret, id, String(now + 1), ok) }),
      await deliver(ok, { signature: sign(secret, id, String(now), ok).replace('v1,', 'v2,') }),
      await deliver('{"type":"audit.events"'),
      await deliver(JSON.stringify({ ...JSON.parse(ok), type: 'audit.event' })),
      await deliver(batch('acme', [])),
      await deliver('[]'),
      await deliver(JSON.stringify({ type: 'audit.events', timestamp: new Date().toISOString() })),
      await deliver(JSON.stringify({ ...JSON.parse(ok), data: { ...JSON.parse(ok).data, stream_id: '' } })),
      await deliver(
        JSON.stringify({ ...JSON.parse(ok), data: { ...JSON.parse(ok).data, tenant_id: undefined } }),
      ),
      await deliver('x'.repeat(16 * 1024 * 1024 + 1)),
      await deliver(
        JSON.stringify({ type: 'audit.events', timestamp: 'yesterday', data: JSON.parse(ok).data }),
      ),
      await deliver(batch('acme', [{ ...makeEvent('acme'), event_id: 'not-a-uuid' }])),
      await deliver(batch('acme', [{ ...makeEvent('acme'), event_details: 'flat' as never }])),
      await deliver(batch('acme', [makeEvent('acme'), makeEvent('globex')])),
    ];
    expect(answers.map((a) => a.status)).toEqual([
      405, 415, 400, 400, 401, 401, 401, 401, 401, 401, 400, 400, 400, 400, 400, 400, 400, 413, 400, 400, 400,
      400,
    ]);
    const after = receiver.records();
    expect(after.deliveries).toBe(before.deliveries);
    expect(after.events().size).toBe(before.events().size);
    expect(after.rejected).toEqual({
      wrongMethod: 1,
      badContentType: 1,
      missingHeaders: 1,
      badTimestamp: 1,
      staleTimestamp: 2,
      badSignature: 4,
      badBody: 10,
      tooLarge: 1,
      crossTenant: 1,
    });
    expect(after.tenants()).toEqual(new Set(['acme']));
  });

  it('stops verifying the old secret once it is rotated out', async () => {
    receiver.setSecrets([rotated]);
    try {
      const body = batch('acme', [makeEvent('acme')]);
      const ts = String(Math.floor(Date.now() / 1000));
      expect(
        (await deliver(body, { id: 'msg_o', ts, signature: sign(secret, 'msg_o', ts, body) })).status,
      ).toBe(401);
      expect(
        (await deliver(body, { id: 'msg_n', ts, signature: sign(rotated, 'msg_n', ts, body) })).status,
      ).toBe(204);
    } finally {
      receiver.setSecrets([secret, rotated]);
    }
  });

  it('is trusted only through its own CA', async () => {
    await expect(post(receiver.url, { body: '{}' })).rejects.toThrow(/self-signed|certificate/);
  });
});

describe('Splunk HEC receiver', () => {
  const token = '11111111-2222-3333-4444-555555555555';
  let receiver: SplunkReceiver;
  beforeAll(async () => {
    receiver = await startSplunkReceiver({ token, path: '/services/collector/event' });
  });
  afterAll(() => receiver?.close());

  const url = () => `${receiver.url}/services/collector/event`;
  const envelope = (event: AuditEvent, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      time: Date.parse(event.timestamp) / 1000,
      host: 'audit-log',
      source: 'audit-log',
      sourcetype: '_json',
      index: 'main',
      event,
      ...extra,
    });
  const send = (body: string | Buffer, headers: Record<string, string> = {}) =>
    post(url(), { body, headers: { authorization: `Splunk ${token}`, ...headers } });

  it('accepts concatenated envelopes (newline-separated, or not at all) and gzip', async () => {
    const events = [makeEvent('acme'), makeEvent('acme'), makeEvent('acme'), makeEvent('acme')];
    const [e0, e1, e2, e3] = events as [AuditEvent, AuditEvent, AuditEvent, AuditEvent];
    const ok = await send(`${envelope(e0)}\n${envelope(e1)}${envelope(e2)}\n`);
    expect([ok.status, ok.json]).toEqual([200, { text: 'Success', code: 0 }]);
    const zipped = await send(gzipSync(envelope(e3, { host: undefined })), { 'content-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    const r = receiver.records();
    expect(r.deliveries).toBe(2);
    expect(r.firstArrival()).toEqual(events);
    expect(r.rejected).toEqual({});
  });

  it("answers Splunk's codes for every broken request", async () => {
    const e = makeEvent('acme');
    const cases: [Promise<Answer>, number, Record<string, unknown>][] = [
      [post(url(), { body: envelope(e) }), 401, { text: 'Token is required', code: 2 }],
      [
        send(envelope(e), { authorization: `Bearer ${token}` }),
        401,
        { text: 'Invalid authorization', code: 3 },
      ],
      [send(envelope(e), { authorization: 'Splunk nope' }), 403, { text: 'Invalid token', code: 4 }],
      [send(' \n'), 400, { text: 'No data', code: 5 }],
      [send(`[${envelope(e)}]`), 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 }],
      [
        send(`${envelope(e)}\n{"time":1,`),
        400,
        { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 },
      ],
      [send(`${envelope(e)}x`), 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 }],
      [
        send('{"time": 1, "host": "h"}'),
        400,
        { text: 'Event field is required', code: 12, 'invalid-event-number': 0 },
      ],
      [
        send(envelope(e, { event: '' })),
        400,
        { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 },
      ],
      [send(envelope(e, { time: Date.now() / 1000 })), 400, { code: 6, 'invalid-event-number': 0 }],
      [send(envelope(e, { time: String(Date.parse(e.timestamp) / 1000) })), 400, { code: 6 }],
      [send(envelope(e, { sourcetype: 7 })), 400, { code: 6 }],
      [send(envelope({ ...e, tenant_id: '' })), 400, { code: 6 }],
      [
        send(`${envelope(e)}${envelope({ ...e, event_id: 'x' })}`),
        400,
        { code: 6, 'invalid-event-number': 1 },
      ],
      [send(envelope(e), { 'content-encoding': 'gzip' }), 400, { code: 6 }],
      [post(`${receiver.url}/services/collector/raw`, { body: envelope(e) }), 404, { code: 404 }],
      [post(url(), { method: 'GET', headers: { authorization: `Splunk ${token}` } }), 405, {}],
    ];
    for (const [answer, status, body] of cases) {
      const a = await answer;
      expect([a.status, a.json]).toEqual([status, expect.objectContaining(body)]);
    }
    const r = receiver.records();
    expect(r.events().has(e.event_id)).toBe(false);
    expect(r.rejected).toEqual({
      missingToken: 1,
      badAuthorization: 1,
      badToken: 1,
      noData: 1,
      badFormat: 5,
      missingEvent: 1,
      blankEvent: 1,
      timeMismatch: 1,
      badEvent: 2,
      badEncoding: 1,
      wrongPath: 1,
      wrongMethod: 1,
    });
  });

  it('serves HTTPS with its own CA when asked', async () => {
    const secure = await startSplunkReceiver({ token, tls: true });
    try {
      const e = makeEvent('acme');
      const a = await post(`${secure.url}/services/collector/event`, {
        ca: secure.ca!,
        body: envelope(e),
        headers: { authorization: `Splunk ${token}` },
      });
      expect(a.status).toBe(200);
      expect(secure.records().events().get(e.event_id)).toBe(1);
    } finally {
      await secure.close();
    }
  });

  it('splits concatenated JSON exactly at object boundaries, braces in strings included', () => {
    expect(splitConcatenated('{"a":"}{"}\n{"b":{"c":[1,{"d":"\\"}"}]}}{}')).toEqual([
      { value: { a: '}{' } },
      { value: { b: { c: [1, { d: '"}' }] } } },
      { value: {} },
    ]);
  });
});

describe('Datadog logs intake receiver', () => {
  const apiKey = 'dd-key-0123456789abcdef';
  let receiver: DatadogReceiver;
  beforeAll(async () => {
    receiver = await startDatadogReceiver({ apiKey });
  });
  afterAll(() => receiver?.close());

  const url = () => `${receiver.url}/api/v2/logs`;
  const entry = (event: AuditEvent, extra: Record<string, unknown> = {}) => ({
    ddsource: 'audit-log',
    ddtags: `tenant_id:${event.tenant_id},env:test`,
    hostname: 'audit-log',
    service: 'audit-log',
    message: JSON.stringify(event),
    ...extra,
  });
  const send = (body: string | Buffer, headers: Record<string, string> = {}) =>
    post(url(), { body, headers: { 'dd-api-key': apiKey, 'content-type': 'application/json', ...headers } });

  it('accepts an array of entries, plain or gzip, and answers 202 {}', async () => {
    const [a, b, c] = [makeEvent('acme'), makeEvent('acme'), makeEvent('globex')];
    const plain = await send(JSON.stringify([entry(a!), entry(b!)]));
    expect([plain.status, plain.json]).toEqual([202, {}]);
    const zipped = await send(gzipSync(JSON.stringify([entry(c!)])), { 'content-encoding': 'gzip' });
    expect(zipped.status).toBe(202);
    const r = receiver.records();
    expect(r.deliveries).toBe(2);
    expect(r.firstArrival()).toEqual([a, b, c]);
    expect(r.tenants()).toEqual(new Set(['acme', 'globex']));
  });

  it('refuses what Datadog would, and more than 1 MB in one entry', async () => {
    const e = makeEvent('acme');
    const big = (bytes: number) => makeEvent('acme', { event_details: { pad: 'x'.repeat(bytes) } });
    const many = Array.from({ length: 1001 }, () => entry(e));
    // Six entries of 0.9 MB: each within its limit, together over 5 MB.
    const heavy = Array.from({ length: 6 }, () => entry(big(900_000)));
    const cases: [Promise<Answer>, number][] = [
      [
        post(url(), { body: JSON.stringify([entry(e)]), headers: { 'content-type': 'application/json' } }),
        401,
      ],
      [send(JSON.stringify([entry(e)]), { 'dd-api-key': 'wrong' }), 403],
      [send(JSON.stringify([entry(e)]), { 'content-type': 'text/plain' }), 400],
      [send('[{"ddsource":'), 400],
      [send(JSON.stringify(entry(e))), 400],
      [send('[]'), 400],
      [send(JSON.stringify(many)), 413],
      [send(JSON.stringify(heavy)), 413],
      [send(gzipSync(JSON.stringify(heavy)), { 'content-encoding': 'gzip' }), 413],
      [send(JSON.stringify([entry(big(1_000_000))])), 413],
      [send(JSON.stringify([entry(e, { message: 'not json' })])), 400],
      [send(JSON.stringify([entry(e, { message: JSON.stringify({ ...e, event_id: undefined }) })])), 400],
      [send(JSON.stringify([entry(e, { ddtags: 'env:test' })])), 400],
      [send(JSON.stringify([entry(e, { ddtags: 'tenant_id:globex' })])), 400],
      [send(JSON.stringify([entry(e, { ddtags: `tenant_id:acme,tenant_id:globex` })])), 400],
      [send(JSON.stringify([entry(e, { ddtags: 'tenant_id:acme,oops' })])), 400],
      [send(JSON.stringify([entry(e, { hostname: undefined })])), 400],
      [send(JSON.stringify([entry(e)]), { 'content-encoding': 'br' }), 400],
      [post(`${receiver.url}/v1/input`, { body: '[]', headers: { 'dd-api-key': apiKey } }), 404],
      [post(url(), { method: 'GET', headers: { 'dd-api-key': apiKey } }), 405],
      [send('[1]'), 400],
    ];
    const statuses = [];
    for (const [answer] of cases) statuses.push((await answer).status);
    expect(statuses).toEqual(cases.map(([, status]) => status));
    const r = receiver.records();
    expect(r.events().has(e.event_id)).toBe(false);
    expect(r.rejected).toEqual({
      missingApiKey: 1,
      badApiKey: 1,
      badContentType: 1,
      badJson: 1,
      notArray: 1,
      tooManyEntries: 1,
      tooLarge: 2,
      entryTooLarge: 1,
      badEntry: 6,
      tenantTagMismatch: 3,
      badEncoding: 1,
      wrongPath: 1,
      wrongMethod: 1,
    });
    expect(r.rejections.filter((x) => x.reason === 'badEntry')[1]?.detail).toMatch(
      /^entry 0: message is not JSON/,
    );
  });
});

describe('fault switch', () => {
  const apiKey = 'k';
  let receiver: DatadogReceiver;
  beforeAll(async () => {
    receiver = await startDatadogReceiver({ apiKey });
  });
  afterAll(() => receiver?.close());

  const body = () =>
    JSON.stringify([
      {
        ddsource: 's',
        ddtags: 'tenant_id:acme',
        hostname: 'h',
        service: 's',
        message: JSON.stringify(makeEvent('acme')),
      },
    ]);
  // A fresh connection per request unless a test passes its keep-alive agent.
  const send = (agent: http.Agent | false = false) =>
    post(`${receiver.url}/api/v2/logs`, {
      body: body(),
      headers: { 'dd-api-key': apiKey, 'content-type': 'application/json' },
      agent,
    });

  it('fails with a status for the next N requests, then answers normally', async () => {
    await receiver.faults.set({ mode: 'status', status: 503 }, { times: 2 });
    const statuses = [(await send()).status, (await send()).status, (await send()).status];
    expect(statuses).toEqual([503, 503, 202]);
    expect(receiver.faults.current).toEqual({ mode: 'ok' });
    expect(receiver.faults.arrivals('status').map((a) => a.status)).toEqual([503, 503]);
    expect(receiver.records().deliveries).toBe(1);
  });

  it('throttles with Retry-After and timestamps each arrival', async () => {
    await receiver.faults.set({ mode: 'throttle', retryAfter: 2 });
    const a = await send();
    expect([a.status, a.headers['retry-after']]).toEqual([429, '2']);
    await sleep(50);
    await send();
    await receiver.faults.set({ mode: 'ok' });
    const throttled = receiver.faults.arrivals('throttle');
    expect(throttled).toHaveLength(2);
    expect(throttled[1]!.at - throttled[0]!.at).toBeGreaterThanOrEqual(50);
  });

  it('hangs: reads the request and never answers, until the client gives up', async () => {
    await receiver.faults.set({ mode: 'hang' }, { times: 1 });
    const hung = await Promise.race([send().then(() => 'answered'), sleep(1_000).then(() => 'no answer')]);
    expect(hung).toBe('no answer');
    expect(receiver.faults.arrivals('hang')).toHaveLength(1);
    expect(receiver.faults.arrivals('hang')[0]!.status).toBeUndefined();
    expect((await send()).status).toBe(202);
  });

  it('goes down (connections refused, open ones cut) and comes back on the same port', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      expect((await send(agent)).status).toBe(202);
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
      await receiver.faults.set({ mode: 'down' });
      await expect(send()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      // The idle kept-alive connection was cut by the receiver, not left to deliver later.
      await vi.waitFor(() => expect(Object.values(agent.freeSockets).flat()).toHaveLength(0));
      const arrived = receiver.faults.arrivals().length;
      await receiver.faults.set({ mode: 'ok' });
      expect((await send(agent)).status).toBe(202);
      expect(receiver.faults.arrivals().length).toBe(arrived + 1);
    } finally {
      agent.destroy();
    }
  });

  it('closes even with a request hanging', async () => {
    const other = await startDatadogReceiver({ apiKey });
    await other.faults.set({ mode: 'hang' });
    const pending = post(`${other.url}/api/v2/logs`, { body: '[]', headers: { 'dd-api-key': apiKey } });
    await vi.waitFor(() => expect(other.faults.arrivals()).toHaveLength(1));
    await other.close();
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('syslog receiver (rsyslogd over TLS)', () => {
  let receiver: SyslogReceiver;
  beforeAll(async () => {
    receiver = await startSyslogReceiver();
  }, 120_000);
  afterAll(() => receiver?.close());

  const BOM = '\uFEFF';
  const sdValue = (v: string) => v.replace(/["\\\]]/g, (c) => `\\${c}`);
  const message = (
    event: AuditEvent,
    over: { head?: string; msgid?: string; sd?: string; msg?: string } = {},
  ) => {
    const sd =
      over.sd ??
      `[audit@32473 tenant_id="${sdValue(event.tenant_id)}" event_id="${event.event_id}" event_type="${event.event_type}"]`;
    const head = over.head ?? '<110>1';
    return `${head} ${event.timestamp} stream-host audit-log 4242 ${over.msgid ?? event.event_type.slice(0, 32)} ${sd} ${over.msg ?? BOM + JSON.stringify(event)}`;
  };
  const frame = (m: string) => {
    const bytes = Buffer.from(m, 'utf8');
    return Buffer.concat([Buffer.from(`${bytes.length} `), bytes]);
  };
  /** Writes the chunks over one TLS connection trusting only the receiver's CA, then closes it. */
  const sendTls = (chunks: Buffer[]) =>
    new Promise<void>((resolve, reject) => {
      const socket = tls.connect(
        { host: receiver.host, port: receiver.port, ca: receiver.ca, servername: 'localhost' },
        async () => {
          for (const chunk of chunks) {
            socket.write(chunk);
            await sleep(20);
          }
          socket.end();
        },
      );
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
  const raws = () => new Set(receiver.messages().map((m) => m.raw));

  it('receives octet-counted RFC 5424 frames over TLS, split and coalesced alike', async () => {
    const plain = makeEvent('acme');
    const large = makeEvent('acme', { event_details: { pad: 'é'.repeat(32 * 1024) } }); // 64 KiB of UTF-8
    const longType = makeEvent('acme', { event_type: 'customer.subscription.payment_method.updated' });
    const escaped = makeEvent('ac"me]\\corp');
    const noBom = makeEvent('acme');
    expect(Buffer.byteLength(JSON.stringify(large))).toBeGreaterThan(64 * 1024);
    const frames = [plain, large, longType, escaped].map((e) => frame(message(e)));
    const split = frame(message(noBom, { msg: JSON.stringify(noBom) }));
    // Two frames in one write, then one cut mid-length and mid-message: rsyslog reassembles by count.
    await sendTls([
      Buffer.concat([frames[0]!, frames[1]!]),
      frames[2]!,
      frames[3]!,
      split.subarray(0, 2),
      split.subarray(2, 40),
      split.subarray(40),
    ]);
    await vi.waitFor(() => expect(receiver.messages()).toHaveLength(5), { timeout: 10_000, interval: 100 });
    const r = receiver.records();
    expect(r.rejected).toEqual({});
    expect(r.deliveries).toBe(5);
    expect(r.firstArrival()).toEqual([plain, large, longType, escaped, noBom]);
    expect(r.tenants()).toEqual(new Set(['acme', 'ac"me]\\corp']));
    const [first] = receiver.messages();
    expect(first).toMatchObject({
      pri: '110',
      version: '1',
      hostname: 'stream-host',
      app_name: 'audit-log',
      procid: '4242',
      msgid: 'customer.account.created',
    });
    expect(Date.parse(first!.timestamp)).toBe(Date.parse(plain.timestamp));
    expect(receiver.messages()[2]!.msgid).toBe('customer.subscription.payment_me');
  });

  it('refuses each message that breaks the stream contract', async () => {
    const before = receiver.messages().length;
    const e = makeEvent('acme');
    const other = makeEvent('acme');
    const bad = [
      message(e, { head: '<110>' }),
      message(e, { head: '110>1' }),
      message(e, { head: '<192>1' }),
      message(e, { head: '<110>2' }),
      message(e).replace('audit-log 4242', 'auditlog 4242'),
      message(e, { msgid: 'customer.account.deleted' }),
      message(e, { sd: '-' }),
      message(e, {
        sd: `[audit@32473 tenant_id="acme" event_id="${other.event_id}" event_type="${e.event_type}"]`,
      }),
      message(e, { sd: `[meta@1 a="b"]` }),
      message(e, { msg: `${BOM}{"event_id":` }),
      message(e, { msg: JSON.stringify({ ...e, timestamp: 'noon' }) }),
    ];
    await sendTls(bad.map(frame));
    await vi.waitFor(() => expect(receiver.messages()).toHaveLength(before + bad.length), {
      timeout: 10_000,
      interval: 100,
    });
    const r = receiver.records();
    expect(r.deliveries).toBe(before);
    expect(r.events().has(e.event_id)).toBe(false);
    expect(r.rejected).toEqual({ badHeader: 4, badAppName: 1, badMsgid: 1, badStructuredData: 3, badMsg: 2 });
  });

  it('takes nothing over plain TCP', async () => {
    const before = raws();
    const e = makeEvent('acme');
    await new Promise<void>((resolve) => {
      const socket = net.connect(receiver.port, receiver.host, () => socket.end(frame(message(e))));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    // A TLS message after it as a marker: once it is written, the plain one had its chance.
    const marker = makeEvent('acme');
    await sendTls([frame(message(marker))]);
    await vi.waitFor(() => expect(receiver.records().events().has(marker.event_id)).toBe(true), {
      timeout: 10_000,
      interval: 100,
    });
    await sleep(300);
    expect(receiver.records().events().has(e.event_id)).toBe(false);
    expect(raws().size).toBe(before.size + 1);
  });

  it('parses RFC 5424 structured data with its escapes and refuses malformed data', () => {
    expect(parseStructuredData('[a@1 x="q\\"\\]\\\\" y=""][b z="1"]')).toEqual(
      new Map([
        [
          'a@1',
          new Map([
            ['x', 'q"]\\'],
            ['y', ''],
          ]),
        ],
        ['b', new Map([['z', '1']])],
      ]),
    );
    expect(parseStructuredData('-')).toEqual(new Map());
    for (const bad of ['[a x="1"', '[a x=1]', '[a x="]"]', '[a][a]', 'a', '[a x="1"]x', '[ x="1"]'])
      expect(typeof parseStructuredData(bad)).toBe('string');
  });

  it('stops rsyslogd on close()', async () => {
    const own = await startSyslogReceiver();
    expect(alive(own.pid)).toBe(true);
    await own.close();
    expect(alive(own.pid)).toBe(false);
    await expect(
      new Promise((resolve, reject) =>
        net.connect(own.port, '127.0.0.1').on('connect', resolve).on('error', reject),
      ),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('does not outlive the process that started it, even one killed with SIGKILL', async () => {
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'hold-syslog.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const started = await new Promise<{ pid: number }>((resolve, reject) => {
      holder.stdout.once('data', (d) => resolve(JSON.parse(String(d))));
      holder.once('exit', (code) => reject(new Error(`hold-syslog exited ${code}`)));
    });
    expect(alive(started.pid)).toBe(true);
    holder.kill('SIGKILL');
    await vi.waitFor(() => expect(alive(started.pid)).toBe(false), { timeout: 10_000, interval: 100 });
  }, 60_000);
});

describe('audit event check', () => {
  it('accepts a stored event and names what is wrong with a broken one', () => {
    const e = makeEvent('acme');
    expect(checkAuditEvent(e)).toBe(e);
    expect(checkAuditEvent({ ...e, timestamp: '2026-01-02T03:04:05+01:00' })).toMatchObject({
      tenant_id: 'acme',
    });
    const broken: [unknown, RegExp][] = [
      [[e], /not a JSON object/],
      [null, /not a JSON object/],
      [{ ...e, event_id: undefined }, /event_id/],
      [{ ...e, event_id: 'x' }, /event_id/],
      [{ ...e, tenant_id: 7 }, /tenant_id/],
      [{ ...e, event_type: '' }, /event_type/],
      [{ ...e, timestamp: '2026-01-02 03:04:05' }, /timestamp/],
      [{ ...e, timestamp: '2026-13-45T03:04:05Z' }, /timestamp/],
      [{ ...e, event_details: [] }, /event_details/],
      [{ ...e, event_details: undefined }, /event_details/],
    ];
    for (const [value, why] of broken) expect(checkAuditEvent(value)).toMatch(why);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

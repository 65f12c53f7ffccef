import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, sleep } from '../e2e/pipeline.ts';
import { type StreamsStack, type StreamTenant, startStreamsStack, topicPositions } from './harness.ts';
import {
  type DatadogReceiver,
  type ReceivedRecords,
  type SplunkReceiver,
  type SyslogReceiver,
  startDatadogReceiver,
  startSplunkReceiver,
  startSyslogReceiver,
  startWebhookReceiver,
  type WebhookReceiver,
} from './receivers/index.ts';

/**
 * Log streams end to end on the real stack: the ingest API writes two tenants' events to Kafka,
 * the streamer delivers each tenant's streams to real receivers started here (a Standard Webhooks
 * HTTPS receiver, Splunk HEC and Datadog intake shape checkers, rsyslogd over RFC 5425 TLS), and
 * the receivers' own checks say what arrived: everything, once or more, in partition order, and
 * nothing of the other tenant.
 */
const SPLUNK_TOKEN = '4a8d3c1e-0b7f-4d2a-9e6c-5f1b2a3c4d5e';
const DD_KEY = '0123456789abcdef0123456789abcdef';
const PER_TENANT = 10_000;

let s: StreamsStack;
let a: StreamTenant;
let b: StreamTenant;
let webhookA: WebhookReceiver;
let webhookB: WebhookReceiver;
let splunkA: SplunkReceiver;
let datadogA: DatadogReceiver;
let syslogA: SyslogReceiver;
let syslogB: SyslogReceiver;
const streamIds: Record<string, string> = {};
const posted = new Map<string, { tenant: string; at: number; type: string }>();
const secrets: Record<string, string> = {};

async function post(t: StreamTenant, n: number): Promise<string[]> {
  const at = Date.now();
  const ids = await s.post(t, n);
  return ids.map((id, i) => {
    posted.set(id, { tenant: t.id, at, type: '' });
    return id ?? String(i);
  });
}

async function create(t: StreamTenant, key: string, body: Record<string, unknown>) {
  const r = await s.api<{ stream_id: string; signing_secret?: string }>(t, 'POST', '/streams', body);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  streamIds[key] = r.body.stream_id;
  if (r.body.signing_secret) secrets[key] = r.body.signing_secret;
  return r.body;
}

/** Waits until `records()` holds every id (as a set), or fails naming how many are missing. */
async function waitFor(name: string, records: () => ReceivedRecords, ids: string[], timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  let missing = ids.length;
  while (Date.now() < deadline) {
    const have = records().events();
    missing = ids.filter((id) => !have.has(id)).length;
    if (missing === 0) return;
    await sleep(500);
  }
  throw new Error(`${name}: ${missing} of ${ids.length} events not delivered in ${timeoutMs} ms`);
}

/** First arrivals per partition must come in offset order. */
function checkOrder(
  name: string,
  first: AuditEvent[],
  positions: Map<string, { partition: number; offset: number }>,
) {
  const last = new Map<number, number>();
  let inversions = 0;
  for (const e of first) {
    const p = positions.get(e.event_id);
    if (!p) continue;
    if ((last.get(p.partition) ?? -1) > p.offset) inversions++;
    last.set(p.partition, p.offset);
  }
  expect(inversions, `${name}: events out of partition order`).toBe(0);
}

function duplicates(r: ReceivedRecords): number {
  let d = 0;
  for (const n of r.events().values()) d += n - 1;
  return d;
}

const p99 = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN;
};

beforeAll(async () => {
  s = await startStreamsStack('streams');
  [a, b] = s.tenants;
  [webhookA, webhookB, splunkA, datadogA, syslogA, syslogB] = await Promise.all([
    startWebhookReceiver({ secrets: [] }),
    startWebhookReceiver({ secrets: [] }),
    startSplunkReceiver({ token: SPLUNK_TOKEN, path: '/services/collector/event', tls: true }),
    startDatadogReceiver({ apiKey: DD_KEY }),
    startSyslogReceiver(),
    startSyslogReceiver(),
  ]);
  await create(a, 'webhookA', {
    name: 'siem webhook',
    destination: { type: 'webhook', url: webhookA.url, ca: webhookA.ca },
  });
  webhookA.setSecrets([secrets.webhookA!]);
  await create(b, 'webhookB', {
    name: 'b webhook',
    destination: { type: 'webhook', url: webhookB.url, ca: webhookB.ca },
  });
  webhookB.setSecrets([secrets.webhookB!]);
  await create(a, 'splunkA', {
    name: 'splunk',
    destination: {
      type: 'splunk',
      url: `${splunkA.url}/services/collector/event`,
      token: SPLUNK_TOKEN,
      index: 'audit',
      ca: splunkA.ca,
    },
  });
  await create(a, 'datadogA', {
    name: 'datadog, customer events only',
    filter: 'event_type[prefix]=customer.',
    destination: { type: 'datadog', url: `${datadogA.url}/api/v2/logs`, api_key: DD_KEY },
  });
  for (const [key, t, r] of [
    ['syslogA', a, syslogA],
    ['syslogB', b, syslogB],
  ] as const) {
    await create(t, key, {
      name: 'rsyslog',
      destination: { type: 'syslog', host: '127.0.0.1', port: r.port, server_name: 'localhost', ca: r.ca },
    });
  }
}, 240_000);

afterAll(async () => {
  await s?.stop();
  await Promise.all([webhookA, webhookB, splunkA, datadogA, syslogA, syslogB].map((r) => r?.close()));
});

describe('log streams', () => {
  it('delivers 20,000 events of two tenants to each tenant’s own destinations, at least once and in partition order', async () => {
    // The runners join their groups within a poll or two of creation; events after creation count.
    await sleep(3000);
    const [idsA, idsB] = await Promise.all([post(a, PER_TENANT), post(b, PER_TENANT)]);
    const positions = await topicPositions(s.kafka, s.topic, 2 * PER_TENANT);
    expect(positions.size).toBeGreaterThanOrEqual(2 * PER_TENANT);

    // makeEvent's type is EVENT_TYPES[i % 8] of the tenant's i-th event.
    const customerA = new Set(
      idsA.filter((_, i) => EVENT_TYPES[i % EVENT_TYPES.length]!.startsWith('customer.')),
    );
    await Promise.all([
      waitFor('webhook A', () => webhookA.records(), idsA),
      waitFor('webhook B', () => webhookB.records(), idsB),
      waitFor('splunk A', () => splunkA.records(), idsA),
      waitFor('datadog A', () => datadogA.records(), [...customerA]),
      waitFor('syslog A', () => syslogA.records(), idsA),
      waitFor('syslog B', () => syslogB.records(), idsB),
    ]);
    const all: [string, ReceivedRecords, string][] = [
      ['webhook A', webhookA.records(), a.id],
      ['webhook B', webhookB.records(), b.id],
      ['splunk A', splunkA.records(), a.id],
      ['datadog A', datadogA.records(), a.id],
      ['syslog A', syslogA.records(), a.id],
      ['syslog B', syslogB.records(), b.id],
    ];
    for (const [name, r, tenant] of all) {
      expect([...r.tenants()], `${name} saw another tenant`).toEqual([tenant]);
      expect(r.rejected, `${name} refused requests: ${JSON.stringify(r.rejections.slice(0, 3))}`).toEqual({});
      checkOrder(name, r.firstArrival(), positions);
      console.log(
        `${name}: ${r.events().size} events in ${r.deliveries} deliveries, ${duplicates(r)} duplicates`,
      );
    }
    // The filter: exactly the customer.* events, nothing else.
    expect(datadogA.records().events().size).toBe(customerA.size);
  });

  it('status: delivered counts, lag and last success per stream through the API', async () => {
    await sleep(2500);
    const r = await s.api<{
      streams: {
        stream_id: string;
        state: string;
        status: { delivered: number; lag: number; last_success_at: string } | null;
      }[];
    }>(a, 'GET', '/streams');
    expect(r.status).toBe(200);
    const byId = new Map(r.body.streams.map((x) => [x.stream_id, x]));
    const wh = byId.get(streamIds.webhookA!)!;
    expect(wh.state).toBe('active');
    expect(wh.status!.delivered).toBeGreaterThanOrEqual(PER_TENANT);
    expect(wh.status!.last_success_at).toMatch(/^\d{4}-/);
    // Tenant B sees none of A's streams.
    const rb = await s.api<{ streams: { stream_id: string }[] }>(b, 'GET', '/streams');
    expect(rb.body.streams.map((x) => x.stream_id).sort()).toEqual(
      [streamIds.webhookB, streamIds.syslogB].sort(),
    );
    expect((await s.api(b, 'GET', `/streams/${streamIds.webhookA}`)).status).toBe(404);
    expect((await s.api(b, 'POST', `/streams/${streamIds.webhookA}/pause`)).status).toBe(404);
  });

  it('a receiver down for 30 s, then 500, 429 with Retry-After and hanging: nothing lost, the other tenant unaffected', async () => {
    await webhookA.faults.set({ mode: 'down' });
    const before = webhookA.records().events().size;
    const lost: string[] = [];
    const latB: number[] = [];
    const idsB: string[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000) {
      lost.push(...(await post(a, 200)));
      idsB.push(...(await post(b, 200)));
      await sleep(1000);
    }
    // B's webhook kept delivering while A's receiver was down.
    await waitFor('webhook B during A down', () => webhookB.records(), idsB, 30_000);
    expect(webhookA.records().events().size).toBe(before);
    await webhookA.faults.set({ mode: 'status', status: 500 }, { times: 2 });
    await sleep(1500);
    await webhookA.faults.set({ mode: 'throttle', retryAfter: 3 }, { times: 1 });
    await sleep(4000);
    await webhookA.faults.set({ mode: 'hang' }, { times: 1 });
    const more = await post(a, 300);
    await waitFor('webhook A after faults', () => webhookA.records(), [...lost, ...more], 90_000);

    // Retry-After was honoured: the first request after the 429 came at least 3 s later.
    const arrivals = webhookA.faults.arrivals();
    const throttled = arrivals.findIndex((x) => x.mode === 'throttle');
    expect(throttled).toBeGreaterThanOrEqual(0);
    const after = arrivals[throttled + 1];
    expect(after).toBeDefined();
    expect(after!.at - arrivals[throttled]!.at).toBeGreaterThanOrEqual(2900);
    expect(arrivals.filter((x) => x.mode === 'hang').length).toBeGreaterThanOrEqual(1);

    const firstAt = webhookB.records().firstArrivalAt();
    for (const id of idsB) latB.push(firstAt.get(id)! - posted.get(id)!.at);
    console.log(
      `tenant B webhook delivery while A's receiver failed: p99 ${p99(latB)} ms over ${latB.length} events; A: ${lost.length + more.length} events caught up, ${duplicates(webhookA.records())} duplicates in total`,
    );
  }, 240_000);

  it('the streamer SIGKILLed under load: nothing lost, duplicates few', async () => {
    const load = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        ids.push(...(await post(a, 300)), ...(await post(b, 300)));
        await sleep(300);
      }
      return ids;
    })();
    await sleep(1500);
    await s.streamer.restart();
    const ids = await load;
    const idsA = ids.filter((id) => posted.get(id)!.tenant === a.id);
    const idsB = ids.filter((id) => posted.get(id)!.tenant === b.id);
    await Promise.all([
      waitFor('webhook A after kill', () => webhookA.records(), idsA),
      waitFor('splunk A after kill', () => splunkA.records(), idsA),
      waitFor('syslog A after kill', () => syslogA.records(), idsA),
      waitFor('webhook B after kill', () => webhookB.records(), idsB),
      waitFor('syslog B after kill', () => syslogB.records(), idsB),
    ]);
    for (const [name, r] of [
      ['webhook A', webhookA.records()],
      ['webhook B', webhookB.records()],
      ['syslog A', syslogA.records()],
    ] as const) {
      console.log(`after SIGKILL: ${name} ${duplicates(r)} duplicates of ${r.events().size} events`);
    }
  }, 240_000);
});

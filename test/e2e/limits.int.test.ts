import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createAuth } from '@audit/auth';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { aclTopicsOf, provisionPipeline, stackKafka } from '@audit/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceProcess, startService, TEST_JWT_SECRET } from './harness.ts';
import { makeEvent } from './pipeline.ts';

/**
 * Per-tenant limits on the real ingest API process (config from its environment) with the sink
 * storing into ClickHouse: a tenant sending ten times its limit gets 429s with Retry-After while
 * another tenant's requests all succeed, and exactly the events answered 202 are stored. Then
 * the brute-force limits of POST /login, over real sockets from distinct loopback addresses.
 */
const stack = loadConfig(stackSchema);
const admin = createClickHouse(stack, 'admin');
const id = randomUUID().slice(0, 8);
const ACME = `acme_${id}`;
const GLOBEX = `globex_${id}`;
const DEV_USERS = path.resolve(import.meta.dirname, '../../deploy/local/dev-users.json');

/** acme: 20 requests/s (burst 20), 200 events/s (burst 400); globex: the defaults. */
const ACME_LIMITS = { requestsPerSecond: 20, requestsBurst: 20, eventsPerSecond: 200, eventsBurst: 400 };

interface Outcome {
  status: number;
  ms: number;
  ids: string[];
  retryAfter: string | null;
  code?: string;
}

const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)] ?? Number.NaN;
};
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
/** `p50 X ms p99 Y ms` of the outcomes' latencies. */
const latency = (outs: Outcome[]) => {
  const ms = outs.map((o) => o.ms);
  return `p50 ${p50(ms).toFixed(1)} ms p99 ${p99(ms).toFixed(1)} ms`;
};
const statuses = (outs: Outcome[]) =>
  outs.reduce<Record<number, number>>((m, o) => {
    m[o.status] = (m[o.status] ?? 0) + 1;
    return m;
  }, {});

describe('per-tenant limits and login brute force on the real stack', () => {
  let ingest: ServiceProcess;
  let sink: ServiceProcess;
  const tokens: Record<string, string> = {};
  const accepted = new Set<string>();
  const refused = new Set<string>();

  async function post(tenant: string, events: Record<string, unknown>[]): Promise<Outcome> {
    const t0 = performance.now();
    const res = await fetch(`${ingest.url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[tenant]}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { event_ids?: string[]; error?: { code: string } };
    const ms = performance.now() - t0;
    const ids = events.map((e) => e.event_id as string);
    for (const i of ids) (res.status === 202 ? accepted : refused).add(i);
    if (res.status === 202) expect(body.event_ids).toEqual(ids);
    return {
      status: res.status,
      ms,
      ids,
      retryAfter: res.headers.get('retry-after'),
      code: body.error?.code,
    };
  }

  /** Open loop: one request every 1000/rate ms for `seconds`, not waiting for answers. */
  async function openLoop(rate: number, seconds: number, send: (i: number) => Promise<Outcome>) {
    const n = rate * seconds;
    const start = performance.now();
    const pending: Promise<Outcome>[] = [];
    for (let i = 0; i < n; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(send(i));
    }
    const outcomes = await Promise.all(pending);
    return { outcomes, seconds: (performance.now() - start) / 1000 };
  }

  beforeAll(async () => {
    const topic = `test.limits.${id}`;
    const names = {
      KAFKA_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_LEAVES_TOPIC: `${topic}.leaves`,
      KAFKA_CHECKPOINTS_TOPIC: `${topic}.checkpoints`,
      KAFKA_TENANT_TOPIC_PREFIX: `${topic}.t.`,
    };
    // The test is the Kafka admin; the services get their ACLs on exactly these topics.
    const kafka = stackKafka(stack, `limits-${id}`);
    const ka = kafka.admin();
    await ka.connect();
    await provisionPipeline(ka, aclTopicsOf(names, { sink: `limits-sink-${id}` }), { partitions: 3 });
    await ka.disconnect();
    const env = {
      ...names,
      SINK_GROUP_ID: `limits-sink-${id}`,
      HOST: '127.0.0.1',
      // The production defaults (the harness turns limits off for the load suites), acme's override.
      RATE_LIMIT_REQUESTS_PER_SECOND: '1000',
      RATE_LIMIT_EVENTS_PER_SECOND: '10000',
      RATE_LIMIT_OVERRIDES: JSON.stringify({ [ACME]: ACME_LIMITS }),
      AUTH_USERS_FILE: DEV_USERS,
      CREDENTIAL_FAILURES_PER_IP: '5',
      CREDENTIAL_FAILURES_PER_USER: '3',
      CREDENTIAL_FAILURE_WINDOW_SECONDS: '600',
    };
    const logDir = path.join(os.tmpdir(), `audit-limits-${id}`);
    sink = await startService('sink', env, logDir);
    ingest = await startService('ingest-api', env, logDir);
    const auth = await createAuth({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
    for (const tenant of [ACME, GLOBEX]) {
      tokens[tenant] = await auth.issueToken({
        subject: `${tenant}-producer`,
        tenant,
        scopes: ['events:write'],
      });
    }
  });
  afterAll(async () => {
    await Promise.all([ingest?.kill('SIGTERM'), sink?.kill('SIGTERM')]);
    await admin.close();
  });

  it('acme at 10× its request limit gets 429 + Retry-After while every globex request succeeds', async () => {
    let seq = 0;
    const [acme, globex] = await Promise.all([
      openLoop(200, 5, () => post(ACME, [makeEvent(seq++, ACME)])),
      openLoop(20, 5, () => post(GLOBEX, [makeEvent(seq++, GLOBEX)])),
    ]);
    const a = acme.outcomes;
    const g = globex.outcomes;
    console.log(
      `requests/s limit (acme ${ACME_LIMITS.requestsPerSecond}/s burst ${ACME_LIMITS.requestsBurst}, offered 200/s for ${acme.seconds.toFixed(1)} s; globex default, offered 20/s): ` +
        `acme: statuses ${JSON.stringify(statuses(a))} ${latency(a)}; ` +
        `globex: statuses ${JSON.stringify(statuses(g))} ${latency(g)}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );
    expect(statuses(g)).toEqual({ 202: 100 });
    const ok = a.filter((o) => o.status === 202).length;
    const limited = a.filter((o) => o.status === 429);
    expect(ok + limited.length).toBe(1000);
    // The bucket admits its burst plus the rate over the time requests kept arriving, no more.
    expect(ok).toBeLessThanOrEqual(
      ACME_LIMITS.requestsBurst + Math.ceil(ACME_LIMITS.requestsPerSecond * acme.seconds) + 1,
    );
    expect(ok).toBeGreaterThanOrEqual(ACME_LIMITS.requestsBurst + ACME_LIMITS.requestsPerSecond * 3);
    for (const o of limited) {
      expect(o.code).toBe('rate_limited');
      expect(o.retryAfter).toMatch(/^[1-9]\d*$/);
    }
  });

  it('a batch above the event burst is 413; acme at 5× its event limit gets 429s, globex batches all succeed', async () => {
    await new Promise((r) => setTimeout(r, 2500)); // both of acme's buckets full again
    let seq = 100_000;
    const batch = (tenant: string, n: number) => Array.from({ length: n }, () => makeEvent(seq++, tenant));
    const tooBig = await post(ACME, batch(ACME, ACME_LIMITS.eventsBurst + 1));
    expect(tooBig.status).toBe(413);
    expect(tooBig.code).toBe('exceeds_burst');
    const [acme, globex] = await Promise.all([
      openLoop(10, 3, () => post(ACME, batch(ACME, 100))),
      openLoop(5, 3, () => post(GLOBEX, batch(GLOBEX, 100))),
    ]);
    const a = acme.outcomes;
    const g = globex.outcomes;
    console.log(
      `events/s limit (acme ${ACME_LIMITS.eventsPerSecond}/s burst ${ACME_LIMITS.eventsBurst}, offered 1,000/s in 100-event batches; globex 500/s): ` +
        `acme: statuses ${JSON.stringify(statuses(a))} ${latency(a)}; ` +
        `globex: statuses ${JSON.stringify(statuses(g))} ${latency(g)}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`,
    );
    expect(statuses(g)).toEqual({ 202: 15 });
    const ok = a.filter((o) => o.status === 202).length;
    const limited = a.filter((o) => o.status === 429);
    expect(ok + limited.length).toBe(30);
    const budget = ACME_LIMITS.eventsBurst + ACME_LIMITS.eventsPerSecond * acme.seconds;
    expect(ok).toBeLessThanOrEqual(Math.floor(budget / 100) + 1);
    expect(ok).toBeGreaterThanOrEqual(Math.floor(ACME_LIMITS.eventsBurst / 100));
    for (const o of limited) {
      expect(o.code).toBe('rate_limited');
      expect(o.retryAfter).toMatch(/^[1-9]\d*$/);
    }
  });

  it('stores exactly the events answered 202, none answered 429 or 413', async () => {
    const read = async () => {
      const rs = await admin.query({
        query: `SELECT toString(event_id) AS id FROM ${stack.CLICKHOUSE_DATABASE}.events
          WHERE tenant_id IN ({a:String}, {g:String})`,
        query_params: { a: ACME, g: GLOBEX },
        format: 'JSONEachRow',
      });
      return new Set((await rs.json<{ id: string }>()).map((r) => r.id));
    };
    const deadline = Date.now() + 90_000;
    let stored = await read();
    while (stored.size < accepted.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      stored = await read();
    }
    await new Promise((r) => setTimeout(r, 2000)); // anything extra would have arrived by now
    stored = await read();
    console.log(`stored ${stored.size} events; answered 202: ${accepted.size}; refused: ${refused.size}`);
    expect(refused.size).toBeGreaterThan(0);
    expect([...refused].filter((i) => stored.has(i))).toEqual([]);
    expect([...accepted].filter((i) => !stored.has(i))).toEqual([]);
    expect(stored.size).toBe(accepted.size);
  });

  /** POST /login from a given loopback address (a real client address, no proxy header). */
  function login(from: string, username: string, password: string) {
    const url = new URL('/login', ingest.url);
    return new Promise<{ status: number; retryAfter?: string; code?: string }>((resolve, reject) => {
      const req = http.request(
        url,
        { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            const body = JSON.parse(text) as { error?: { code: string } };
            resolve({
              status: res.statusCode!,
              retryAfter: res.headers['retry-after'] as string | undefined,
              code: body.error?.code,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ username, password }));
    });
  }

  it('login: a name locked after 3 failures (right password too) and an address after 5; others still log in', async () => {
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.2']) {
      expect((await login(from, 'acme-producer', 'wrong')).status).toBe(401);
    }
    const lockedName = await login('127.0.0.4', 'acme-producer', 'devpass');
    expect(lockedName).toMatchObject({ status: 429, code: 'too_many_attempts' });
    // One of the 3 failures refills in 600/3 s, counted from the last failure.
    expect(Number(lockedName.retryAfter)).toBeGreaterThan(190);
    expect(Number(lockedName.retryAfter)).toBeLessThanOrEqual(200);
    expect((await login('127.0.0.4', 'globex-producer', 'devpass')).status).toBe(200);

    for (let i = 0; i < 5; i++) expect((await login('127.0.0.5', `nobody-${i}`, 'guess')).status).toBe(401);
    expect(await login('127.0.0.5', 'globex-producer', 'devpass')).toMatchObject({
      status: 429,
      code: 'too_many_attempts',
    });
    expect((await login('127.0.0.6', 'globex-producer', 'devpass')).status).toBe(200);

    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    for (const limit of ['requests', 'events', 'credentials_user', 'credentials_ip']) {
      expect(metrics).toMatch(
        new RegExp(`http_rate_limited_total\\{limit="${limit}",service="ingest-api"\\} [1-9]`),
      );
    }
  });
});

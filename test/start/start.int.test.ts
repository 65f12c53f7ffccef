import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClickHouse } from '@audit/clickhouse';
import { stackKafka } from '@audit/kafka';
import { freePort, loadLocalStackConfig, stackDown, stackStatus } from '@audit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BannerContext, EXAMPLE_TENANT, exampleQueries, verifyCommand } from '../../scripts/banner.ts';
import { DEMO_TENANTS, type DemoEvent, demoEvents, loadDemo } from '../../scripts/demo-data.ts';
import { startWebhookReceiver } from '../streams/receivers/index.ts';
import { root, runStart, type StartProcess, shellEnv, warnings } from './harness.ts';

const run = promisify(execFile);

/**
 * `npm start` from nothing: a stack directory of its own and free ports for Kafka, ClickHouse
 * and the five services (the shared stack keeps the default ports), so this is a first start
 * on a fresh machine: Kafka formats its storage, creates the topics and loads the consumer
 * offsets topic while the services connect.
 */
describe('npm start on a fresh stack', () => {
  const stackDir = path.join(root, '.local', 'private', `start-${randomUUID().slice(0, 8)}`);
  let env: Record<string, string | undefined>;
  let cfg: ReturnType<typeof loadLocalStackConfig>;
  let urls: { ingest: string; query: string; sink: string; sealer: string };
  let first: StartProcess | undefined;
  let second: StartProcess | undefined;
  let topicEnd = 0n;

  beforeAll(async () => {
    const ports = {
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      CLICKHOUSE_URL: `http://127.0.0.1:${await freePort()}`,
      CLICKHOUSE_TCP_PORT: String(await freePort()),
      INGEST_PORT: String(await freePort()),
      QUERY_PORT: String(await freePort()),
      SINK_PORT: String(await freePort()),
      SEALER_PORT: String(await freePort()),
      STREAMER_PORT: String(await freePort()),
      STACK_DIR: stackDir,
    };
    env = shellEnv(ports);
    cfg = loadLocalStackConfig(env);
    urls = {
      ingest: `http://127.0.0.1:${ports.INGEST_PORT}`,
      query: `http://127.0.0.1:${ports.QUERY_PORT}`,
      sink: `http://127.0.0.1:${ports.SINK_PORT}`,
      sealer: `http://127.0.0.1:${ports.SEALER_PORT}`,
    };
  });

  afterAll(async () => {
    for (const p of [first, second]) {
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGTERM');
        await Promise.race([p.exited, new Promise((r) => setTimeout(r, 60_000))]);
      }
    }
    await stackDown(cfg, () => {});
    fs.rmSync(stackDir, { recursive: true, force: true });
  }, 120_000);

  const ctx = (): BannerContext => ({
    kafkaBrokers: cfg.KAFKA_BROKERS,
    topics: [cfg.KAFKA_TOPIC, cfg.KAFKA_DLQ_TOPIC],
    clickhouseUrl: cfg.CLICKHOUSE_URL,
    clickhouseTcpPort: cfg.CLICKHOUSE_TCP_PORT,
    readerUser: `analyst_${EXAMPLE_TENANT.tenant}`,
    readerPassword: `analyst-${EXAMPLE_TENANT.tenant}-dev-password`,
    readerPasswordIsDefault: true,
    services: [],
    ingestUrl: urls.ingest,
    queryUrl: urls.query,
    demo: 'skipped',
  });

  const anchor = () =>
    Date.parse(
      (JSON.parse(fs.readFileSync(path.join(stackDir, 'demo-data.json'), 'utf8')) as { anchor: string })
        .anchor,
    );

  /** The exported READ_TOKEN line of the banner, then the command: what a user pastes. */
  async function runPrinted(stdout: string, command: string): Promise<string> {
    const exportLine = /^export READ_TOKEN=\S+$/m.exec(stdout)?.[0];
    expect(exportLine).toBeDefined();
    const { stdout: answer } = await run('bash', ['-c', `${exportLine}\n${command}`], { timeout: 30_000 });
    return answer;
  }

  /** Sum of the events topic's end offsets, once the sink has committed all of it. */
  async function drainedTopicEnd(): Promise<bigint> {
    const kafka = stackKafka(cfg, 'start-test');
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let i = 0; ; i++) {
        const ends = await admin.fetchTopicOffsets(cfg.KAFKA_TOPIC);
        const [committed] = await admin.fetchOffsets({ groupId: 'audit-sink', topics: [cfg.KAFKA_TOPIC] });
        const done = ends.every(
          (e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high,
        );
        if (done) return ends.reduce((s, e) => s + BigInt(e.high), 0n);
        if (i > 200) throw new Error(`sink did not catch up: ${JSON.stringify({ ends, committed })}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Messages on the topic once the sink drained it, without the query API's records of reads
   * (`audit.*`: the loader's and the banner queries' reads are in the tenants' trails too).
   */
  async function drainedDemoMessages(): Promise<bigint> {
    const end = await drainedTopicEnd();
    const ch = createClickHouse(cfg, 'admin');
    try {
      const rs = await ch.query({
        query: "SELECT toString(count()) AS n FROM audit.events WHERE startsWith(event_type, 'audit.')",
        format: 'JSONEachRow',
      });
      const [{ n }] = (await rs.json()) as [{ n: string }];
      return end - BigInt(n);
    } finally {
      await ch.close();
    }
  }

  async function demoCount(tenant: (typeof DEMO_TENANTS)[number]): Promise<number> {
    const login = await fetch(`${urls.query}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: tenant.analyst, password: 'devpass' }),
    });
    const { token } = (await login.json()) as { token: string };
    const res = await fetch(`${urls.query}/events/stats?source%5Bprefix%5D=demo.`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return ((await res.json()) as { count: number }).count;
  }

  /** The verifier key the banner printed. */
  const printedKey = (stdout: string) => /^Checkpoint verifier key: (\S+)$/m.exec(stdout)?.[1];

  /** Largest checkpoint of the tenant in the sealer's witness file, once it reaches `size`. */
  async function witnessSize(tenant: string, size: number): Promise<number> {
    for (let i = 0; ; i++) {
      const text = await (await fetch(`${urls.sealer}/witness?tenant=${tenant}`)).text();
      const max = Math.max(
        0,
        ...text
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { tree_size: number }).tree_size),
      );
      if (max >= size || i > 200) return max;
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  async function expectAllStopped(p: StartProcess) {
    expect(await p.interrupt()).toBe(0);
    const status = await stackStatus(cfg);
    expect(status.kafka).toEqual({ pid: undefined, listening: false });
    expect(status.clickhouse).toEqual({ pid: undefined, healthy: false });
    for (const url of Object.values(urls)) {
      await expect(fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    }
  }

  it('starts quietly, loads the demo data, and the banner queries return it', async () => {
    first = runStart(env);
    await first.ready;
    expect(first.stderr()).toBe('');
    expect(warnings(first.stdout())).toEqual([]);

    const expected = DEMO_TENANTS.map((t) => demoEvents(t, anchor()));
    const counts = DEMO_TENANTS.map((t, i) => `${t.tenant} ${expected[i]!.length.toLocaleString('en-US')}`);
    expect(first.stdout()).toContain(`Demo data: ${counts.join(', ')} events over the 21 days before`);
    expect(first.stdout()).toMatch(/\(source demo\.\*\), loaded in \d+\.\d s/);

    const acme = expected[DEMO_TENANTS.indexOf(EXAMPLE_TENANT)]!;
    const [bills, perType, weekly] = exampleQueries(ctx());
    for (const q of [bills!, perType!, weekly!]) expect(first.stdout()).toContain(q.command);

    // The printed operator-token command works as pasted: a token with scope admin.
    const adminCmd = /^ {2}(curl -s -X POST \S+\/oauth\/token .*)$/m.exec(first.stdout())?.[1];
    expect(adminCmd, first.stdout()).toBeDefined();
    expect(fs.statSync(path.join(stackDir, 'admin', 'admin.key')).mode & 0o777).toBe(0o600);
    const granted = JSON.parse(await runPrinted(first.stdout(), adminCmd!)) as Record<string, unknown>;
    expect(granted).toMatchObject({ token_type: 'Bearer', scope: 'admin' });

    const newestFirst = (a: DemoEvent, b: DemoEvent) =>
      a.timestamp === b.timestamp ? (a.event_id < b.event_id ? 1 : -1) : a.timestamp < b.timestamp ? 1 : -1;
    const bigBills = acme
      .filter((e) => e.event_type === 'customer.billed' && (e.event_details.amount as number) >= 100)
      .sort(newestFirst);
    expect(bigBills.length).toBeGreaterThanOrEqual(3);
    const q1 = JSON.parse(await runPrinted(first.stdout(), bills!.command)) as { events: DemoEvent[] };
    expect(q1.events.map((e) => e.event_id)).toEqual(bigBills.slice(0, 3).map((e) => e.event_id));

    const q2 = JSON.parse(await runPrinted(first.stdout(), perType!.command)) as {
      groups: Array<{ key: string; count: number }>;
    };
    const byType = new Map<string, number>();
    for (const e of acme) byType.set(e.event_type, (byType.get(e.event_type) ?? 0) + 1);
    expect(q2.groups.sort((a, b) => a.key.localeCompare(b.key))).toEqual(
      [...byType].map(([key, count]) => ({ key, count })).sort((a, b) => a.key.localeCompare(b.key)),
    );
    expect(byType.size).toBe(4);

    const q3 = await runPrinted(first.stdout(), weekly!.command);
    const rows = q3
      .split('\n')
      .filter((l) => /^\s*\d+\.\s*│/.test(l))
      .map((l) => l.split('│').map((c) => c.trim()))
      .map(([, week, charges, amount]) => ({ week, charges: Number(charges), amount: Number(amount) }));
    const weeks = new Map<string, { charges: number; amount: number }>();
    for (const e of acme) {
      if (e.event_type !== 'customer.billed' || e.outcome !== 'success') continue;
      const d = new Date(e.timestamp);
      // toStartOfWeek's default mode: weeks start on Sunday.
      const week = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - d.getUTCDay()));
      const key = week.toISOString().slice(0, 10);
      const w = weeks.get(key) ?? { charges: 0, amount: 0 };
      w.charges++;
      w.amount += e.event_details.amount as number;
      weeks.set(key, w);
    }
    expect(rows).toEqual([...weeks].sort().map(([week, w]) => ({ week, ...w })));

    // Log streams from the first start: the dev user acme-streams makes a webhook stream to a
    // receiver on this machine and a test delivery goes through the streamer (docs/streams.md).
    const rx = await startWebhookReceiver({ secrets: [] });
    try {
      const login = await fetch(`${urls.query}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'acme-streams', password: 'devpass' }),
      });
      const { token: streamsToken } = (await login.json()) as { token: string };
      const call = async (method: string, p: string, body?: unknown) => {
        const res = await fetch(`${urls.query}${p}`, {
          method,
          headers: { authorization: `Bearer ${streamsToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
      };
      const made = await call('POST', '/streams', {
        name: 'first five minutes',
        destination: { type: 'webhook', url: rx.url, ca: rx.ca },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      rx.setSecrets([made.body.signing_secret as string]);
      const tested = await call('POST', `/streams/${made.body.stream_id}/test`);
      expect(tested.body).toMatchObject({ done: true, ok: true });
      expect(
        rx
          .records()
          .firstArrival()
          .map((e) => e.event_type),
      ).toContain('audit.stream.test');
      expect((await call('DELETE', `/streams/${made.body.stream_id}`)).status).toBe(204);
    } finally {
      await rx.close();
    }
    expect(rows.length).toBeGreaterThanOrEqual(3);

    // The printed verify command, as pasted, once acme's log covers the demo: every event verifies.
    const key = printedKey(first.stdout());
    expect(key).toMatch(/^audit-log\.local\+[0-9a-f]{8}\+/);
    expect(fs.statSync(path.join(stackDir, 'sealer', 'signing.key')).mode & 0o777).toBe(0o600);
    const verify = verifyCommand({ ...ctx(), verifierKey: key, sealerUrl: urls.sealer })!;
    expect(first.stdout()).toContain(verify);
    // acme's log holds the demo and the records of the reads so far (the loader's, the banner's).
    expect(await witnessSize(EXAMPLE_TENANT.tenant, acme.length)).toBeGreaterThanOrEqual(acme.length);
    const report = await runPrinted(first.stdout(), verify);
    // A record of a read made just before may not be sealed yet: the verifier reports it as recent.
    const m =
      /\(latest size (\d+)\), (\d+) leaves, (\d+) events checked(?:, (\d+) not sealed yet \(recent\))?\nOK: the trail verifies/.exec(
        report,
      );
    expect(m, report).not.toBeNull();
    expect(Number(m![2]) + Number(m![4] ?? 0)).toBe(Number(m![3]));
    expect(Number(m![3])).toBeGreaterThanOrEqual(acme.length);

    // Sending the whole demo again stores nothing new: same event_ids, same timestamps.
    const resent = await loadDemo({
      ingestUrl: urls.ingest,
      queryUrl: urls.query,
      stateFile: path.join(stackDir, 'demo-data.json'),
      resend: true,
    });
    expect(resent.status).toBe('loaded');
    topicEnd = await drainedDemoMessages();
    // The ingest API answers stored event_ids as duplicates without publishing them again.
    expect(topicEnd).toBe(BigInt(expected.reduce((s, e) => s + e.length, 0)));
    for (const [i, t] of DEMO_TENANTS.entries()) expect(await demoCount(t)).toBe(expected[i]!.length);

    await expectAllStopped(first);
  }, 400_000);

  it('a second start finds the demo stored and sends nothing', async () => {
    expect(topicEnd).toBeGreaterThan(0n);
    const expected = DEMO_TENANTS.map((t) => demoEvents(t, anchor()));
    second = runStart(env);
    await second.ready;
    expect(second.stderr()).toBe('');
    expect(warnings(second.stdout())).toEqual([]);
    const counts = DEMO_TENANTS.map((t, i) => `${t.tenant} ${expected[i]!.length.toLocaleString('en-US')}`);
    expect(second.stdout()).toContain(`Demo data: ${counts.join(', ')} events over the 21 days before`);
    expect(second.stdout()).toContain('(source demo.*), already stored');
    // Same signing key as the first start: the checkpoints signed then still verify.
    expect(printedKey(second.stdout())).toBe(printedKey(first!.stdout()));
    expect(await drainedDemoMessages()).toBe(topicEnd);
    for (const [i, t] of DEMO_TENANTS.entries()) expect(await demoCount(t)).toBe(expected[i]!.length);
    await expectAllStopped(second);
  }, 300_000);
});

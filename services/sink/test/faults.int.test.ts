import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startSink } from '../src/sink.ts';
import {
  admin,
  counts,
  createTopics,
  expectStoredOnce,
  logger,
  makeEvents,
  produce,
  sinkConfig,
  stack,
  storedIds,
  tcpProxy,
  tenantId,
  toMessage,
  waitFor,
} from './helpers.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

afterAll(async () => {
  await admin.close();
});

function runSink(env: Record<string, string>): {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: string | null }>;
  output: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/sink/src/main.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => out };
}

describe('sink faults', () => {
  it('SIGKILL between insert and commit, then restart: no duplicate, no loss', async () => {
    const t = await createTopics();
    const tenant = tenantId();
    const events = makeEvents(6000, tenant);
    await produce(t.topic, events.map(toMessage));
    const env = {
      KAFKA_TOPIC: t.topic,
      KAFKA_DLQ_TOPIC: t.dlq,
      SINK_GROUP_ID: t.groupId,
      KAFKA_TENANT_TOPIC_PREFIX: t.tenantPrefix,
      SINK_BATCH_MAX_ROWS: '250',
      SINK_BATCH_MAX_WAIT_MS: '300',
      // The killed member stays in the group until its session times out; keep that short.
      SINK_SESSION_TIMEOUT_MS: '6000',
    };
    try {
      const t0 = Date.now();
      const mark = (what: string) => process.env.SINK_TEST_DEBUG && console.log(what, Date.now() - t0);
      const first = runSink({ ...env, SINK_FAULT_CRASH_AFTER_INSERT: '1' });
      const end = await first.exited;
      expect(end, first.output()).toEqual({ code: null, signal: 'SIGKILL' });
      mark('killed');
      const afterCrash = await counts(tenant);
      const committedAtCrash = await t.committed(t.groupId);
      // The killed batch is in ClickHouse but its offsets are not committed: the window was hit.
      expect(afterCrash.raw).toBeGreaterThan(committedAtCrash);

      const second = runSink(env);
      const c = await waitFor(
        () => counts(tenant),
        (c) => c.final >= 6000,
      );
      expect(
        await waitFor(
          () => t.committed(t.groupId),
          (n) => n === 6000,
        ),
      ).toBe(6000);
      const tStop = Date.now();
      second.child.kill('SIGTERM');
      expect(await second.exited, second.output()).toEqual({ code: 0, signal: null });
      if (process.env.SINK_TEST_DEBUG) console.log(second.output(), 'stop ms', Date.now() - tStop);

      console.log(
        `kill test: after crash raw=${afterCrash.raw} committed=${committedAtCrash}; after restart ${JSON.stringify(await counts(tenant))}`,
      );
      expect(c.final).toBe(6000);
      expect(c.uniq).toBe(6000);
      // Same start offset and row-count cuts → the redelivered range had the same token: even
      // without FINAL there is no second row.
      expect((await counts(tenant)).raw).toBe(6000);
      expect(await storedIds(tenant)).toEqual(events.map((e) => e.event_id).sort());
    } finally {
      await t.drop();
    }
  });

  it('ClickHouse unreachable for 8 s mid-stream: everything stored after it returns, the sink never exits', async () => {
    const t = await createTopics();
    const tenant = tenantId();
    const chUrl = new URL(stack.CLICKHOUSE_URL);
    const proxy = await tcpProxy(Number(chUrl.port || 8123), chUrl.hostname);
    const sink = await startSink({
      config: sinkConfig(t, {
        CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
        SINK_BATCH_MAX_ROWS: '1000',
        SINK_RETRY_MAX_MS: '1000',
        SINK_INSERT_TIMEOUT_MS: '5000',
      }),
      logger,
    });
    try {
      const events = makeEvents(10_000, tenant);
      await produce(t.topic, events.slice(0, 5000).map(toMessage));
      expect(
        (
          await waitFor(
            () => counts(tenant),
            (c) => c.final >= 5000,
          )
        ).final,
      ).toBe(5000);

      // 20 s in the issue; 8 s here keeps the suite short and still spans many retries.
      await proxy.close();
      await produce(t.topic, events.slice(5000).map(toMessage));
      await new Promise((r) => setTimeout(r, 4000));
      const during = await fetch(`${sink.server!.url}/readyz`);
      expect(during.status).toBe(503);
      expect((await counts(tenant)).final).toBe(5000);
      await new Promise((r) => setTimeout(r, 4000));
      await proxy.reopen();

      const c = await expectStoredOnce(tenant, events, t);
      expect(sink.consumer.joined()).toBe(true);
      expect((await fetch(`${sink.server!.url}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${sink.server!.url}/metrics`)).text();
      // A batch meets the outage at its id lookup or at its insert: both are ClickHouse calls.
      const retriesOf = (op: string) =>
        Number(
          new RegExp(`^sink_retries_total\\{op="${op}",service="sink"\\} (\\d+)$`, 'm').exec(metrics)?.[1] ??
            0,
        );
      const retries = retriesOf('lookup') + retriesOf('insert');
      console.log(`outage test: ${retries} lookup/insert retries, rows ${JSON.stringify(c)}`);
      expect(retries).toBeGreaterThan(0);
    } finally {
      await sink.stop();
      await proxy.close();
      await t.drop();
    }
  });
});

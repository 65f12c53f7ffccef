import { type PrivateStack, startPrivateStack } from '@audit/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStored,
  type Pipeline,
  queryJson,
  sleep,
  startLoad,
  startPipeline,
  verifyPipeline,
} from './pipeline.ts';

/**
 * Server faults: the Kafka broker and the ClickHouse server are stopped mid-ingest. They run as
 * a private stack on free ports so stopping them does not disturb other test files.
 */
describe('server faults on a private stack', () => {
  let stack: PrivateStack;
  let p: Pipeline;
  beforeAll(async () => {
    stack = await startPrivateStack('e2e-faults');
    p = await startPipeline('srvfaults', { ...stack.env, SINK_SESSION_TIMEOUT_MS: '10000' });
  });
  afterAll(async () => {
    await p?.stop();
    await stack?.destroy();
  });

  it('Kafka stopped for 15 s: ingest answers 503 (never 202 for what it could not store) and recovers by itself', async () => {
    const load = startLoad(p, { workers: 4, batch: 50, prefix: `${p.tenant}-kafkadown`, pauseMs: 100 });
    await sleep(3000);
    const ackedBefore = load.acknowledged.size;
    await stack.stopKafka();
    const downAt = Date.now();
    await sleep(15_000 - (Date.now() - downAt));
    const during = { ...Object.fromEntries(load.statuses) };
    await stack.startKafka();
    // Recovery by itself: 202s come back without restarting anything.
    const ackedAtRestart = load.acknowledged.size;
    for (let t = 0; t < 60 && load.acknowledged.size === ackedAtRestart; t++) await sleep(500);
    await sleep(2000);
    await load.stop();
    const r = await checkStored(p, load);
    console.log(
      `kafka down 15 s: sent ${load.generated.size}, acknowledged ${load.acknowledged.size} (before ${ackedBefore}), statuses ${JSON.stringify(Object.fromEntries(load.statuses))}, stored ${r.stored}, duplicates ${r.duplicates}, missing ${r.missing}`,
    );
    expect(during[503] ?? 0).toBeGreaterThan(0);
    expect(load.acknowledged.size).toBeGreaterThan(ackedAtRestart);
    expect(Object.keys(Object.fromEntries(load.statuses)).sort()).toEqual(['202', '503']);
    expect(r).toMatchObject({ duplicates: 0, missing: 0, unknown: 0 });
  });

  it('ClickHouse stopped for 20 s: ingest keeps accepting, the query API answers 503, the sink catches up', async () => {
    const load = startLoad(p, { workers: 4, batch: 50, prefix: `${p.tenant}-chdown`, pauseMs: 100 });
    await sleep(2000);
    await stack.stopClickHouse();
    const ackedAtStop = load.acknowledged.size;
    await sleep(2000);
    const duringQuery = await queryJson<{ error: { code: string } }>(p, '/events?limit=1');
    await sleep(18_000);
    const ackedWhileDown = load.acknowledged.size - ackedAtStop;
    const statusesWhileDown = { ...Object.fromEntries(load.statuses) };
    await stack.startClickHouse();
    await sleep(2000);
    await load.stop();
    const r = await checkStored(p, load);
    const after = await queryJson<{ events: unknown[] }>(p, '/events?limit=1');
    console.log(
      `clickhouse down 20 s: sent ${load.generated.size}, acknowledged ${load.acknowledged.size} (${ackedWhileDown} while down), statuses ${JSON.stringify(statusesWhileDown)}, query while down ${duringQuery.status}, stored ${r.stored}, duplicates ${r.duplicates}, missing ${r.missing}`,
    );
    expect(ackedWhileDown).toBeGreaterThan(0);
    expect(Object.keys(statusesWhileDown)).toEqual(['202']);
    expect(duringQuery.status).toBe(503);
    expect(duringQuery.body.error.code).toBe('unavailable');
    expect(after.status).toBe(200);
    expect(r).toMatchObject({ duplicates: 0, missing: 0, unknown: 0 });
  });

  it('after the broker and ClickHouse restarts the trail verifies: nothing unsealed, nothing sealed twice', async () => {
    const r = await verifyPipeline(p);
    console.log(
      `trail after server faults: ${r.events} events, ${r.leaves} leaves, ${r.checkpoints} checkpoints, findings ${JSON.stringify(r.findings.slice(0, 5))}`,
    );
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.leaves).toBe(r.events);
    expect(r.events).toBeGreaterThan(0);
  });
});

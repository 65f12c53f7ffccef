import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStored,
  makeEvent,
  type Pipeline,
  postEvents,
  sleep,
  startLoad,
  startPipeline,
  verifyPipeline,
} from './pipeline.ts';

/**
 * Faults on the shared stack that only touch our own processes: the sink, the sealer and the
 * ingest API are SIGKILLed under load; poison messages are written to the topic. Each asserts
 * zero loss and zero duplicates of acknowledged events; at the end the trail still verifies.
 */
describe('faults in our own processes', () => {
  let p: Pipeline;
  beforeAll(async () => {
    // A killed sink member leaves the group after its session timeout; keep it short.
    p = await startPipeline('faults', { SINK_SESSION_TIMEOUT_MS: '6000' });
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('the sink is SIGKILLed 5 times (and the sealer twice) at random moments while ingest runs, restarted each time', async () => {
    const load = startLoad(p, { workers: 4, batch: 50, prefix: `${p.tenant}-sinkkill`, pauseMs: 200 });
    for (let k = 0; k < 5; k++) {
      await sleep(1000 + Math.floor(Math.random() * 2500));
      await p.sink.restart(); // SIGKILL, then a new process
      if (k % 2 === 1) await p.sealer.restart();
    }
    await sleep(1000);
    await load.stop();
    const r = await checkStored(p, load);
    console.log(
      `sink SIGKILL x5: sent ${load.generated.size}, acknowledged ${load.acknowledged.size}, stored ${r.stored}, duplicates ${r.duplicates}, missing ${r.missing}`,
    );
    expect(load.acknowledged.size).toBeGreaterThan(0);
    expect(r).toMatchObject({ duplicates: 0, missing: 0, unknown: 0 });
    // Seven restarts and the catch-up after each: generous on a loaded 2-core machine.
  }, 300_000);

  it('the ingest API is SIGKILLed under load: every event it answered 202 for is stored', async () => {
    const load = startLoad(p, { workers: 6, batch: 100, prefix: `${p.tenant}-ingestkill`, pauseMs: 100 });
    await sleep(3000);
    await p.ingest.kill('SIGKILL');
    const failedWhileDown = await postEvents(p, [makeEvent(0, 'down')], 'single');
    await p.ingest.restart();
    await sleep(2000);
    await load.stop();
    const r = await checkStored(p, load);
    console.log(
      `ingest SIGKILL: sent ${load.generated.size}, acknowledged ${load.acknowledged.size}, statuses ${JSON.stringify(Object.fromEntries(load.statuses))}, stored ${r.stored}, duplicates ${r.duplicates}, missing ${r.missing}`,
    );
    expect(failedWhileDown.status).toBe(0);
    expect(load.statuses.get(0) ?? 0).toBeGreaterThan(0); // some requests really were cut off
    expect(r.duplicates).toBe(0);
    expect(r.missing).toBe(0);
    // Events stored without a 202 are allowed (the client resends them), events never sent are not.
    expect(r.unknown).toBe(0);
  });

  it('poison messages on the topic go to the DLQ and the partition keeps flowing', async () => {
    const producer = p.kafka.producer({ idempotent: true });
    await producer.connect();
    const good = [makeEvent(1, 'poison'), makeEvent(2, 'poison')];
    const { normalizeEvent, serializeEvent } = await import('@audit/schema');
    const wire = good.map((e) =>
      serializeEvent(
        normalizeEvent(e as never, { tenantId: p.tenant, source: 'poison-test', receivedAt: new Date() }),
      ),
    );
    // All on one partition (same key), poison in between the valid ones.
    await producer.send({
      topic: p.topic,
      acks: -1,
      messages: [
        { key: 'poison', value: wire[0]! },
        { key: 'poison', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b]) },
        { key: 'poison', value: JSON.stringify({ event_type: 'x', tenant_id: p.tenant }) },
        { key: 'poison', value: wire[1]! },
      ],
    });
    await producer.disconnect();

    const admin = p.kafka.admin();
    await admin.connect();
    const dlqTopic = `${p.topic}.dlq`;
    let dlq = 0;
    for (let t = 0; t < 60 && dlq < 2; t++) {
      await sleep(500);
      dlq = (await admin.fetchTopicOffsets(dlqTopic)).reduce((n, o) => n + Number(o.high), 0);
    }
    await admin.disconnect();
    expect(dlq).toBe(2);
    for (const e of good) {
      let status = 0;
      for (let t = 0; t < 60 && status !== 200; t++) {
        const res = await fetch(`${p.query.url}/events/${e.event_id}`, {
          headers: { authorization: `Bearer ${p.readToken}` },
        });
        status = res.status;
        if (status !== 200) await sleep(500);
      }
      expect(status).toBe(200);
    }
  });

  it('after the kills the trail verifies: no stored event unsealed, none sealed twice', async () => {
    const r = await verifyPipeline(p);
    console.log(
      `trail after faults: ${r.events} events, ${r.leaves} leaves, ${r.checkpoints} checkpoints, findings ${JSON.stringify(r.findings.slice(0, 5))}`,
    );
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.leaves).toBe(r.events);
    expect(r.events).toBeGreaterThan(0);
  });
});

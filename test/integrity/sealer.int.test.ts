import { randomBytes } from 'node:crypto';
import { EVENT_COLUMNS, type EventRow } from '@audit/clickhouse';
import { type PrivateStack, startPrivateStack } from '@audit/stack';
import {
  fromHex,
  leafHashOfRow,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  sha256,
  toHex,
} from '@audit/tlog';
import { nodeHasher } from '@audit/tlog/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvents, sealedSize, sql, startTrail, type Trail, waitFor } from './trail.ts';

describe('sealer on a private stack: sink → leaves → sealed, signed checkpoints', () => {
  let stack: PrivateStack;
  let trail: Trail;
  beforeAll(async () => {
    stack = await startPrivateStack('sealer');
    trail = await startTrail(stack);
  });
  afterAll(async () => {
    await trail?.stop();
    await stack?.destroy();
  });

  it('every stored event becomes one leaf of its tenant, under a checkpoint that verifies', async () => {
    const tenants = [0, 1, 2].map(() => `t_${randomBytes(5).toString('hex')}`);
    const events = tenants.flatMap((t, k) => makeEvents(t, 500 + k * 250));
    await trail.produce(events);
    for (const [k, t] of tenants.entries()) {
      expect(
        await waitFor(
          () => sealedSize(trail.admin, t),
          (n) => n === 500 + k * 250,
        ),
      ).toBe(500 + k * 250);
    }
    const key = parseVerifierKey(sha256, trail.key.verifierKey);
    for (const t of tenants) {
      const [cp] = await sql<{ note: string; tree_size: string }>(
        trail.admin,
        'SELECT note, tree_size FROM audit.tlog_checkpoints FINAL WHERE tenant_id = {t:String} ORDER BY tree_size DESC LIMIT 1',
        { t },
      );
      const opened = await openNote(cp!.note, [key]);
      const c = parseCheckpoint(opened.text);
      expect(c.origin).toBe(`audit-log/${t}`);
      // The root recomputed from the stored events, in leaf order, is the signed one.
      const leafRows = await sql<{ event_id: string; leaf_hash: string }>(
        trail.admin,
        'SELECT toString(event_id) AS event_id, leaf_hash FROM audit.tlog_leaves FINAL WHERE tenant_id = {t:String} ORDER BY leaf_index',
        { t },
      );
      const stored = await sql<EventRow>(
        trail.admin,
        `SELECT ${EVENT_COLUMNS.join(', ')} FROM audit.events FINAL WHERE tenant_id = {t:String}`,
        { t },
      );
      const byId = new Map(stored.map((e) => [e.event_id, e]));
      expect(leafRows.length).toBe(c.size);
      expect(byId.size).toBe(c.size);
      const leaves = leafRows.map((l) => {
        expect(toHex(leafHashOfRow(nodeHasher, byId.get(l.event_id)!))).toBe(l.leaf_hash);
        return fromHex(l.leaf_hash);
      });
      expect(toHex(nodeHasher.rootOf(leaves))).toBe(toHex(c.rootHash));
    }
  });

  it('republished leaf records (a sink batch written twice) are dropped: no event sealed twice', async () => {
    const t = `t_${randomBytes(5).toString('hex')}`;
    await trail.produce(makeEvents(t, 300));
    expect(
      await waitFor(
        () => sealedSize(trail.admin, t),
        (n) => n === 300,
      ),
    ).toBe(300);
    const leaves = await sql<Record<string, unknown>>(
      trail.admin,
      `SELECT tenant_id, toString(event_id) AS event_id, leaf_hash, source_topic AS topic, source_partition AS partition, source_offset AS offset
       FROM audit.tlog_leaves FINAL WHERE tenant_id = {t:String}`,
      { t },
    );
    const producer = trail.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'audit.leaves',
      messages: leaves.map((l) => ({
        key: t,
        value: JSON.stringify({ ...l, partition: Number(l.partition), offset: Number(l.offset) }),
      })),
    });
    await producer.disconnect();
    // A marker tenant sealed after the replay proves the replay was consumed.
    const marker = `t_${randomBytes(5).toString('hex')}`;
    await trail.produce(makeEvents(marker, 5));
    expect(
      await waitFor(
        () => sealedSize(trail.admin, marker),
        (n) => n === 5,
      ),
    ).toBe(5);
    const [count] = await sql<{ n: string }>(
      trail.admin,
      'SELECT count() AS n FROM audit.tlog_leaves WHERE tenant_id = {t:String}',
      { t },
    );
    expect(Number(count!.n)).toBe(300);
    expect(await sealedSize(trail.admin, t)).toBe(300);
  });
});

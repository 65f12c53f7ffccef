import { randomBytes } from 'node:crypto';
import { EVENT_COLUMNS, type EventRow, toRow } from '@audit/clickhouse';
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

describe('tamper evidence on a private stack: sink → leaves → sealer → checkpoints → verify', () => {
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

  const newTenant = () => `t_${randomBytes(5).toString('hex')}`;
  const mutate = (query: string, params: Record<string, unknown>) =>
    trail.admin.command({ query, query_params: params, clickhouse_settings: { mutations_sync: '2' } });
  const sealed = async (tenant: string, n: number) =>
    expect(
      await waitFor(
        () => sealedSize(trail.admin, tenant),
        (x) => x === n,
      ),
    ).toBe(n);
  const checkpointSizes = async (tenant: string) =>
    (
      await sql<{ n: string }>(
        trail.admin,
        'SELECT tree_size AS n FROM audit.tlog_checkpoints FINAL WHERE tenant_id = {t:String} ORDER BY tree_size',
        { t: tenant },
      )
    ).map((r) => Number(r.n));
  const kinds = (r: { findings: { kind: string }[] }) => r.findings.map((f) => f.kind).sort();

  describe('with the ClickHouse admin user, after sealing', () => {
    const big = newTenant();
    const t = {
      field: newTenant(),
      details: newTenant(),
      del: newTenant(),
      forged: newTenant(),
      cp: newTenant(),
      rollback: newTenant(),
    };
    const events: Record<string, ReturnType<typeof makeEvents>> = {};

    beforeAll(async () => {
      // Three rounds for the checkpoint and rollback tenants: one checkpoint per round.
      for (const round of [0, 1, 2]) {
        const batch = [];
        if (round === 0) {
          events[big] = makeEvents(big, 100_000);
          batch.push(...events[big]!);
          for (const x of [t.field, t.details, t.del, t.forged]) {
            events[x] = makeEvents(x, 200);
            batch.push(...events[x]!);
          }
        }
        for (const x of [t.cp, t.rollback]) {
          const more = makeEvents(x, 100, round * 100);
          events[x] = [...(events[x] ?? []), ...more];
          batch.push(...more);
        }
        await trail.produce(batch);
        await sealed(t.cp, (round + 1) * 100);
        await sealed(t.rollback, (round + 1) * 100);
      }
      await sealed(big, 100_000);
      for (const x of [t.field, t.details, t.del, t.forged]) await sealed(x, 200);
    });

    it('an untouched trail of 100,000 events verifies, against the published checkpoints too', async () => {
      const r = await trail.verify(big);
      expect(r.findings).toEqual([]);
      expect(r).toMatchObject({ ok: true, events: 100_000, leaves: 100_000, latestSize: 100_000 });
      expect(r.checkpoints).toBeGreaterThanOrEqual(1);
      // The small tenants verify before they are tampered with.
      for (const x of Object.values(t)) expect((await trail.verify(x)).findings, x).toEqual([]);
    });

    it('a modified field is named', async () => {
      const id = events[t.field]![17]!.event_id;
      await mutate(
        "ALTER TABLE audit.events UPDATE user_id = 'mallory' WHERE tenant_id = {t:String} AND event_id = {e:UUID}",
        { t: t.field, e: id },
      );
      const r = await trail.verify(t.field);
      expect(r.ok).toBe(false);
      expect(r.findings).toEqual([expect.objectContaining({ kind: 'modified_event', event_ids: [id] })]);
    });

    it('one leaf changed inside event_details is named', async () => {
      const e = events[t.details]!.find(
        (x) => (x.event_details as { customer: { plan: string } }).customer.plan === 'pro',
      )!;
      await mutate(
        `ALTER TABLE audit.events UPDATE event_details = replaceOne(event_details, '"plan":"pro"', '"plan":"free"')
         WHERE tenant_id = {t:String} AND event_id = {e:UUID}`,
        { t: t.details, e: e.event_id },
      );
      const r = await trail.verify(t.details);
      expect(r.findings).toEqual([
        expect.objectContaining({ kind: 'modified_event', event_ids: [e.event_id] }),
      ]);
    });

    it('a deleted event is named', async () => {
      const id = events[t.del]![150]!.event_id;
      await mutate('ALTER TABLE audit.events DELETE WHERE tenant_id = {t:String} AND event_id = {e:UUID}', {
        t: t.del,
        e: id,
      });
      const r = await trail.verify(t.del);
      expect(r.findings).toEqual([expect.objectContaining({ kind: 'missing_event', event_ids: [id] })]);
      expect(r.events).toBe(199);
    });

    it('a forged event inserted straight into ClickHouse is named', async () => {
      const [forged] = makeEvents(t.forged, 1, 5000);
      await trail.admin.insert({
        table: 'audit.events',
        format: 'JSONEachRow',
        values: [toRow(forged!, 0, '0')],
      });
      const r = await trail.verify(t.forged);
      expect(r.findings).toEqual([
        expect.objectContaining({ kind: 'unsealed_event', event_ids: [forged!.event_id] }),
      ]);
      expect(r).toMatchObject({ events: 201, leaves: 200 });
    });

    it('a deleted checkpoint breaks the chain and is missing from the published ones', async () => {
      const sizes = await checkpointSizes(t.cp);
      // Checkpoints at 100, 200 and 300 exist (each round waited for them), maybe others between.
      const i = sizes.indexOf(200);
      await mutate(
        'ALTER TABLE audit.tlog_checkpoints DELETE WHERE tenant_id = {t:String} AND tree_size = 200',
        { t: t.cp },
      );
      const r = await trail.verify(t.cp);
      expect(kinds(r)).toEqual(['checkpoint_chain', 'published_missing']);
      expect(r.findings.find((f) => f.kind === 'published_missing')!.tree_sizes).toEqual([200]);
      expect(r.findings.find((f) => f.kind === 'checkpoint_chain')!.tree_sizes).toEqual([
        sizes[i - 1],
        sizes[i + 1],
      ]);
    });

    it('a rolled-back log (newest events, leaves and checkpoint deleted) contradicts the published checkpoints', async () => {
      const dropped = events[t.rollback]!.slice(200).map((e) => e.event_id);
      const rolledBack = (await checkpointSizes(t.rollback)).filter((n) => n > 200);
      await mutate(
        'ALTER TABLE audit.events DELETE WHERE tenant_id = {t:String} AND event_id IN {ids:Array(UUID)}',
        { t: t.rollback, ids: dropped },
      );
      await mutate(
        'ALTER TABLE audit.tlog_leaves DELETE WHERE tenant_id = {t:String} AND leaf_index >= 200',
        { t: t.rollback },
      );
      await mutate(
        'ALTER TABLE audit.tlog_checkpoints DELETE WHERE tenant_id = {t:String} AND tree_size > 200',
        { t: t.rollback },
      );
      // What the store alone shows is a consistent, shorter log: only the publication reveals it.
      expect((await trail.verify(t.rollback, { published: false })).findings).toEqual([]);
      const r = await trail.verify(t.rollback);
      expect(rolledBack).toContain(300);
      expect(r.findings).toEqual(
        rolledBack.map((n) => expect.objectContaining({ kind: 'rollback', tree_sizes: [n] })),
      );
    });
  });
});

import { applyAcls, removeAcls, tenantAcls, tenantPrincipal } from '@audit/kafka';
import { serializeEvent } from '@audit/schema';
import { devTenantPassword, userKafka } from '@audit/stack';
import { describe, expect, it } from 'vitest';
import { startSink } from '../src/sink.ts';
import {
  admin,
  counts,
  createTopics,
  kafka,
  logger,
  makeEvents,
  readTopic,
  sinkConfig,
  stack,
  storedIds,
  tenantId,
  waitFor,
} from './helpers.ts';

/**
 * Direct producers write their tenant's own topic (`<prefix><tenant>`) as their own principal;
 * the sink reads every such topic next to the events topic and stores an event only when its
 * tenant_id is the topic's tenant and its type is not a system one.
 */
describe('sink: tenant topics of direct producers (real Kafka, SCRAM principals, ACLs)', () => {
  it("acme's topic: acme's events are stored; a globex tenant_id goes to the DLQ as tenant_mismatch and a system type as reserved_type, neither stored", async () => {
    const t = await createTopics(2);
    // The dev stack's tenant principals (tenant-acme, tenant-globex), granted this test's topics.
    const acl = [...tenantAcls(t.tenantPrefix, 'acme'), ...tenantAcls(t.tenantPrefix, 'globex')];
    const kadmin = kafka.admin();
    await kadmin.connect();
    await applyAcls(kadmin, acl);
    const acmeTopic = await t.tenantTopic('acme', 2);
    // Unique ids inside the shared tenants: count only this test's rows.
    const marker = tenantId();
    const sink = await startSink({ config: sinkConfig(t, { SINK_TOPIC_REFRESH_MS: '500' }), logger });
    const acme = userKafka(stack, 'acme-direct', {
      name: tenantPrincipal('acme'),
      password: devTenantPassword('acme'),
    });
    const producer = acme.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      expect(sink.consumer.topics()).toEqual([t.topic, acmeTopic]);
      const [ownEvent, forged, reserved] = makeEvents(3, 'acme').map((e) => ({ ...e, source: marker }));
      const mismatch = { ...forged!, tenant_id: 'globex' };
      const system = { ...reserved!, event_type: 'audit.query.performed' };
      await producer.connect();
      await producer.send({
        topic: acmeTopic,
        acks: -1,
        messages: [ownEvent!, mismatch, system].map((e) => ({ key: e.event_id, value: serializeEvent(e) })),
      });

      const dead = await readTopic(t.dlq, 2, 120_000);
      expect(dead.map((d) => [d.headers['dlq-reason'], d.headers['source-topic']]).sort()).toEqual([
        ['reserved_type', acmeTopic],
        ['tenant_mismatch', acmeTopic],
      ]);
      const byReason = Object.fromEntries(dead.map((d) => [d.headers['dlq-reason'], d]));
      // The original bytes, untouched, and the issue in words.
      expect(byReason.tenant_mismatch!.value!.toString()).toBe(serializeEvent(mismatch));
      expect(JSON.parse(byReason.tenant_mismatch!.headers['dlq-error']!)).toEqual([
        { path: 'tenant_id', message: 'tenant_id "globex" on the topic of tenant "acme"' },
      ]);
      expect(byReason.reserved_type!.value!.toString()).toBe(serializeEvent(system));

      // Acme's own event is stored (the sink does read the topic), the other two are not.
      const ids = async (tenant: string) => {
        const rs = await admin.query({
          query: `SELECT toString(event_id) AS id FROM ${stack.CLICKHOUSE_DATABASE}.events FINAL
                  WHERE tenant_id = {t:String} AND source = {s:String} ORDER BY id`,
          query_params: { t: tenant, s: marker },
          format: 'JSONCompactEachRow',
        });
        return (await rs.json<[string]>()).map((r) => r[0]);
      };
      expect(
        await waitFor(
          () => ids('acme'),
          (r) => r.length >= 1,
        ),
      ).toEqual([ownEvent!.event_id]);
      expect(await ids('globex')).toEqual([]);
      // All three offsets are committed: the rejected two were dealt with, not retried forever.
      const total = async () => {
        const [c] = await kadmin.fetchOffsets({ groupId: t.groupId, topics: [acmeTopic] });
        return (c?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      };
      expect(await waitFor(total, (n) => n === 3)).toBe(3);
      expect(await sink.metrics.dlq.get()).toMatchObject({
        values: expect.arrayContaining([
          expect.objectContaining({ labels: { reason: 'tenant_mismatch' }, value: 1 }),
          expect.objectContaining({ labels: { reason: 'reserved_type' }, value: 1 }),
        ]),
      });
    } finally {
      await producer.disconnect();
      await sink.stop();
      await removeAcls(kadmin, acl).catch(() => {});
      await kadmin.disconnect();
      await t.drop();
    }
  });

  it('a tenant topic created while the sink runs is found, read from its beginning and checked', async () => {
    const t = await createTopics(2);
    const sink = await startSink({ config: sinkConfig(t, { SINK_TOPIC_REFRESH_MS: '300' }), logger });
    try {
      expect(sink.consumer.topics()).toEqual([t.topic]);
      const tenant = tenantId();
      // Provisioned after the sink started; written before the sink notices it.
      const topic = await t.tenantTopic(tenant, 2);
      const events = makeEvents(50, tenant);
      const stranger = { ...makeEvents(1, tenant)[0]!, tenant_id: tenantId() };
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      await producer.send({
        topic,
        acks: -1,
        messages: [...events, stranger].map((e) => ({ key: e.user_id, value: serializeEvent(e) })),
      });
      await producer.disconnect();

      const c = await waitFor(
        () => counts(tenant),
        (c) => c.final >= events.length,
      );
      expect(c.final).toBe(events.length);
      expect(await storedIds(tenant)).toEqual(events.map((e) => e.event_id).sort());
      expect(sink.consumer.topics()).toEqual([t.topic, topic]);
      const [dead] = await readTopic(t.dlq, 1, 120_000);
      expect(dead?.headers['dlq-reason']).toBe('tenant_mismatch');
      expect((await counts(stranger.tenant_id)).raw).toBe(0);
    } finally {
      await sink.stop();
      await t.drop();
    }
  });
});

import type { StoredIdentity } from '@audit/clickhouse';
import { describe, expect, it } from 'vitest';
import { checkProducer, firstWriteWins, groupByMonth, type Row } from './steps.ts';

const row = (offset: number, id: string, hash: string, month = 202601): Row => ({
  offset: String(offset),
  key: `t\u0000${id}`,
  identity: { tenant_id: 't', event_id: id, content_hash: hash, kafka_partition: 3, kafka_offset: offset },
  month,
  line: `{"o":${offset}}\n`,
});
const stored = (id: string, hash: string, partition: number, offset: number): [string, StoredIdentity] => [
  `t\u0000${id}`,
  { tenant_id: 't', event_id: id, content_hash: hash, kafka_partition: partition, kafka_offset: offset },
];

describe('firstWriteWins', () => {
  it('keeps the first copy of an id in the batch; later copies are duplicates or conflicts', () => {
    const r = firstWriteWins(
      [row(1, 'a', 'h1'), row(2, 'a', 'h1'), row(3, 'a', 'h2'), row(4, 'b', 'h3')],
      new Map(),
    );
    expect(r.map((x) => x.kind)).toEqual(['ok', 'duplicate', 'conflict', 'ok']);
    expect(r[1]).toMatchObject({ of: 'batch' });
    expect(r[2]).toMatchObject({ stored: { kafka_partition: 3, kafka_offset: 1 } });
  });
  it('against the stored copy: same hash is a duplicate (a redelivery when it is this very message), other hash a conflict', () => {
    const r = firstWriteWins(
      [row(1, 'a', 'h1'), row(2, 'b', 'h2'), row(5, 'c', 'h3'), row(6, 'd', 'h4'), row(7, 'd', 'h4')],
      new Map([
        stored('a', 'h1', 0, 9),
        stored('b', 'other', 1, 4),
        stored('c', 'h3', 3, 5),
        stored('d', '', 2, 2),
      ]),
    );
    expect(r.map((x) => (x.kind === 'duplicate' ? `duplicate:${x.of}` : x.kind))).toEqual([
      'duplicate:stored',
      'conflict',
      'duplicate:redelivery',
      'conflict',
      'conflict',
    ]);
    expect(r[1]).toMatchObject({ stored: { kafka_partition: 1, kafka_offset: 4 } });
    // Stored before content hashes: never compared equal, never replaced.
    expect(JSON.stringify(r[3])).toMatch(/cannot be compared/);
  });
});

describe('groupByMonth', () => {
  it('one group while the batch spans at most 100 months', () => {
    const rows = [row(1, 'a', 'h', 202601), row(2, 'b', 'h', 202512)];
    expect(groupByMonth(rows)).toEqual([{ rows, label: 'm202512-202601' }]);
    expect(groupByMonth([])).toEqual([]);
  });
  it('101 months → two inserts of at most 100 months, ascending, rows in offset order', () => {
    const months = Array.from({ length: 101 }, (_, i) => (1990 + Math.floor(i / 12)) * 100 + (i % 12) + 1);
    const rows = months.map((m, i) => row(i, `id${i}`, 'h', m)).reverse();
    const groups = groupByMonth(rows);
    expect(groups.map((g) => [g.rows.length, g.label])).toEqual([
      [100, 'm199001-199804'],
      [1, 'm199805-199805'],
    ]);
    expect(groups[0]!.rows[0]!.offset).toBe('99');
    // Deterministic: the same rows give the same groups.
    expect(groupByMonth(rows)).toEqual(groups);
  });
});

describe('checkProducer', () => {
  const event = (tenant: string, type = 'customer.billed') =>
    ({ tenant_id: tenant, event_type: type }) as Parameters<typeof checkProducer>[0];
  const ctx = (topicTenant?: string) => ({
    topic: 't',
    partition: 0,
    nowMs: 0,
    retentionDays: 365,
    topicTenant,
  });

  it("on a tenant's own topic: that tenant's events pass, another tenant_id is tenant_mismatch, audit.* is reserved_type", () => {
    expect(checkProducer(event('acme'), ctx('acme')).kind).toBe('ok');
    expect(checkProducer(event('globex'), ctx('acme'))).toMatchObject({
      kind: 'dlq',
      reason: 'tenant_mismatch',
    });
    expect(checkProducer(event('acme', 'audit.query.performed'), ctx('acme'))).toMatchObject({
      kind: 'dlq',
      reason: 'reserved_type',
    });
    // A prefix of the reserved namespace is not in it.
    expect(checkProducer(event('acme', 'auditing.done'), ctx('acme')).kind).toBe('ok');
  });

  it('on the events topic (the services write it): any tenant, system types too', () => {
    expect(checkProducer(event('globex', 'audit.query.performed'), ctx()).kind).toBe('ok');
  });
});

import type { StoredEventsLookup, StoredIdentity } from '@audit/clickhouse';
import { createLogger, createMetrics } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { createIngestMetrics } from './metrics.ts';
import { createRecentIds } from './recent-ids.ts';
import { type Candidate, candidateKey, classifyResends, createResendCheck } from './resends.ts';

const T = 'acme';
const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const cand = (index: number, n: number, hash: string): Candidate => ({
  index,
  tenantId: T,
  eventId: ID(n),
  key: candidateKey(T, ID(n)),
  hash,
});
const known = (entries: [number, string][]) => {
  const m = new Map(entries.map(([n, h]) => [candidateKey(T, ID(n)), h]));
  return (key: string) => m.get(key);
};

describe('classifyResends', () => {
  it('new ids are neither; the same hash is a duplicate; another hash is a conflict', () => {
    const v = classifyResends(
      [cand(0, 1, 'h1'), cand(1, 2, 'h2'), cand(2, 3, 'other')],
      known([
        [2, 'h2'],
        [3, 'h3'],
      ]),
    );
    expect([...v.duplicates]).toEqual([1]);
    expect(v.conflicts).toEqual([ID(3)]);
  });

  it('inside one request: a repeated identical event is a duplicate, a repeated id with other content a conflict', () => {
    const v = classifyResends(
      [cand(0, 1, 'h1'), cand(1, 1, 'h1'), cand(2, 2, 'a'), cand(3, 2, 'b'), cand(4, 2, 'c')],
      known([]),
    );
    expect([...v.duplicates]).toEqual([1]);
    expect(v.conflicts).toEqual([ID(2)]);
  });

  it('a stored row without a content hash (written before hashes existed) decides nothing', () => {
    const v = classifyResends([cand(0, 1, 'h1')], known([[1, '']]));
    expect([v.duplicates.size, v.conflicts]).toEqual([0, []]);
  });

  it('ids compare case-insensitively per tenant', () => {
    expect(candidateKey(T, 'ABC')).toBe(candidateKey(T, 'abc'));
    expect(candidateKey(T, 'abc')).not.toBe(candidateKey('globex', 'abc'));
  });
});

describe('createResendCheck', () => {
  const log = createLogger('test', 'silent');
  const identity = (n: number, hash: string): StoredIdentity => ({
    tenant_id: T,
    event_id: ID(n),
    content_hash: hash,
    kafka_partition: 0,
    kafka_offset: 0,
  });

  function setup(lookup: StoredEventsLookup, clock = { t: 0 }) {
    const metrics = createIngestMetrics(createMetrics('ingest-api', false));
    const asked: string[][] = [];
    const check = createResendCheck({
      lookup: (keys, signal) => {
        asked.push([...keys].map((k) => k.event_id));
        return lookup(keys, signal);
      },
      recent: createRecentIds(100),
      metrics,
      backoffMs: 1000,
      now: () => clock.t,
    });
    return { check, metrics, asked, clock };
  }

  it('asks the id index only for ids it has not acknowledged itself, once each', async () => {
    const { check, asked } = setup(async () => new Map([[candidateKey(T, ID(2)), identity(2, 'h2')]]));
    check.remember([cand(0, 1, 'h1')]);
    const v = await check.check(
      [cand(0, 1, 'h1'), cand(1, 2, 'h2'), cand(2, 3, 'h3'), cand(3, 3, 'h3')],
      log,
    );
    expect(asked).toEqual([[ID(2), ID(3)]]);
    expect([...v.duplicates]).toEqual([0, 1, 3]);
    expect(v.conflicts).toEqual([]);
  });

  it('a failing lookup is skipped (counted), then lookups pause for the backoff', async () => {
    const { check, metrics, asked, clock } = setup(async () => {
      throw Object.assign(new Error('slow'), { name: 'TimeoutError' });
    });
    const v = await check.check([cand(0, 1, 'h1'), cand(1, 2, 'h2')], log);
    expect([v.duplicates.size, v.conflicts]).toEqual([0, []]);
    clock.t = 500;
    await check.check([cand(0, 3, 'h3')], log);
    clock.t = 1000;
    await check.check([cand(0, 4, 'h4')], log);
    expect(asked).toEqual([[ID(1), ID(2)], [ID(4)]]);
    const skipped = await metrics.idCheckSkipped.get();
    expect(Object.fromEntries(skipped.values.map((x) => [x.labels.reason, x.value]))).toEqual({
      timeout: 3,
      backoff: 1,
    });
  });

  it('requests arriving while a lookup runs share the next one', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { check, asked } = setup(async (keys) => {
      await gate;
      const m = new Map<string, StoredIdentity>();
      for (const k of keys) if (k.event_id === ID(3)) m.set(candidateKey(T, ID(3)), identity(3, 'h3'));
      return m;
    });
    const first = check.check([cand(0, 1, 'h1')], log);
    const second = check.check([cand(0, 2, 'h2')], log);
    const third = check.check([cand(0, 3, 'h3')], log);
    release();
    const verdicts = await Promise.all([first, second, third]);
    expect(asked).toEqual([[ID(1)], [ID(2), ID(3)]]);
    expect(verdicts.map((v) => [...v.duplicates])).toEqual([[], [], [0]]);
  });
});

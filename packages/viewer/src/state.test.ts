import { describe, expect, it } from 'vitest';
import { apiParams, decodeState, encodeState, fillBuckets, pickInterval, withCondition } from './state.ts';

describe('view state ↔ URL', () => {
  it('round-trips a view, with filter parameters in the API’s own language', () => {
    const s = {
      range: { from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T02:00:00.000Z' },
      conditions: [
        { field: 'details.amount', op: 'gte' as const, value: '12.5' },
        { field: 'event_type', op: 'in' as const, value: 'a,b' },
      ],
      event: '0190a1b2-c3d4-7e5f-8a9b-000000000001',
    };
    const q = encodeState(s);
    expect(decodeURIComponent(q)).toContain('details.amount[gte]=12.5');
    expect(decodeState(q)).toEqual(s);
    expect(apiParams(s, 0).toString()).toBe(
      new URLSearchParams({
        from: s.range.from,
        to: s.range.to,
        'details.amount[gte]': '12.5',
        'event_type[in]': 'a,b',
      }).toString(),
    );
  });

  it('drops what it does not understand and defaults to the last 24 hours', () => {
    expect(decodeState('range=bogus&from=x&x[zz]=1&event=nope&user_id=u1&user_id=u2')).toEqual({
      range: { preset: '24h' },
      conditions: [{ field: 'user_id', op: 'eq', value: 'u1' }],
    });
    const rel = apiParams({ range: { preset: '15m' }, conditions: [] }, Date.UTC(2026, 0, 1));
    expect(rel.get('from')).toBe('2025-12-31T23:45:00.000Z');
  });

  it('replaces a condition on the same field and operator (the API takes each once)', () => {
    const a = withCondition([{ field: 'x', op: 'eq', value: '1' }], { field: 'x', op: 'eq', value: '2' });
    expect(a).toEqual([{ field: 'x', op: 'eq', value: '2' }]);
    expect(withCondition(a, { field: 'x', op: 'ne', value: '3' })).toHaveLength(2);
  });
});

describe('histogram buckets', () => {
  it('picks the finest interval under ~400 bars', () => {
    expect(pickInterval(0, 6 * 3600_000)).toBe('minute');
    expect(pickInterval(0, 7 * 86400_000)).toBe('hour');
    expect(pickInterval(0, 30 * 86400_000)).toBe('day');
  });

  it('fills the empty buckets with zeros', () => {
    const from = Date.UTC(2026, 10, 1);
    const b = fillBuckets(
      [{ bucket: '2026-11-01T00:02:00.000Z', count: 5 }],
      from,
      from + 4 * 60_000,
      'minute',
    );
    expect(b.n).toEqual([0, 0, 5, 0]);
    expect(b.t[0]).toBe(from / 1000);
  });
});

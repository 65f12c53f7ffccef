import { ApiError } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { checkSource, checkTenant, checkTimeWindow, MAX_REPORTED_ITEMS, validateItems } from './validate.ts';

const valid = (i: number) => ({
  value: { event_type: 'a.b', timestamp: '2026-01-02T03:04:05Z', user_id: `u${i}` },
});

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('validateItems', () => {
  it('returns every event when all are valid', () => {
    expect(validateItems([valid(1), valid(2)]).map((e) => e.user_id)).toEqual(['u1', 'u2']);
  });

  it('refuses the reserved audit.* types: only the service writes those records (docs/access-audit.md)', () => {
    const forged = { value: { ...(valid(1).value as object), event_type: 'audit.log.viewed' }, line: 1 };
    const err = thrown(() => validateItems([forged]));
    expect([err.status, err.code]).toEqual([400, 'validation_failed']);
    expect(JSON.stringify(err.details)).toContain('written by the audit log itself');
    const lookalike = { value: { ...(valid(1).value as object), event_type: 'auditing.done' }, line: 1 };
    expect(validateItems([lookalike])).toHaveLength(1);
  });

  it('lists every invalid index with its NDJSON line', () => {
    const err = thrown(() =>
      validateItems([valid(0), { value: {}, line: 2 }, valid(2), { value: 7, line: 5 }]),
    );
    expect([err.status, err.code]).toEqual([400, 'validation_failed']);
    const details = err.details as { index: number; line: number }[];
    expect(details.map((d) => [d.index, d.line])).toEqual([
      [1, 2],
      [3, 5],
    ]);
    expect(err.message).toBe('2 of 4 events are invalid; nothing was accepted');
  });

  it('names the fields of a single invalid event in the message', () => {
    const err = thrown(() => validateItems([{ value: { key1: 'value1' } }]));
    expect(err.message).toMatch(/event_type/);
    expect(err.message).toMatch(/key1/);
  });

  it(`reports at most ${MAX_REPORTED_ITEMS} items but counts them all`, () => {
    const items = Array.from({ length: 250 }, () => ({ value: {} }));
    const err = thrown(() => validateItems(items));
    expect((err.details as unknown[]).length).toBe(MAX_REPORTED_ITEMS);
    expect(err.message).toBe('250 of 250 events are invalid; nothing was accepted');
  });
});

describe('checkTenant', () => {
  it('accepts events without tenant_id or with the token tenant', () => {
    expect(() =>
      checkTenant([{ ...valid(1).value }, { ...valid(2).value, tenant_id: 'acme' }], 'acme'),
    ).not.toThrow();
  });

  it('refuses another tenant with 403', () => {
    const err = thrown(() => checkTenant([{ ...valid(1).value, tenant_id: 'globex' }], 'acme'));
    expect([err.status, err.code]).toEqual([403, 'tenant_mismatch']);
  });
});

describe('checkTimeWindow', () => {
  const now = Date.parse('2026-12-02T00:00:00Z');
  const at = (timestamp: string) => ({ event_type: 'a.b', timestamp, user_id: 'u' });

  it('accepts events inside the retention and up to a day ahead', () => {
    expect(() =>
      checkTimeWindow([], [at('2025-12-02T00:00:00Z'), at('2026-12-03T00:00:00Z')], now, 365),
    ).not.toThrow();
  });

  it('refuses an event older than the retention with 400 expired, saying why', () => {
    const err = thrown(() => checkTimeWindow([], [at('2020-01-01T00:00:00Z')], now, 365));
    expect([err.status, err.code]).toEqual([400, 'expired']);
    expect(err.message).toBe(
      'timestamp is older than the retention of 365 days (oldest accepted: 2025-12-02T00:00:00.000Z): it would never be stored',
    );
    expect(err.details).toEqual([
      {
        index: 0,
        issues: [
          {
            path: 'timestamp',
            message: 'is older than the retention of 365 days (oldest accepted: 2025-12-02T00:00:00.000Z)',
          },
        ],
      },
    ]);
  });

  it('refuses timestamps past the skew with 400 timestamp_in_future; mixed with expired ones the code is expired', () => {
    const items = [
      { value: {}, line: 1 },
      { value: {}, line: 2 },
      { value: {}, line: 4 },
    ];
    const future = thrown(() =>
      checkTimeWindow(items, [at('2026-12-01T00:00:00Z'), at('2105-12-31T00:00:00Z')], now, 365),
    );
    expect([future.status, future.code]).toEqual([400, 'timestamp_in_future']);
    expect((future.details as { index: number; line: number }[]).map((d) => [d.index, d.line])).toEqual([
      [1, 2],
    ]);
    const mixed = thrown(() =>
      checkTimeWindow(
        items,
        [at('2105-12-31T00:00:00Z'), at('2026-12-01T00:00:00Z'), at('2001-01-01T00:00:00Z')],
        now,
        365,
      ),
    );
    expect(mixed.code).toBe('expired');
    expect(mixed.message).toBe('2 of 3 events have a timestamp storage would not keep; nothing was accepted');
  });
});

describe('checkSource', () => {
  it('refuses a token subject the schema would refuse as source, unless every event names its source', () => {
    expect(() => checkSource([valid(1).value], 'svc')).not.toThrow();
    expect(() => checkSource([{ ...valid(1).value, source: 'crm' }], 'bad\u0000sub')).not.toThrow();
    const err = thrown(() =>
      checkSource([{ ...valid(1).value, source: 'crm' }, valid(2).value], 'bad\u0000sub'),
    );
    expect([err.status, err.code]).toEqual([400, 'validation_failed']);
    expect((err.details as { index: number }[]).map((d) => d.index)).toEqual([1]);
  });
});

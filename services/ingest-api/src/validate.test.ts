import { ApiError } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { checkTenant, MAX_REPORTED_ITEMS, validateItems } from './validate.ts';

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

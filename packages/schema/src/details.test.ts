import { describe, expect, it } from 'vitest';
import { flattenDetails } from './details.ts';
import { DETAILS_PATH_RE } from './limits.ts';
import { parseJson } from './parse-json.ts';

describe('flattenDetails', () => {
  it('joins leaf paths with dots and array indexes', () => {
    expect(
      flattenDetails({
        customer: { plan: 'pro', seats: 12, trial: false, address: { country: 'DE' } },
        items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-2' }],
        tags: ['x', 'y'],
        note: null,
        ratio: 0.25,
        big: -9007199254740991,
        exp: 1e21,
      }),
    ).toEqual({
      'customer.plan': 'pro',
      'customer.seats': '12',
      'customer.trial': 'false',
      'customer.address.country': 'DE',
      'items.0.sku': 'A-1',
      'items.0.qty': '2',
      'items.1.sku': 'B-2',
      'tags.0': 'x',
      'tags.1': 'y',
      note: 'null',
      ratio: '0.25',
      big: '-9007199254740991',
      exp: '1e+21',
    });
  });

  it('keeps strings as they are (no JSON quoting) and adds nothing for empty containers', () => {
    expect(flattenDetails({ s: 'say "hi"\n', e: {}, a: [], n: { e: {}, a: [[]] }, t: true })).toEqual({
      s: 'say "hi"\n',
      t: 'true',
    });
    expect(flattenDetails({})).toEqual({});
  });

  it('produces paths that DETAILS_PATH_RE accepts for ordinary keys', () => {
    const flat = flattenDetails({ a: { b: [{ 'c-d_1': 1 }] } });
    expect(Object.keys(flat)).toEqual(['a.b.0.c-d_1']);
    expect(Object.keys(flat).every((p) => DETAILS_PATH_RE.test(p))).toBe(true);
  });

  it('stores a __proto__ key as data, never as a prototype', () => {
    const parsed = parseJson('{"__proto__":"x","a":{"__proto__":{"polluted":1}},"constructor":"c"}');
    const flat = flattenDetails((parsed as { value: Record<string, unknown> }).value);
    expect(Object.getPrototypeOf(flat)).toBe(Object.prototype);
    expect(Object.keys(flat)).toEqual(['__proto__', 'a.__proto__.polluted', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(flat, '__proto__')?.value).toBe('x');
    expect(flat['constructor']).toBe('c');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(flat)).toBe('{"__proto__":"x","a.__proto__.polluted":"1","constructor":"c"}');
  });
});

describe('DETAILS_PATH_RE', () => {
  it.each(['a', 'customer.plan', 'items.0.sku', 'A-b_9', 'a.b.c.d.e.f.g.h', 'k'.repeat(128)])(
    'accepts %s',
    (p) => {
      expect(DETAILS_PATH_RE.test(p)).toBe(true);
    },
  );
  it.each(['', '.a', 'a.', 'a..b', 'a b', 'a.b.c.d.e.f.g.h.i', 'k'.repeat(129), 'a/b', "a'"])(
    'rejects %j',
    (p) => {
      expect(DETAILS_PATH_RE.test(p)).toBe(false);
    },
  );
});

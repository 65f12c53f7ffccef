import type { AuditEvent } from '@audit/schema';
import { describe, expect, it } from 'vitest';
import { compareUtf8, compileMatcher } from './match.ts';
import { parseRequest } from './parse.ts';

// The matcher's semantics, operator by operator (docs/api.md, "What a details filter matches").
// test/match-vs-sql.int.test.ts checks the same semantics against ClickHouse itself.

const ID = '0190f1e2-7c3a-7d4e-8f10-123456789abc';

function event(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    event_id: ID,
    event_type: 'customer.billed',
    timestamp: '2026-01-02T03:04:05.678Z',
    received_at: '2026-01-02T03:04:06.000Z',
    tenant_id: 'acme',
    source: 'billing',
    user_id: 'u1',
    schema_version: 1,
    event_details: {},
    ...over,
  };
}

const details = (d: Record<string, unknown>) => event({ event_details: d });

/** Whether `pairs` (decoded name/value pairs, as a query string gives them) match `e`. */
function matches(pairs: [string, string][], e: AuditEvent): boolean {
  return compileMatcher(parseRequest(pairs, []).filters)(e);
}

const one = (name: string, value: string) => (e: AuditEvent) => matches([[name, value]], e);

describe('details: eq and in', () => {
  it.each([
    ['a string by its text', { p: 'abc' }, 'abc', true],
    ['not another string', { p: 'abc' }, 'ab', false],
    ['the empty string', { p: '' }, '', true],
    ['a boolean by its text', { p: true }, 'true', true],
    ['the string "true" too', { p: 'true' }, 'true', true],
    ['false', { p: false }, 'false', true],
    ['a number by value: 15', { p: 15 }, '15', true],
    ['15.0', { p: 15 }, '15.0', true],
    ['1.5e1', { p: 15 }, '1.5e1', true],
    ['+15', { p: 15 }, '+15', true],
    ['0.15e2', { p: 15 }, '0.15e2', true],
    ['not 15.5', { p: 15 }, '15.5', false],
    ['the string "15" by text', { p: '15' }, '15', true],
    ['but not by number', { p: '15' }, '15.0', false],
    ['a negative number', { p: -2.5 }, '-2.50', true],
    ['a fraction', { p: 0.1 }, '.1', true],
    ['a tiny exponent', { p: 1e-7 }, '0.0000001', true],
    ['-0 as 0', { p: -0 }, '0', true],
    ['0 as -0', { p: 0 }, '-0', true],
    ['a big integer', { p: 9007199254740991 }, '9007199254740991', true],
    ['JSON null never (p=null is the string)', { p: null }, 'null', false],
    ['the string "null"', { p: 'null' }, 'null', true],
    ['an object never', { p: { q: 1 } }, '', false],
    ['an empty array never', { p: [] }, '', false],
    ['a missing path never, not even as ""', {}, '', false],
    ['a number that is not a number filter', { p: 15 }, 'x15', false],
  ])('%s', (_, d, value, expected) => {
    expect(one('details.p', value)(details(d))).toBe(expected);
  });

  it('in: any of the values, each with eq semantics; "a," lists "a" and ""', () => {
    const m = one('details.p[in]', 'x,1.5e1,');
    expect(m(details({ p: 'x' }))).toBe(true);
    expect(m(details({ p: 15 }))).toBe(true);
    expect(m(details({ p: '' }))).toBe(true);
    expect(m(details({ p: '1.5e1' }))).toBe(true);
    expect(m(details({ p: '15' }))).toBe(false);
    expect(m(details({ p: null }))).toBe(false);
    expect(m(details({}))).toBe(false);
  });
});

describe('details: ne', () => {
  const m = one('details.p[ne]', '15');
  it.each([
    ['another string', { p: 'x' }, true],
    ['the same text', { p: '15' }, false],
    ['the same number', { p: 15 }, false],
    ['another number', { p: 16 }, true],
    ['null', { p: null }, true],
    ['an object', { p: { q: 15 } }, true],
    ['an empty array', { p: [] }, true],
    ['a missing path: ne needs the path', {}, false],
  ])('%s', (_, d, expected) => {
    expect(m(details(d))).toBe(expected);
  });
});

describe('details: gt, gte, lt, lte compare numbers only', () => {
  it.each([
    ['gt', '10', { p: 15 }, true],
    ['gt', '15', { p: 15 }, false],
    ['gte', '15', { p: 15 }, true],
    ['gte', '1.5e1', { p: 15 }, true],
    ['lt', '15', { p: 15 }, false],
    ['lte', '15.0', { p: 15 }, true],
    ['lt', '0', { p: -1e-7 }, true],
    ['gt', '-3', { p: -2.5 }, true],
    ['gt', '0.3', { p: 0.30000000000000004 }, true],
    ['lte', '0.3', { p: 0.30000000000000004 }, false],
    ['gt', '10', { p: '15' }, false],
    ['gt', '-1', { p: true }, false],
    ['gt', '-1', { p: null }, false],
    ['gt', '-1', { p: [1] }, false],
    ['gt', '-1', {}, false],
  ])('details.p[%s]=%s on %j → %s', (op, value, d, expected) => {
    expect(one(`details.p[${op}]`, value)(details(d))).toBe(expected);
  });

  it('an array element by index', () => {
    expect(one('details.items.1.n[gte]', '2')(details({ items: [{ n: 1 }, { n: 2 }] }))).toBe(true);
    expect(one('details.items.0.n[gte]', '2')(details({ items: [{ n: 1 }, { n: 2 }] }))).toBe(false);
  });
});

describe('details: prefix, exists, type', () => {
  it('prefix: strings only', () => {
    const m = one('details.p[prefix]', 'ab');
    expect(m(details({ p: 'abc' }))).toBe(true);
    expect(m(details({ p: 'ab' }))).toBe(true);
    expect(m(details({ p: 'a' }))).toBe(false);
    expect(m(details({ p: 'xab' }))).toBe(false);
    expect(one('details.p[prefix]', '1')(details({ p: 15 }))).toBe(false);
    expect(one('details.p[prefix]', 't')(details({ p: true }))).toBe(false);
    expect(one('details.p[prefix]', '')(details({ p: '' }))).toBe(true);
    expect(one('details.p[prefix]', '')(details({ p: null }))).toBe(false);
    expect(one('details.p[prefix]', '')(details({}))).toBe(false);
    expect(one('details.p[prefix]', '😀')(details({ p: '😀x' }))).toBe(true);
  });

  it('exists: any node, containers (also empty) included; false: no node at the path', () => {
    for (const v of ['', 0, false, null, {}, [], { q: 1 }, [1]]) {
      expect(one('details.p[exists]', 'true')(details({ p: v }))).toBe(true);
      expect(one('details.p[exists]', 'false')(details({ p: v }))).toBe(false);
    }
    expect(one('details.p[exists]', 'true')(details({}))).toBe(false);
    expect(one('details.p[exists]', 'false')(details({}))).toBe(true);
    expect(one('details.p.q[exists]', 'true')(details({ p: { q: null } }))).toBe(true);
    expect(one('details.p.0[exists]', 'true')(details({ p: [] }))).toBe(false);
  });

  it.each([
    ['string', 'x'],
    ['number', 1],
    ['boolean', false],
    ['null', null],
    ['object', {}],
    ['array', []],
  ])('type=%s', (type, v) => {
    expect(one('details.p[type]', type)(details({ p: v }))).toBe(true);
    for (const other of ['string', 'number', 'boolean', 'null', 'object', 'array']) {
      if (other !== type) expect(one('details.p[type]', other)(details({ p: v }))).toBe(false);
    }
    expect(one('details.p[type]', type)(details({}))).toBe(false);
  });
});

describe('details paths', () => {
  it('a dotted key and a nested object are the same path', () => {
    expect(one('details.a.b', 'x')(details({ 'a.b': 'x' }))).toBe(true);
    expect(one('details.a.b', 'x')(details({ a: { b: 'x' } }))).toBe(true);
    expect(one('details.a[type]', 'object')(details({ 'a.b': 'x' }))).toBe(false);
  });

  it('keys with brackets, spaces and Unicode', () => {
    expect(one('details.tags[0][eq]', 'br')(details({ 'tags[0]': 'br' }))).toBe(true);
    expect(one('details.with space', 's')(details({ 'with space': 's' }))).toBe(true);
    expect(one('details.ключ', 'значение')(details({ ключ: 'значение' }))).toBe(true);
  });

  it('a path named like an Object.prototype member is just a missing path', () => {
    for (const path of ['toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      expect(one(`details.${path}[exists]`, 'false')(details({}))).toBe(true);
      expect(one(`details.${path}[exists]`, 'true')(details({}))).toBe(false);
      expect(one(`details.${path}[ne]`, 'x')(details({}))).toBe(false);
    }
    expect(one('details.toString', 'x')(details({ toString: 'x' }))).toBe(true);
  });
});

describe('common columns', () => {
  it('an omitted optional field has no value: only exists=false matches it', () => {
    const e = event();
    expect(one('outcome[exists]', 'false')(e)).toBe(true);
    expect(one('outcome[exists]', 'true')(e)).toBe(false);
    for (const [name, value] of [
      ['outcome', ''],
      ['outcome[ne]', 'success'],
      ['outcome[in]', 'a,'],
      ['outcome[prefix]', ''],
      ['outcome[lt]', 'z'],
      ['outcome[gte]', ''],
    ] as const) {
      expect(one(name, value)(e), name).toBe(false);
    }
    const set = event({ outcome: 'failure' });
    expect(one('outcome[ne]', 'success')(set)).toBe(true);
    expect(one('outcome[exists]', 'true')(set)).toBe(true);
    expect(one('outcome[in]', 'success,failure')(set)).toBe(true);
    expect(one('outcome[prefix]', 'fail')(set)).toBe(true);
  });

  it('text comparisons are by UTF-8 bytes, not UTF-16 code units', () => {
    // U+1F600 is a surrogate pair in UTF-16 (below U+FFFD) but F0… in UTF-8 (above EF BF BD).
    const e = event({ user_id: '😀' });
    expect(one('user_id[gt]', '\uFFFD')(e)).toBe(true);
    expect(one('user_id[lt]', '\uFFFD')(e)).toBe(false);
    expect(one('user_id[gte]', '😀')(e)).toBe(true);
    expect(one('user_id[lte]', '😀')(e)).toBe(true);
    expect(one('user_id[gt]', '😀')(e)).toBe(false);
    expect(one('user_id[lt]', 'u')(event({ user_id: 'U' }))).toBe(true);
    expect(one('user_id[gt]', 'u1')(event({ user_id: 'u1 ' }))).toBe(true);
    expect(one('event_type[lt]', 'customer.c')(event())).toBe(true);
  });

  it('event_id: eq and in take either case, prefix compares the lower-case text', () => {
    expect(one('event_id', ID.toUpperCase())(event())).toBe(true);
    expect(one('event_id[ne]', ID.toUpperCase())(event())).toBe(false);
    expect(one('event_id[in]', `${ID.toUpperCase()},${ID.replace(/.$/, 'd')}`)(event())).toBe(true);
    expect(one('event_id[prefix]', '0190f1e2-7c')(event())).toBe(true);
    expect(one('event_id[prefix]', '0190F1E2')(event())).toBe(false);
    expect(one('event_id[prefix]', '')(event())).toBe(true);
    // The stored UUID's text is lower-case whatever case the event carried.
    expect(one('event_id[prefix]', '0190f1e2')(event({ event_id: ID.toUpperCase() }))).toBe(true);
    expect(one('event_id', ID)(event({ event_id: ID.toUpperCase() }))).toBe(true);
  });

  it('schema_version compares as an integer', () => {
    const e = event({ schema_version: 10 });
    expect(one('schema_version[gt]', '9')(e)).toBe(true);
    expect(one('schema_version[lt]', '9')(e)).toBe(false);
    expect(one('schema_version[gte]', '10')(e)).toBe(true);
    expect(one('schema_version', '10')(e)).toBe(true);
    expect(one('schema_version[ne]', '10')(e)).toBe(false);
    expect(one('schema_version[in]', '1,10')(e)).toBe(true);
    expect(one('schema_version[in]', '1,2')(e)).toBe(false);
  });

  it('conditions AND', () => {
    const e = event({ action: 'delete', event_details: { amount: 12 } });
    expect(
      matches(
        [
          ['action', 'delete'],
          ['details.amount[gte]', '10'],
        ],
        e,
      ),
    ).toBe(true);
    expect(
      matches(
        [
          ['action', 'delete'],
          ['details.amount[gte]', '13'],
        ],
        e,
      ),
    ).toBe(false);
  });
});

describe('the service’s own audit.* records', () => {
  const record = event({ event_type: 'audit.log.viewed' });
  it('are left out by default, also by an empty filter', () => {
    expect(matches([], record)).toBe(false);
    expect(matches([], event())).toBe(true);
    expect(one('user_id', 'u1')(record)).toBe(false);
  });
  it('are in when a condition names event_type, whatever its operator', () => {
    expect(one('event_type[prefix]', 'audit.')(record)).toBe(true);
    expect(one('event_type[exists]', 'true')(record)).toBe(true);
    expect(one('event_type[ne]', 'x')(record)).toBe(true);
  });
  it('access_records=include, only, exclude', () => {
    expect(one('access_records', 'include')(record)).toBe(true);
    expect(one('access_records', 'include')(event())).toBe(true);
    expect(one('access_records', 'only')(record)).toBe(true);
    expect(one('access_records', 'only')(event())).toBe(false);
    expect(
      matches(
        [
          ['access_records', 'exclude'],
          ['event_type[prefix]', 'audit.'],
        ],
        record,
      ),
    ).toBe(false);
  });
});

describe('from and to', () => {
  const e = event({ timestamp: '2026-01-02T03:04:05.678Z' });
  it('from is inclusive, to exclusive, to the millisecond', () => {
    expect(one('from', '2026-01-02T03:04:05.678Z')(e)).toBe(true);
    expect(one('from', '2026-01-02T03:04:05.679Z')(e)).toBe(false);
    expect(one('to', '2026-01-02T03:04:05.678Z')(e)).toBe(false);
    expect(one('to', '2026-01-02T03:04:05.679Z')(e)).toBe(true);
    expect(one('from', '2026-01-02T04:04:05.678+01:00')(e)).toBe(true);
    expect(
      matches(
        [
          ['from', '2026-01-01T00:00:00Z'],
          ['to', '2026-01-03T00:00:00Z'],
        ],
        e,
      ),
    ).toBe(true);
  });
});

describe('compareUtf8', () => {
  it.each([
    ['a', 'b', -1],
    ['ab', 'a', 1],
    ['', '', 0],
    ['\uE000', '😀', -1],
    ['\uFFFF', '\u{10000}', -1],
    ['\u{10000}', '\u{10001}', -1],
    ['\u{10FFFF}', '\u{10000}', 1],
    ['\u07FF', '\u0800', -1],
  ])('%j vs %j', (a, b, sign) => {
    expect(Math.sign(compareUtf8(a, b))).toBe(sign);
    expect(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))).toBe(sign);
  });
});

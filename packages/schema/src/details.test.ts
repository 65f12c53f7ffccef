import { describe, expect, it } from 'vitest';
import { checkDetails, detailsColumns, flattenDetails, isDetailsPath, type PathSegment } from './details.ts';
import { validateKafkaMessage } from './kafka-message.ts';
import { LIMITS, MAX_DETAILS_PATH_LENGTH } from './limits.ts';
import { parseJson } from './parse-json.ts';
import { baseEvent } from './test-fixtures.ts';
import { validateEvent } from './validate.ts';

function problems(details: Record<string, unknown>): [PathSegment[], string][] {
  const out: [PathSegment[], string][] = [];
  checkDetails(details, (path, message) => out.push([path, message]));
  return out;
}

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

  it('stores a __proto__ key as data, never as a prototype', () => {
    const parsed = parseJson('{"__proto__":"x","a":{"__proto__":{"polluted":1}},"constructor":"c"}');
    const flat = flattenDetails((parsed as { value: Record<string, unknown> }).value);
    expect(Object.getPrototypeOf(flat)).toBe(Object.prototype);
    expect(Object.keys(flat)).toEqual(['__proto__', 'a.__proto__.polluted', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(flat, '__proto__')?.value).toBe('x');
    expect(flat['constructor']).toBe('c');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.stringify(flat)).toBe('{"__proto__":"x","a.__proto__.polluted":"1","constructor":"c"}');
    const types = detailsColumns((parsed as { value: Record<string, unknown> }).value).details_type;
    expect(Object.getPrototypeOf(types)).toBe(Object.prototype);
    expect(JSON.stringify(types)).toBe(
      '{"__proto__":"string","a":"object","a.__proto__":"object","a.__proto__.polluted":"number","constructor":"string"}',
    );
  });
});

describe('detailsColumns', () => {
  it('types every node, containers (also empty ones) included', () => {
    expect(
      detailsColumns({
        s: '15',
        n: 15,
        b: false,
        z: null,
        o: { e: {}, a: [] },
        l: [1, 'x', [null]],
      }),
    ).toEqual({
      details: { s: '15', n: '15', b: 'false', z: 'null', 'l.0': '1', 'l.1': 'x', 'l.2.0': 'null' },
      details_type: {
        s: 'string',
        n: 'number',
        b: 'boolean',
        z: 'null',
        o: 'object',
        'o.e': 'object',
        'o.a': 'array',
        l: 'array',
        'l.0': 'number',
        'l.1': 'string',
        'l.2': 'array',
        'l.2.0': 'null',
      },
    });
  });

  it('keeps Unicode keys, spaces, brackets and the empty key as they are', () => {
    expect(detailsColumns({ ключ: 'v', 'with space': 1, 'tags[0]': 'x', '': { '': true } })).toEqual({
      details: { ключ: 'v', 'with space': '1', 'tags[0]': 'x', '.': 'true' },
      details_type: {
        ключ: 'string',
        'with space': 'number',
        'tags[0]': 'string',
        '': 'object',
        '.': 'boolean',
      },
    });
  });
});

describe('checkDetails: colliding paths', () => {
  it.each([
    [{ 'a.b': 'flat', a: { b: 'nested' } }, ['a', 'b'], 'a.b'],
    [{ a: { b: 'nested' }, 'a.b': 'flat' }, ['a.b'], 'a.b'],
    [{ 'a.0': 'x', a: ['y'] }, ['a', 0], 'a.0'],
    [{ 'a.b': {}, a: { b: 1 } }, ['a', 'b'], 'a.b'],
    [{ x: { 'a.b': 1, a: { b: 2 } } }, ['x', 'a', 'b'], 'x.a.b'],
    [{ 'a..b': 1, 'a.': { b: 2 } }, ['a.', 'b'], 'a..b'],
  ])('refuses %j, naming the second node and the path', (details, at, path) => {
    expect(problems(details)).toEqual([
      [at, `flattens to the path "${path}" of another key: rename one of them`],
    ]);
  });

  it('accepts dotted keys that collide with nothing', () => {
    expect(problems({ 'a.b': 1, a: { c: 2 }, 'x.y': { 'z.w': [1] } })).toEqual([]);
    expect(problems({ '.': 1, '..': 2, 'a.': { b: 3 }, a: { c: 4 } })).toEqual([]);
  });

  it('is part of the one schema: an HTTP event gets a 400 issue, a Kafka message is invalid (DLQ)', () => {
    const details = { 'a.b': 'flat', a: { b: 'nested' } };
    const r = validateEvent(baseEvent({ event_details: details }));
    expect(r.ok ? [] : r.issues).toEqual([
      { path: 'event_details.a.b', message: 'flattens to the path "a.b" of another key: rename one of them' },
    ]);
    const k = validateKafkaMessage(
      Buffer.from(JSON.stringify(baseEvent({ tenant_id: 'acme', event_details: details }))),
      {
        topic: 'audit.events',
        partition: 0,
        offset: '1',
        timestamp: '1767323045678',
      },
    );
    expect(k.ok).toBe(false);
    expect(!k.ok && k.reason).toBe('invalid');
  });
});

describe('isDetailsPath', () => {
  it.each([
    'a',
    'customer.plan',
    'items.0.sku',
    'ключ',
    'with space',
    "a'b",
    'tags[0]',
    '.',
    'a..b',
    'k'.repeat(MAX_DETAILS_PATH_LENGTH),
  ])('accepts %j', (p) => expect(isDetailsPath(p)).toBe(true));
  it.each(['', 'k'.repeat(MAX_DETAILS_PATH_LENGTH + 1), 'a\u0000b', '\ud800'])('rejects %j', (p) =>
    expect(isDetailsPath(p)).toBe(false),
  );
  it('bounds paths by the depth and key limits', () => {
    expect(MAX_DETAILS_PATH_LENGTH).toBe(
      LIMITS.MAX_DETAILS_DEPTH * LIMITS.MAX_KEY_LENGTH + LIMITS.MAX_DETAILS_DEPTH - 1,
    );
    let deepest: Record<string, unknown> = { ['k'.repeat(LIMITS.MAX_KEY_LENGTH)]: 1 };
    for (let i = 1; i < LIMITS.MAX_DETAILS_DEPTH; i++)
      deepest = { ['k'.repeat(LIMITS.MAX_KEY_LENGTH)]: deepest };
    expect(problems(deepest)).toEqual([]);
    const paths = Object.keys(flattenDetails(deepest));
    expect(paths.map((p) => p.length)).toEqual([MAX_DETAILS_PATH_LENGTH]);
  });
});

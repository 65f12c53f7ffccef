import { describe, expect, it } from 'vitest';
import { MAX_DETAILS_ISSUES } from './details.ts';
import { UNKNOWN_FIELD_MESSAGE } from './event-schema.ts';
import { LIMITS } from './limits.ts';
import { parseJson } from './parse-json.ts';
import { baseEvent, nested } from './test-fixtures.ts';
import { validateEvent } from './validate.ts';

function issuesOf(value: unknown) {
  const r = validateEvent(value);
  if (r.ok) throw new Error('expected the event to be invalid');
  return r.issues;
}

function expectValid(value: unknown) {
  const r = validateEvent(value);
  expect(r.ok ? [] : r.issues).toEqual([]);
}

describe('validateEvent: shape', () => {
  it('accepts the minimal seed event and applies the schema_version default', () => {
    const r = validateEvent(baseEvent({ event_details: { a: 1 } }));
    expect(r).toEqual({
      ok: true,
      event: { ...baseEvent(), event_details: { a: 1 }, schema_version: 1 },
    });
  });

  it('accepts every common field', () => {
    expectValid(
      baseEvent({
        event_id: '0190f1e2-7c3a-7d4e-8f10-123456789abc',
        tenant_id: 'acme',
        source: 'billing',
        actor_type: 'user',
        resource_type: 'invoice',
        resource_id: 'inv-1',
        action: 'create',
        outcome: 'success',
        ip: '203.0.113.7',
        user_agent: 'curl/8.5',
        schema_version: 3,
      }),
    );
  });

  it('names each missing required field and each unknown field (the seed placeholder body)', () => {
    expect(issuesOf({ key1: 'value1', key2: 'value2' })).toEqual([
      { path: 'event_type', message: 'is required' },
      { path: 'timestamp', message: 'is required' },
      { path: 'user_id', message: 'is required' },
      { path: 'key1', message: UNKNOWN_FIELD_MESSAGE },
      { path: 'key2', message: UNKNOWN_FIELD_MESSAGE },
    ]);
  });

  it('reports a typo of a known field by name, pointing at event_details', () => {
    const issues = issuesOf(baseEvent({ eventDetails: { a: 1 } }));
    expect(issues).toEqual([{ path: 'eventDetails', message: UNKNOWN_FIELD_MESSAGE }]);
    expect(issues[0]!.message).toContain('event_details');
  });

  it('rejects non-objects as a whole', () => {
    for (const v of [null, [], [baseEvent()], 'x', 1, true, undefined]) {
      expect(issuesOf(v)).toEqual([{ path: '', message: 'event must be a JSON object' }]);
    }
  });

  it('reports wrong types with the expected type; null is not "absent"', () => {
    expect(
      issuesOf(
        baseEvent({
          user_id: 7,
          event_details: [1],
          ip: null,
          schema_version: '1',
          event_type: {},
          timestamp: 1,
        }),
      ),
    ).toEqual([
      { path: 'event_type', message: 'must be a string' },
      { path: 'timestamp', message: 'must be a string' },
      { path: 'user_id', message: 'must be a string' },
      { path: 'event_details', message: 'must be a JSON object' },
      { path: 'ip', message: 'must be a string' },
      { path: 'schema_version', message: 'must be an integer' },
    ]);
  });

  it('returns every issue at once', () => {
    const issues = issuesOf(
      baseEvent({
        event_type: 'Bad Type',
        timestamp: '2026-02-30T00:00:00Z',
        user_id: '',
        ip: '1.2.3',
        extra: 1,
        event_details: { n: 2 ** 60, s: 'a\u0000' },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'event_type',
      'timestamp',
      'user_id',
      'event_details.n',
      'event_details.s',
      'ip',
      'extra',
    ]);
  });

  it('rejects empty strings in common fields', () => {
    expect(issuesOf(baseEvent({ source: '' }))).toEqual([{ path: 'source', message: 'must not be empty' }]);
  });
});

describe('validateEvent: event_type', () => {
  it.each(['customer.account.created', 'a', 'a_b.c_d', 'a.1b', 'login', 'x9.y9.z9'])('accepts %s', (t) => {
    expectValid(baseEvent({ event_type: t }));
  });
  it.each(['', 'Customer.created', 'customer..created', '.a', 'a.', '1abc', '_a', 'a-b', 'a b', 'a.B', 'é'])(
    'rejects %j',
    (t) => {
      expect(issuesOf(baseEvent({ event_type: t })).map((i) => i.path)).toEqual(['event_type']);
    },
  );
  it('allows 128 characters, not 129', () => {
    expectValid(baseEvent({ event_type: 'a'.repeat(LIMITS.MAX_EVENT_TYPE_LENGTH) }));
    expect(issuesOf(baseEvent({ event_type: 'a'.repeat(LIMITS.MAX_EVENT_TYPE_LENGTH + 1) }))).toEqual([
      { path: 'event_type', message: 'must be at most 128 characters' },
    ]);
  });
});

describe('validateEvent: event_id', () => {
  it.each([
    '0190f1e2-7c3a-7d4e-8f10-123456789abc',
    '0190F1E2-7C3A-7D4E-8F10-123456789ABC',
    '550e8400-e29b-41d4-a716-446655440000',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    '123e4567-e89b-02d3-c456-426614174000',
  ])('accepts %s (any version/variant)', (id) => {
    expectValid(baseEvent({ event_id: id }));
  });
  it.each([
    '',
    '0190f1e27c3a7d4e8f10123456789abc',
    '{0190f1e2-7c3a-7d4e-8f10-123456789abc}',
    'urn:uuid:0190f1e2-7c3a-7d4e-8f10-123456789abc',
    '0190f1e2-7c3a-7d4e-8f10-123456789ab',
    '0190f1e2-7c3a-7d4e-8f10-123456789abcd',
    '0190f1e2-7c3a-7d4e-8f10-123456789abg',
    ' 0190f1e2-7c3a-7d4e-8f10-123456789abc',
    '0190f1e2-7c3a7d4e-8f10-123456789abc-',
  ])('rejects %j', (id) => {
    expect(issuesOf(baseEvent({ event_id: id }))).toEqual([
      {
        path: 'event_id',
        message: 'must be a UUID (8-4-4-4-12 hex digits), e.g. 0190f1e2-7c3a-7d4e-8f10-123456789abc',
      },
    ]);
  });
});

describe('validateEvent: timestamp', () => {
  const FORMAT = 'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z';
  const NO_OFFSET = 'has no UTC offset (ambiguous): add Z or ±hh:mm, e.g. 2026-01-02T03:04:05Z';
  const NO_SUCH = 'is not a valid date/time (no such day, hour, minute, second or offset)';
  const RANGE = 'must be between 1970-01-01T00:00:00.000Z and 2105-12-31T23:59:59.999Z';
  it.each([
    '2026-01-02T03:04:05Z',
    '2026-01-02t03:04:05z',
    '2026-01-02T03:04:05.6Z',
    '2026-01-02T03:04:05.123456789Z',
    '2026-01-02T03:04:05+05:30',
    '2026-01-02T03:04:05-08:00',
    '2026-01-02T03:04:05-00:00',
    '2024-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '1970-01-01T00:00:00Z',
    '2105-12-31T23:59:59.999Z',
    '2026-12-31T23:59:59+23:59',
  ])('accepts %s', (ts) => {
    expectValid(baseEvent({ timestamp: ts }));
  });
  it.each([
    ['2026-01-02T03:04:05', NO_OFFSET],
    ['2026-01-02T03:04:05.123', NO_OFFSET],
    ['2026-01-02 03:04:05', NO_OFFSET],
    ['2026-01-02T03:04', NO_OFFSET],
    ['2026-01-02', FORMAT],
    ['2026-01-02 03:04:05Z', FORMAT],
    ['2026-01-02T03:04:05+0530', FORMAT],
    ['2026-01-02T03:04:05+05', FORMAT],
    ['2026-01-02T03:04:05.Z', FORMAT],
    ['2026-01-02T03:04:05.1234567890Z', FORMAT],
    ['2026-01-02T3:04:05Z', FORMAT],
    ['26-01-02T03:04:05Z', FORMAT],
    ['Fri, 02 Jan 2026 03:04:05 GMT', FORMAT],
    ['1767323045', FORMAT],
    ['2026-01-02T03:04:05Z ', FORMAT],
    ['', FORMAT],
    ['2026-02-30T00:00:00Z', NO_SUCH],
    ['2023-02-29T00:00:00Z', NO_SUCH],
    ['1900-02-29T00:00:00Z', NO_SUCH],
    ['2026-04-31T00:00:00Z', NO_SUCH],
    ['2026-13-01T00:00:00Z', NO_SUCH],
    ['2026-00-01T00:00:00Z', NO_SUCH],
    ['2026-01-00T00:00:00Z', NO_SUCH],
    ['2026-01-02T24:00:00Z', NO_SUCH],
    ['2026-01-02T03:60:00Z', NO_SUCH],
    ['2026-12-31T23:59:60Z', NO_SUCH],
    ['2026-01-02T03:04:05+24:00', NO_SUCH],
    ['2026-01-02T03:04:05+05:60', NO_SUCH],
    ['1969-12-31T23:59:59.999Z', RANGE],
    ['1970-01-01T00:30:00+01:00', RANGE],
    ['2106-01-01T00:00:00Z', RANGE],
    ['0001-01-01T00:00:00Z', RANGE],
    ['9999-12-31T23:59:59Z', RANGE],
  ])('rejects %j', (ts, message) => {
    expect(issuesOf(baseEvent({ timestamp: ts }))).toEqual([{ path: 'timestamp', message }]);
  });
});

describe('validateEvent: ip', () => {
  it.each([
    '203.0.113.7',
    '0.0.0.0',
    '255.255.255.255',
    '::',
    '::1',
    '2001:db8::1',
    '::ffff:192.0.2.1',
    'ABCD::EF',
    '1:2:3:4:5:6:7:8',
  ])('accepts %s', (ip) => {
    expectValid(baseEvent({ ip }));
  });
  it.each([
    '',
    '1.2.3',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4 ',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    '[::1]',
    'localhost',
    '1.2.3.4/24',
  ])('rejects %j', (ip) => {
    expect(issuesOf(baseEvent({ ip }))).toEqual([{ path: 'ip', message: 'must be an IPv4 or IPv6 address' }]);
  });
});

describe('validateEvent: field lengths', () => {
  it.each([
    'user_id',
    'tenant_id',
    'source',
    'actor_type',
    'resource_type',
    'resource_id',
    'action',
    'outcome',
  ])('%s allows 256 characters, not 257', (field) => {
    expectValid(baseEvent({ [field]: 'x'.repeat(LIMITS.MAX_FIELD_LENGTH) }));
    expect(issuesOf(baseEvent({ [field]: 'x'.repeat(LIMITS.MAX_FIELD_LENGTH + 1) }))).toEqual([
      { path: field, message: 'must be at most 256 characters' },
    ]);
  });
  it('user_agent allows 512 characters, not 513', () => {
    expectValid(baseEvent({ user_agent: 'x'.repeat(LIMITS.MAX_USER_AGENT_LENGTH) }));
    expect(issuesOf(baseEvent({ user_agent: 'x'.repeat(LIMITS.MAX_USER_AGENT_LENGTH + 1) }))).toEqual([
      { path: 'user_agent', message: 'must be at most 512 characters' },
    ]);
  });
  it('schema_version is an integer in 1..65535', () => {
    expectValid(baseEvent({ schema_version: 1 }));
    expectValid(baseEvent({ schema_version: 65_535 }));
    expect(issuesOf(baseEvent({ schema_version: 0 }))).toEqual([
      { path: 'schema_version', message: 'must be at least 1' },
    ]);
    expect(issuesOf(baseEvent({ schema_version: 65_536 }))).toEqual([
      { path: 'schema_version', message: 'must be at most 65535' },
    ]);
    expect(issuesOf(baseEvent({ schema_version: 1.5 }))).toEqual([
      { path: 'schema_version', message: 'must be an integer' },
    ]);
  });
});

describe('validateEvent: NUL and lone surrogates in every string', () => {
  const NUL = 'must not contain NUL (\\u0000) characters';
  const SURROGATE = 'must not contain unpaired UTF-16 surrogates';
  it.each([
    'user_id',
    'tenant_id',
    'source',
    'actor_type',
    'resource_type',
    'resource_id',
    'action',
    'outcome',
    'user_agent',
  ])('in %s', (field) => {
    expect(issuesOf(baseEvent({ [field]: 'a\u0000b' }))).toEqual([{ path: field, message: NUL }]);
    expect(issuesOf(baseEvent({ [field]: 'a\ud800b' }))).toEqual([{ path: field, message: SURROGATE }]);
    expect(issuesOf(baseEvent({ [field]: '\udc00' }))).toEqual([{ path: field, message: SURROGATE }]);
  });
  it('in details strings and keys, at any depth, also when they arrive as JSON escapes', () => {
    const parsed = parseJson(
      '{"event_type":"a","timestamp":"2026-01-02T03:04:05Z","user_id":"u","event_details":{"a":"x\\u0000","b":["\\ud800"],"c\\u0000":1,"d":{"\\udfff":true}}}',
    );
    expect(parsed.ok).toBe(true);
    expect(issuesOf(parsed.ok ? parsed.value : null)).toEqual([
      { path: 'event_details.a', message: NUL },
      { path: 'event_details.b.0', message: SURROGATE },
      { path: 'event_details.c\u0000', message: `key ${NUL}` },
      { path: 'event_details.d.\udfff', message: `key ${SURROGATE}` },
    ]);
  });
  it('accepts paired surrogates (emoji) and other control characters', () => {
    expectValid(baseEvent({ user_id: 'ü😀', event_details: { '😀': 'tab\tnew\nline\u0001' } }));
  });
});

describe('validateEvent: event_details limits', () => {
  it(`allows nesting depth ${LIMITS.MAX_DETAILS_DEPTH}, not ${LIMITS.MAX_DETAILS_DEPTH + 1}`, () => {
    expectValid(baseEvent({ event_details: nested(LIMITS.MAX_DETAILS_DEPTH) }));
    expectValid(baseEvent({ event_details: nested(LIMITS.MAX_DETAILS_DEPTH - 1, []) }));
    expect(issuesOf(baseEvent({ event_details: nested(LIMITS.MAX_DETAILS_DEPTH + 1) }))).toEqual([
      { path: 'event_details.a.a.a.a.a.a.a.a', message: 'nested deeper than 8 levels' },
    ]);
  });
  it('counts arrays as levels', () => {
    expect(issuesOf(baseEvent({ event_details: { a: [[[[[[[[1]]]]]]]] } }))).toEqual([
      { path: 'event_details.a.0.0.0.0.0.0.0', message: 'nested deeper than 8 levels' },
    ]);
  });
  it('reports very deep details once, without recursing through them', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    const issues = issuesOf(baseEvent({ event_details: deep }));
    expect(issues.filter((i) => i.path.startsWith('event_details'))).toEqual([
      { path: 'event_details.a.a.a.a.a.a.a.a', message: 'nested deeper than 8 levels' },
    ]);
  });
  it(`allows ${LIMITS.MAX_DETAILS_KEYS} keys and array elements in total, not one more`, () => {
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expectValid(baseEvent({ event_details: keys(LIMITS.MAX_DETAILS_KEYS) }));
    const over = [{ path: 'event_details', message: 'has more than 512 keys and array elements in total' }];
    expect(issuesOf(baseEvent({ event_details: keys(LIMITS.MAX_DETAILS_KEYS + 1) }))).toEqual(over);
    // Nested keys and array elements count too: 1 + 511 and 1 + 512.
    expectValid(baseEvent({ event_details: { list: Array.from({ length: 511 }, () => 0) } }));
    expect(issuesOf(baseEvent({ event_details: { list: Array.from({ length: 512 }, () => 0) } }))).toEqual(
      over,
    );
    expectValid(baseEvent({ event_details: { a: keys(255), b: keys(255) } }));
    expect(issuesOf(baseEvent({ event_details: { a: keys(255), b: keys(256) } }))).toEqual(over);
  });
  it(`allows keys of ${LIMITS.MAX_KEY_LENGTH} characters, not ${LIMITS.MAX_KEY_LENGTH + 1}`, () => {
    const ok = 'k'.repeat(LIMITS.MAX_KEY_LENGTH);
    const long = 'k'.repeat(LIMITS.MAX_KEY_LENGTH + 1);
    expectValid(baseEvent({ event_details: { [ok]: { [ok]: 1 } } }));
    expect(issuesOf(baseEvent({ event_details: { x: { [long]: 1 } } }))).toEqual([
      { path: `event_details.x.${long}`, message: 'key longer than 128 characters' },
    ]);
  });
  it(`allows strings of ${LIMITS.MAX_STRING_LENGTH} characters, not ${LIMITS.MAX_STRING_LENGTH + 1}`, () => {
    expectValid(baseEvent({ event_details: { s: 'x'.repeat(LIMITS.MAX_STRING_LENGTH) } }));
    expect(
      issuesOf(baseEvent({ event_details: { a: [{ s: 'x'.repeat(LIMITS.MAX_STRING_LENGTH + 1) }] } })),
    ).toEqual([{ path: 'event_details.a.0.s', message: 'string longer than 8192 characters' }]);
  });
  it('allows numbers within ±(2^53-1) and rejects larger, non-finite and non-JSON values', () => {
    expectValid(
      baseEvent({
        event_details: {
          a: 2 ** 53 - 1,
          b: -(2 ** 53 - 1),
          c: 1.5,
          d: -0,
          e: 1e-300,
          f: 0,
          g: null,
          h: false,
        },
      }),
    );
    const big = 'number beyond ±(2^53-1) loses precision: send it as a string';
    expect(
      issuesOf(
        baseEvent({
          event_details: {
            a: 2 ** 53,
            b: -(2 ** 53),
            c: 1e300,
            d: [Number.POSITIVE_INFINITY],
            e: Number.NaN,
            f: undefined,
            g: new Date(0),
            h: 1n,
          },
        }),
      ),
    ).toEqual([
      { path: 'event_details.a', message: big },
      { path: 'event_details.b', message: big },
      { path: 'event_details.c', message: big },
      { path: 'event_details.d.0', message: 'must be a finite number' },
      { path: 'event_details.e', message: 'must be a finite number' },
      {
        path: 'event_details.f',
        message: 'must be a JSON value (string, number, boolean, null, array or object)',
      },
      {
        path: 'event_details.g',
        message: 'must be a JSON value (string, number, boolean, null, array or object)',
      },
      {
        path: 'event_details.h',
        message: 'must be a JSON value (string, number, boolean, null, array or object)',
      },
    ]);
  });
  it('rejects a number that JSON.parse rounded past 2^53', () => {
    const parsed = parseJson(
      '{"event_type":"a","timestamp":"2026-01-02T03:04:05Z","user_id":"u","event_details":{"id":9007199254740993}}',
    );
    expect(issuesOf(parsed.ok ? parsed.value : null).map((i) => i.path)).toEqual(['event_details.id']);
  });
  it(`lists at most ${MAX_DETAILS_ISSUES} details problems and counts the rest`, () => {
    const details = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, '\u0000']));
    const issues = issuesOf(baseEvent({ event_details: details }));
    expect(issues).toHaveLength(MAX_DETAILS_ISSUES + 1);
    expect(issues[MAX_DETAILS_ISSUES]).toEqual({
      path: 'event_details',
      message: '10 more problems not listed',
    });
  });
});

describe('validateEvent: prototype keys', () => {
  const parse = (details: string) => {
    const p = parseJson(
      `{"event_type":"a","timestamp":"2026-01-02T03:04:05Z","user_id":"u","event_details":${details}}`,
    );
    if (!p.ok) throw new Error(p.message);
    return p.value;
  };
  it('rejects __proto__, constructor and prototype anywhere in event_details, by path', () => {
    expect(
      issuesOf(
        parse('{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"x":1}}},"b":[{"prototype":1}]}'),
      ),
    ).toEqual([
      { path: 'event_details.__proto__', message: 'key "__proto__" is not allowed' },
      { path: 'event_details.a.constructor', message: 'key "constructor" is not allowed' },
      { path: 'event_details.a.constructor.prototype', message: 'key "prototype" is not allowed' },
      { path: 'event_details.b.0.prototype', message: 'key "prototype" is not allowed' },
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
  it('reports top-level prototype keys as unknown fields', () => {
    const p = parseJson(
      '{"event_type":"a","timestamp":"2026-01-02T03:04:05Z","user_id":"u","__proto__":{"polluted":1}}',
    );
    expect(issuesOf(p.ok ? p.value : null)).toEqual([{ path: '__proto__', message: UNKNOWN_FIELD_MESSAGE }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
  it('allows the words as values and as parts of keys', () => {
    expectValid(parse('{"__proto__x":"constructor","my_prototype":["__proto__"]}'));
  });
});

describe('validateEvent: serialized size', () => {
  /** An event whose compact JSON is exactly `bytes` UTF-8 bytes, using `ch` as filler. */
  function eventOfBytes(bytes: number, ch: string): Record<string, unknown> {
    const chBytes = Buffer.byteLength(ch);
    const details: Record<string, string> = {};
    const event = baseEvent({ event_details: details });
    let size = Buffer.byteLength(JSON.stringify(event));
    for (let i = 0; size < bytes; i++) {
      const key = `k${i}`;
      const overhead = Buffer.byteLength(JSON.stringify({ [key]: '' })) - 2 + (i > 0 ? 1 : 0);
      const room = Math.floor((bytes - size - overhead) / chBytes);
      const n = Math.min(LIMITS.MAX_STRING_LENGTH, room);
      details[key] = ch.repeat(n);
      size = Buffer.byteLength(JSON.stringify(event));
      if (n < LIMITS.MAX_STRING_LENGTH) break;
    }
    // Pad with ASCII to land exactly on the byte count.
    const last = Object.keys(details).at(-1)!;
    details[last] = details[last]! + 'a'.repeat(bytes - Buffer.byteLength(JSON.stringify(event)));
    expect(Buffer.byteLength(JSON.stringify(event))).toBe(bytes);
    return event;
  }
  it.each([
    ['ASCII', 'x'],
    ['2-byte UTF-8', 'é'],
    ['3-byte UTF-8', '€'],
  ])(`allows exactly ${LIMITS.MAX_EVENT_BYTES} bytes, not one more (%s)`, (_, ch) => {
    expectValid(eventOfBytes(LIMITS.MAX_EVENT_BYTES, ch));
    expect(issuesOf(eventOfBytes(LIMITS.MAX_EVENT_BYTES + 1, ch))).toEqual([
      { path: '', message: 'event is 65537 bytes of JSON, more than the limit of 65536' },
    ]);
  });
  it('reports the size together with the other issues', () => {
    const event = eventOfBytes(LIMITS.MAX_EVENT_BYTES + 10, 'x');
    event['user_id'] = '';
    expect(issuesOf(event)).toEqual([
      { path: '', message: 'event is 65544 bytes of JSON, more than the limit of 65536' },
      { path: 'user_id', message: 'must not be empty' },
    ]);
  });
});

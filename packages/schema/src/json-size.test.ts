import { describe, expect, it } from 'vitest';
import { checkDetails, measuredDetails } from './details.ts';
import { jsonScalarBytes, jsonStringBytes } from './json-size.ts';
import { eventSizeIssue } from './validate.ts';

const bytesOf = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');

describe('JSON size without serializing', () => {
  it.each([
    '',
    'plain ascii',
    'quote " and backslash \\',
    '\b\f\n\r\t',
    '\u0000\u0001\u001f\u007f',
    'é ü ß',
    '€ 中文 \u2028\u2029',
    '😀 emoji pair',
    '\ud800 lone high',
    'lone low \udc00',
    'reversed \udc00\ud800',
    'end high \ud83d',
  ])('strings: %j', (s) => {
    expect(jsonStringBytes(s)).toBe(bytesOf(s));
  });

  it.each([
    0,
    -0,
    1,
    -1,
    1.5,
    1e21,
    1e-7,
    2 ** 53,
    -123.456e-10,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    false,
    null,
  ])('scalars: %s', (v) => {
    expect(jsonScalarBytes(v)).toBe(bytesOf(v));
  });

  it('details: every container shape', () => {
    const details = {
      a: [],
      b: {},
      c: [1, 'x', null, true, [false, {}], { 'k"ey': 'v\n' }],
      é: { x: { y: [[]] } },
    };
    checkDetails(details, () => {});
    expect(measuredDetails.get(details)).toBe(bytesOf(details));
  });

  it('whole event, including unknown and wrong-typed fields', () => {
    const details = { a: 1 };
    checkDetails(details, () => {});
    const event = {
      user_id: 'ü',
      n: 1,
      u: undefined,
      o: { x: [1] },
      event_details: details,
      b: false,
      z: null,
    };
    // Under the limit: no issue; check the computed size against a limit-sized filler instead.
    expect(eventSizeIssue(event)).toBeUndefined();
    const filler = 'x'.repeat(65_536 - bytesOf({ ...event, f: '' }));
    expect(eventSizeIssue({ ...event, f: filler })).toBeUndefined();
    expect(eventSizeIssue({ ...event, f: `${filler}x` })?.message).toBe(
      'event is 65537 bytes of JSON, more than the limit of 65536',
    );
  });
});

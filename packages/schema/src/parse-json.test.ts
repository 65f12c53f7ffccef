import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.ts';
import { excessiveNesting, parseJson } from './parse-json.ts';

describe('parseJson', () => {
  it('parses valid JSON', () => {
    expect(parseJson('{"a":[1,"x",null,true,{"b":-1.5e3}]}')).toEqual({
      ok: true,
      value: { a: [1, 'x', null, true, { b: -1500 }] },
    });
    expect(parseJson(' 42 ')).toEqual({ ok: true, value: 42 });
  });

  it.each([
    ['{"a":1,}', 7, 'unexpected character "}", expected a property name in double quotes'],
    ['[1,2,]', 5, 'unexpected character "]", expected a JSON value'],
    ['{"a" 1}', 5, `unexpected character "1", expected ':'`],
    ['{"a":1 "b":2}', 7, `unexpected character "\\"", expected ',' or '}'`],
    ['[1 2]', 3, `unexpected character "2", expected ',' or ']'`],
    ['{"a":"x', 7, 'unterminated string'],
    ['', 0, 'unexpected end of input, expected a JSON value'],
    ['   ', 3, 'unexpected end of input, expected a JSON value'],
    ['{"a":1}x', 7, 'unexpected character "x", expected end of input'],
    ['{"a":1}{"a":2}', 7, 'unexpected character "{", expected end of input'],
    ['{a:1}', 1, 'unexpected character "a", expected a property name in double quotes'],
    ["{'a':1}", 1, `unexpected character "'", expected a property name in double quotes`],
    ['{"a":01}', 6, `unexpected character "1", expected ',' or '}'`],
    ['{"a":"x\ny"}', 7, 'control character in string (escape it)'],
    ['{"a":"\\x"}', 6, 'invalid escape in string'],
    ['{"a":"\\u12G4"}', 6, 'invalid \\u escape in string'],
    ['{"a":tru}', 5, 'unexpected character "t", expected a JSON value'],
    ['{"a":NaN}', 5, 'unexpected character "N", expected a JSON value'],
    ['\ufeff{}', 0, 'unexpected character "\ufeff", expected a JSON value'],
  ])('reports the position of a syntax error in %j', (text, position, detail) => {
    expect(parseJson(text)).toEqual({
      ok: false,
      position,
      message: `invalid JSON at position ${position}: ${detail}`,
    });
  });

  it(`accepts nesting of ${LIMITS.MAX_JSON_DEPTH}, rejects ${LIMITS.MAX_JSON_DEPTH + 1} before parsing`, () => {
    const d = LIMITS.MAX_JSON_DEPTH;
    expect(parseJson('['.repeat(d) + ']'.repeat(d)).ok).toBe(true);
    expect(parseJson('{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1)).ok).toBe(true);
    expect(parseJson('['.repeat(d + 1) + ']'.repeat(d + 1))).toEqual({
      ok: false,
      position: d,
      message: 'JSON nested deeper than 64 levels at position 64',
    });
    const objects = '{"a":'.repeat(d) + '{}' + '}'.repeat(d);
    expect(parseJson(objects)).toEqual({
      ok: false,
      position: 5 * d,
      message: `JSON nested deeper than 64 levels at position ${5 * d}`,
    });
  });

  it('refuses 10,000-deep input, even unterminated, without a stack overflow', () => {
    expect(parseJson('['.repeat(10_000)).ok).toBe(false);
    expect(parseJson('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))).toMatchObject({
      ok: false,
      position: 320,
    });
    expect(parseJson('[{"a":'.repeat(5_000))).toMatchObject({ ok: false });
  });

  it('does not count brackets inside strings, whatever the escapes', () => {
    const inString = JSON.stringify('['.repeat(1000) + '\\"{{{' + '\\' + '"[[[');
    expect(excessiveNesting(`{"a":${inString}}`, 1)).toBe(-1);
    expect(parseJson(`{"a":${inString}}`).ok).toBe(true);
    // An escaped backslash ends the string; the brackets after it count.
    expect(excessiveNesting('["a\\\\",[[1]]]', 2)).toBe(8);
    expect(excessiveNesting('["a\\"",[1]]', 1)).toBe(7);
  });

  it('keeps __proto__ an own property (no prototype change)', () => {
    const r = parseJson('{"__proto__":{"polluted":true}}');
    expect(r.ok).toBe(true);
    const v = (r as { value: Record<string, unknown> }).value;
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

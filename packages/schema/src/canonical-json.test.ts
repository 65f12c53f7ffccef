import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units at every level and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('matches the RFC 8785 §3.2.3 sorting example', () => {
    // Keys from the RFC's example: "\u20ac", "\r", "\ufb33", "1", "\ud83d\ude00", "\u0080", "\u00f6".
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Parsing would reorder the integer-like key "1" (JS object order), so compare the text.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes numbers as ECMAScript does (RFC 8785 §3.2.2.3 examples)', () => {
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 333333333.3333333, 4.5, 2e-3, 1e23])).toBe(
      '[1e+21,1e-7,0.000001,0,333333333.3333333,4.5,0.002,1e+23]',
    );
  });

  it('escapes only what JSON requires', () => {
    expect(canonicalJson({ s: '\u000f\n"\\/é' })).toBe('{"s":"\\u000f\\n\\"\\\\/é"}');
  });

  it('refuses what is not JSON', () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});

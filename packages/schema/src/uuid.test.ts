import { describe, expect, it } from 'vitest';
import { uuidFromName, uuidv7 } from './uuid.ts';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('has the RFC 9562 layout: version 7, variant 10, the current Unix milliseconds first', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    expect(id).toMatch(V7);
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('is unique and strictly increasing within a process, even many per millisecond', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7());
    for (const id of ids) expect(id).toMatch(V7);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      if (!(ids[i - 1]! < ids[i]!)) throw new Error(`not increasing at ${i}: ${ids[i - 1]} ${ids[i]}`);
    }
  });
});

describe('uuidFromName', () => {
  it('is a deterministic UUIDv8', () => {
    const a = uuidFromName('ns', 'name');
    expect(a).toMatch(V8);
    expect(uuidFromName('ns', 'name')).toBe(a);
    expect(uuidFromName('ns', 'name2')).not.toBe(a);
    expect(uuidFromName('ns2', 'name')).not.toBe(a);
  });
});

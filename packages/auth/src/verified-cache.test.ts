import { describe, expect, it } from 'vitest';
import { createVerifiedCache } from './verified-cache.ts';

const p = (subject: string) => ({ subject, tenant: 'acme', scopes: ['events:write'] });

describe('createVerifiedCache', () => {
  it('returns a stored principal until min(exp, stored + maxAge), then forgets it', () => {
    let t = 1_000_000;
    const c = createVerifiedCache({ maxEntries: 10, maxAgeMs: 60_000, now: () => t });
    c.set('long-lived', p('a'), (t + 3_600_000) / 1000); // exp in an hour: maxAge wins
    c.set('short-lived', p('b'), (t + 10_000) / 1000); // exp in 10 s: exp wins
    expect(c.get('long-lived')).toEqual(p('a'));
    expect(c.get('short-lived')).toEqual(p('b'));
    t += 9_999;
    expect(c.get('short-lived')).toEqual(p('b'));
    t += 1;
    expect(c.get('short-lived')).toBeUndefined();
    t += 49_999;
    expect(c.get('long-lived')).toEqual(p('a'));
    t += 1;
    expect(c.get('long-lived')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('does not store a token that has already expired', () => {
    const t = 5_000_000;
    const c = createVerifiedCache({ maxEntries: 10, maxAgeMs: 60_000, now: () => t });
    c.set('expired', p('a'), t / 1000);
    expect(c.get('expired')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps at most maxEntries, evicting the least recently used', () => {
    const c = createVerifiedCache({ maxEntries: 2, maxAgeMs: 60_000, now: () => 0 });
    c.set('a', p('a'), 100);
    c.set('b', p('b'), 100);
    expect(c.get('a')).toEqual(p('a')); // b is now the least recently used
    c.set('c', p('c'), 100);
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toEqual(p('a'));
    expect(c.get('c')).toEqual(p('c'));
  });

  it('hands out a frozen principal, so one request cannot change what the next one sees', () => {
    const c = createVerifiedCache({ maxEntries: 2, maxAgeMs: 60_000, now: () => 0 });
    const original = p('a');
    c.set('a', original, 100);
    original.scopes.push('events:read');
    const got = c.get('a')!;
    expect(got.scopes).toEqual(['events:write']);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got.scopes)).toBe(true);
  });
});

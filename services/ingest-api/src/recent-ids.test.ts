import { describe, expect, it } from 'vitest';
import { createRecentIds } from './recent-ids.ts';

describe('createRecentIds', () => {
  it('remembers up to max ids and forgets the oldest first', () => {
    const r = createRecentIds(2);
    r.remember('a', 'h1');
    r.remember('b', 'h2');
    r.remember('c', 'h3');
    expect([r.get('a'), r.get('b'), r.get('c'), r.size]).toEqual([undefined, 'h2', 'h3', 2]);
  });

  it('a remembered id again counts as the newest', () => {
    const r = createRecentIds(2);
    r.remember('a', 'h1');
    r.remember('b', 'h2');
    r.remember('a', 'h1');
    r.remember('c', 'h3');
    expect([r.get('a'), r.get('b'), r.get('c')]).toEqual(['h1', undefined, 'h3']);
  });

  it('max 0 remembers nothing', () => {
    const r = createRecentIds(0);
    r.remember('a', 'h1');
    expect([r.get('a'), r.size]).toEqual([undefined, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { InFlightKeys } from './inflight-keys.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('InFlightKeys', () => {
  it('a batch waits for an earlier one holding one of its keys, unrelated batches do not wait', async () => {
    const keys = new InFlightKeys();
    const order: string[] = [];
    const releaseA = await keys.acquire(['x', 'y']);
    const b = keys.acquire(['y', 'z']).then((release) => {
      order.push('b');
      return release;
    });
    const c = keys.acquire(['q']).then((release) => {
      order.push('c');
      return release;
    });
    // d registered after b on z: it waits for b, which waits for a.
    const d = keys.acquire(['z']).then((release) => {
      order.push('d');
      return release;
    });
    await tick();
    expect(order).toEqual(['c']);
    releaseA();
    const releaseB = await b;
    await tick();
    expect(order).toEqual(['c', 'b']);
    releaseB();
    (await d)();
    (await c)();
    expect(order).toEqual(['c', 'b', 'd']);
    expect(keys.size()).toBe(0);
  });
});

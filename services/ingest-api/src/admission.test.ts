import { afterEach, describe, expect, it, vi } from 'vitest';
import { createByteGate } from './admission.ts';

const busy = () => new Error('busy');
const flush = () => new Promise((r) => setImmediate(r));

describe('createByteGate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('admits while the budget holds, queues the rest first come first served, admits them on release', async () => {
    const g = createByteGate(10);
    const a = await g.acquire(6, 1000, busy);
    const b = await g.acquire(4, 1000, busy);
    expect(g.held).toBe(10);
    const order: string[] = [];
    const c = g.acquire(5, 1000, busy).then((r) => {
      order.push('c');
      return r;
    });
    // d fits, but c came first
    const d = g.acquire(1, 1000, busy).then((r) => {
      order.push('d');
      return r;
    });
    await flush();
    expect(order).toEqual([]);
    expect(g.waiting).toBe(2);
    a();
    a(); // releasing twice counts once
    const releaseC = await c;
    const releaseD = await d;
    expect(order).toEqual(['c', 'd']);
    expect(g.held).toBe(10);
    b();
    releaseC();
    releaseD();
    expect(g.held).toBe(0);
  });

  it('always admits a request alone, even one larger than the budget', async () => {
    const g = createByteGate(10);
    const big = await g.acquire(50, 1000, busy);
    expect(g.held).toBe(50);
    big();
    expect(g.held).toBe(0);
  });

  it('a request that waits too long is refused, and the ones behind it move up', async () => {
    vi.useFakeTimers();
    const g = createByteGate(10);
    const a = await g.acquire(8, 1000, busy);
    const big = g.acquire(5, 100, busy);
    const small = g.acquire(2, 1000, busy);
    const bigOutcome = big.then(
      () => 'admitted',
      (err: Error) => err.message,
    );
    await vi.advanceTimersByTimeAsync(100);
    expect(await bigOutcome).toBe('busy');
    const releaseSmall = await small; // 8 + 2 fits once the big one left the queue
    expect(g.held).toBe(10);
    expect(g.waiting).toBe(0);
    a();
    releaseSmall();
    expect(g.held).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalescer.ts';

/** A send function under the test's control: each call waits until the test settles it. */
function fakeSend() {
  const calls: { batch: string[]; bytes: number; resolve(): void; reject(err: unknown): void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const send = (batch: string[], bytes: number) =>
    new Promise<void>((resolve, reject) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const done = () => running--;
      calls.push({
        batch,
        bytes,
        resolve: () => {
          done();
          resolve();
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
    });
  return { calls, send, maxRunning: () => maxRunning };
}

/** Size of a message = its length, so tests can reason about bytes. */
const sizeOf = (m: string) => m.length;
const flush = () => new Promise((r) => setImmediate(r));

function outcome(p: Promise<void>) {
  const o: { state: 'pending' | 'ok' | 'failed'; err?: unknown } = { state: 'pending' };
  p.then(
    () => {
      o.state = 'ok';
    },
    (err: unknown) => {
      o.state = 'failed';
      o.err = err;
    },
  );
  return o;
}

describe('createCoalescer', () => {
  it('sends at once when idle, then coalesces everything that arrived meanwhile into one send', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 100, maxBatchBytes: 1000 });
    const a = outcome(c.submit(['a1']).done);
    const b = outcome(c.submit(['b1', 'b2']).done);
    const d = outcome(c.submit(['d1']).done);
    expect(f.calls.map((x) => x.batch)).toEqual([['a1']]);
    expect(c.queued).toEqual({ messages: 3, bytes: 6 });
    f.calls[0]!.resolve();
    await flush();
    expect([a.state, b.state, d.state]).toEqual(['ok', 'pending', 'pending']);
    expect(f.calls.map((x) => x.batch)).toEqual([['a1'], ['b1', 'b2', 'd1']]);
    expect(f.calls[1]!.bytes).toBe(6);
    expect(c.queued).toEqual({ messages: 0, bytes: 0 });
    f.calls[1]!.resolve();
    await flush();
    expect([a.state, b.state, d.state]).toEqual(['ok', 'ok', 'ok']);
    expect(f.maxRunning()).toBe(1);
    expect(c.sending).toBe(false);
  });

  it('a failed send fails every request in it, and only those', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 100, maxBatchBytes: 1000 });
    const first = outcome(c.submit(['x']).done);
    const a = outcome(c.submit(['a']).done);
    const b = outcome(c.submit(['b']).done);
    f.calls[0]!.resolve();
    await flush();
    const later = outcome(c.submit(['z']).done);
    const boom = new Error('broker said no');
    f.calls[1]!.reject(boom);
    await flush();
    expect([first.state, a.state, b.state]).toEqual(['ok', 'failed', 'failed']);
    expect(a.err).toBe(boom);
    expect(b.err).toBe(boom);
    // The next send goes on with what arrived meanwhile.
    expect(f.calls.map((x) => x.batch)).toEqual([['x'], ['a', 'b'], ['z']]);
    f.calls[2]!.resolve();
    await flush();
    expect(later.state).toBe('ok');
  });

  it('a send function that throws synchronously fails its batch and does not stop the queue', async () => {
    let n = 0;
    const sent: string[][] = [];
    const c = createCoalescer<string>({
      send: (batch) => {
        sent.push(batch);
        if (n++ === 0) throw new Error('sync');
        return Promise.resolve();
      },
      sizeOf,
      maxBatchMessages: 100,
      maxBatchBytes: 1000,
    });
    const a = outcome(c.submit(['a']).done);
    const b = outcome(c.submit(['b']).done);
    await flush();
    expect([a.state, b.state]).toEqual(['failed', 'ok']);
    expect(sent).toEqual([['a'], ['b']]);
  });

  it('bounds each send by messages and bytes, never splitting a request that fits', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 3, maxBatchBytes: 10 });
    c.submit(['0']);
    const r1 = outcome(c.submit(['aa', 'bb']).done); // 4 bytes, 2 messages
    const r2 = outcome(c.submit(['cc', 'dd']).done); // would make 4 messages
    const r3 = outcome(c.submit(['eeeeeeee']).done); // 8 bytes: would pass 10 bytes after r2
    f.calls[0]!.resolve();
    await flush();
    expect(f.calls.map((x) => x.batch)).toEqual([['0'], ['aa', 'bb']]);
    f.calls[1]!.resolve();
    await flush();
    expect(f.calls[2]!.batch).toEqual(['cc', 'dd']);
    f.calls[2]!.resolve();
    await flush();
    expect(f.calls[3]!.batch).toEqual(['eeeeeeee']);
    f.calls[3]!.resolve();
    await flush();
    expect([r1.state, r2.state, r3.state]).toEqual(['ok', 'ok', 'ok']);
  });

  it('splits a request larger than one batch; it succeeds only when every part was acknowledged', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 2, maxBatchBytes: 100 });
    const r = outcome(c.submit(['a', 'b', 'c', 'd', 'e']).done);
    expect(f.calls.map((x) => x.batch)).toEqual([['a', 'b']]);
    f.calls[0]!.resolve();
    await flush();
    expect(r.state).toBe('pending');
    f.calls[1]!.resolve();
    await flush();
    expect(r.state).toBe('pending');
    expect(f.calls[2]!.batch).toEqual(['e']);
    f.calls[2]!.resolve();
    await flush();
    expect(r.state).toBe('ok');
  });

  it('a failed part fails the whole request and its remaining parts are never sent', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 2, maxBatchBytes: 100 });
    const r = outcome(c.submit(['a', 'b', 'c', 'd', 'e']).done);
    const other = outcome(c.submit(['z']).done);
    expect(c.queued).toEqual({ messages: 4, bytes: 4 });
    f.calls[0]!.reject(new Error('down'));
    await flush();
    expect(r.state).toBe('failed');
    expect(c.queued).toEqual({ messages: 0, bytes: 0 });
    expect(f.calls.map((x) => x.batch)).toEqual([['a', 'b'], ['z']]);
    f.calls[1]!.resolve();
    await flush();
    expect(other.state).toBe('ok');
  });

  it('cancel drops the queued parts, rejects with the reason, and leaves a running part alone', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 2, maxBatchBytes: 100 });
    const sub = c.submit(['a', 'b', 'c']);
    const r = outcome(sub.done);
    const other = outcome(c.submit(['z']).done);
    const reason = new Error('timed out');
    sub.cancel(reason);
    await flush();
    expect(r.state).toBe('failed');
    expect(r.err).toBe(reason);
    expect(c.queued).toEqual({ messages: 1, bytes: 1 });
    f.calls[0]!.resolve(); // the running part ['a','b'] lands; the request already failed
    await flush();
    expect(r.state).toBe('failed');
    expect(f.calls.map((x) => x.batch)).toEqual([['a', 'b'], ['z']]);
    f.calls[1]!.resolve();
    await flush();
    expect(other.state).toBe('ok');
  });

  it('never has more than one send running, however many requests arrive', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 10, maxBatchBytes: 1000 });
    const all = Array.from({ length: 95 }, (_, i) => outcome(c.submit([`m${i}`]).done));
    let round = 0;
    while (all.some((o) => o.state === 'pending')) {
      f.calls[round++]!.resolve();
      await flush();
    }
    expect(f.maxRunning()).toBe(1);
    // 1 at once, then 94 queued in batches of 10.
    expect(f.calls.map((x) => x.batch.length)).toEqual([1, 10, 10, 10, 10, 10, 10, 10, 10, 10, 4]);
    expect(f.calls.flatMap((x) => x.batch)).toEqual(Array.from({ length: 95 }, (_, i) => `m${i}`));
    expect(all.every((o) => o.state === 'ok')).toBe(true);
  });

  it('an empty submission resolves without a send', async () => {
    const f = fakeSend();
    const c = createCoalescer({ send: f.send, sizeOf, maxBatchMessages: 10, maxBatchBytes: 1000 });
    await c.submit([]).done;
    expect(f.calls).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { Batcher, type Item } from './batcher.ts';

const items = (from: number, n: number, bytes = 10): Item<number>[] =>
  Array.from({ length: n }, (_, i) => ({ offset: String(from + i), bytes, value: from + i }));

describe('Batcher', () => {
  it('seals at exactly maxRows and leaves the rest unconsumed', () => {
    const b = new Batcher<number>({ maxRows: 5, maxBytes: 1e9, maxWaitMs: 1000 });
    const r = b.offer('t', 0, items(0, 8), 0);
    expect(r.sealed?.items).toEqual([0, 1, 2, 3, 4]);
    expect(r.sealed?.firstOffset).toBe('0');
    expect(r.sealed?.lastOffset).toBe('4');
    expect(r.consumed).toBe(5);
    expect(r.resolveThrough).toBe('4');
    // While sealed the partition takes nothing.
    expect(b.offer('t', 0, items(5, 3), 1)).toEqual({ consumed: 0, skipped: 0 });
    b.release('t', 0, r.sealed!);
    const r2 = b.offer('t', 0, items(5, 3), 2);
    expect(r2.consumed).toBe(3);
    expect(r2.sealed).toBeUndefined();
    expect(b.due(2 + 999)).toEqual([]);
    const [aged] = b.due(2 + 1000);
    expect([aged?.firstOffset, aged?.lastOffset, aged?.items.length]).toEqual(['5', '7', 3]);
  });

  it('cuts by bytes before the message that would exceed the limit', () => {
    const b = new Batcher<number>({ maxRows: 100, maxBytes: 35, maxWaitMs: 1000 });
    const r = b.offer('t', 1, items(10, 5, 10), 0);
    expect(r.sealed?.items).toEqual([10, 11, 12]);
    expect(r.sealed?.bytes).toBe(30);
    expect(r.consumed).toBe(3);
  });

  it('a single message larger than maxBytes still forms a batch of one', () => {
    const b = new Batcher<number>({ maxRows: 100, maxBytes: 5, maxWaitMs: 1000 });
    const r = b.offer('t', 0, items(0, 2, 50), 0);
    expect(r.sealed?.items).toEqual([0]);
    expect(r.consumed).toBe(1);
  });

  it('cuts are deterministic: the same sequence from the same offset gives the same ranges', () => {
    const ranges = (chunks: number[]) => {
      const b = new Batcher<number>({ maxRows: 4, maxBytes: 1e9, maxWaitMs: 1e9 });
      const out: string[] = [];
      let next = 100;
      for (const n of chunks) {
        let pending = items(next, n);
        next += n;
        while (pending.length) {
          const r = b.offer('t', 0, pending, 0);
          if (r.sealed) {
            out.push(`${r.sealed.firstOffset}-${r.sealed.lastOffset}`);
            b.release('t', 0, r.sealed);
          }
          pending = pending.slice(r.consumed);
        }
      }
      return out;
    };
    // Different fetch sizes, same cuts.
    expect(ranges([3, 3, 3, 3])).toEqual(['100-103', '104-107', '108-111']);
    expect(ranges([12])).toEqual(['100-103', '104-107', '108-111']);
    expect(ranges([1, 7, 4])).toEqual(['100-103', '104-107', '108-111']);
  });

  it('skips offsets below its position (a refetch after a rebalance) and resolves them', () => {
    const b = new Batcher<number>({ maxRows: 3, maxBytes: 1e9, maxWaitMs: 1000 });
    const r = b.offer('t', 0, items(0, 3), 0);
    b.release('t', 0, r.sealed!);
    const again = b.offer('t', 0, items(0, 5), 1);
    expect(again.skipped).toBe(3);
    expect(again.consumed).toBe(5);
    expect(again.resolveThrough).toBe('4');
    expect(b.due(5000)[0]?.items).toEqual([3, 4]);
  });

  it('keeps gaps inside one range (compaction, control records)', () => {
    const b = new Batcher<number>({ maxRows: 10, maxBytes: 1e9, maxWaitMs: 10 });
    b.offer('t', 0, [{ offset: '3', bytes: 1, value: 3 }], 0);
    b.offer('t', 0, [{ offset: '7', bytes: 1, value: 7 }], 0);
    const [batch] = b.due(10);
    expect([batch?.firstOffset, batch?.lastOffset, batch?.items]).toEqual(['3', '7', [3, 7]]);
  });

  it('revoke forgets buffered messages and the position', () => {
    const b = new Batcher<number>({ maxRows: 10, maxBytes: 1e9, maxWaitMs: 10 });
    b.offer('t', 2, items(0, 4), 0);
    expect(b.bufferedBytes()).toBe(40);
    b.revoke('t', 2);
    expect(b.bufferedBytes()).toBe(0);
    expect(b.due(100)).toEqual([]);
    // A later owner-again starts wherever Kafka redelivers from.
    expect(b.offer('t', 2, items(0, 2), 0).skipped).toBe(0);
  });

  it('keeps partitions apart and force-seals everything for shutdown', () => {
    const b = new Batcher<number>({ maxRows: 10, maxBytes: 1e9, maxWaitMs: 1e9 });
    b.offer('t', 0, items(0, 2), 0);
    b.offer('t', 1, items(50, 3), 0);
    b.offer('u', 0, items(7, 1), 0);
    const sealed = b.due(1, true).map((x) => `${x.topic}/${x.partition}:${x.firstOffset}-${x.lastOffset}`);
    expect(sealed.sort()).toEqual(['t/0:0-1', 't/1:50-52', 'u/0:7-7']);
  });

  it('release of a stale batch object does not unseal a newer one', () => {
    const b = new Batcher<number>({ maxRows: 2, maxBytes: 1e9, maxWaitMs: 1e9 });
    const first = b.offer('t', 0, items(0, 2), 0).sealed!;
    b.revoke('t', 0);
    const second = b.offer('t', 0, items(0, 2), 0).sealed!;
    b.release('t', 0, first);
    expect(b.isSealed('t', 0)).toBe(true);
    b.release('t', 0, second);
    expect(b.isSealed('t', 0)).toBe(false);
  });

  it('sealLargest seals the open batch holding the most bytes, skipping sealed partitions', () => {
    const b = new Batcher<number>({ maxRows: 100, maxBytes: 1e9, maxWaitMs: 1000 });
    b.offer('t', 0, items(0, 3, 10), 0);
    b.offer('t', 1, items(0, 5, 10), 0);
    b.offer('t', 2, items(0, 4, 10), 0);
    const first = b.sealLargest();
    expect([first?.partition, first?.bytes, first?.lastOffset]).toEqual([1, 50, '4']);
    expect(b.isSealed('t', 1)).toBe(true);
    expect(b.bufferedBytes()).toBe(120);
    expect(b.sealLargest()?.partition).toBe(2);
    expect(b.sealLargest()?.partition).toBe(0);
    expect(b.sealLargest()).toBeUndefined();
    // A sealed partition resumes at the next offset after its release.
    b.release('t', 1, first!);
    expect(b.offer('t', 1, items(5, 2, 10), 0).consumed).toBe(2);
  });
});

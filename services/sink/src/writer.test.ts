import { describe, expect, it } from 'vitest';
import { backoffDelay, chunks, type InsertRequest, insertSplitting } from './writer.ts';

const chError = (code: string, type: string) => Object.assign(new Error(`${type}: boom`), { code, type });

describe('backoffDelay', () => {
  const opts = { initialMs: 200, maxMs: 10_000 };
  it('doubles from the initial delay and is capped, jitter within [exp/2, exp]', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, opts, () => 1))).toEqual([200, 400, 800, 1600]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, opts, () => 0))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(50, opts, () => 1)).toBe(10_000);
    expect(backoffDelay(1000, opts, () => 0)).toBe(5000);
  });
});

describe('insertSplitting', () => {
  it('isolates the rows ClickHouse rejects and inserts the others with deterministic tokens', async () => {
    const tokens: string[] = [];
    const inserted: number[] = [];
    const insert = async (req: InsertRequest<number>) => {
      if (req.rows.some((r) => r === 3 || r === 6))
        throw chError('27', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED');
      tokens.push(req.token);
      inserted.push(...req.rows);
    };
    const rows = [0, 1, 2, 3, 4, 5, 6, 7];
    const out = await insertSplitting(insert, { table: 't', rows, token: 'tp-0-10-17' });
    expect(out.inserted).toBe(6);
    expect(out.rejected.map((r) => r.row)).toEqual([3, 6]);
    expect(inserted.sort()).toEqual([0, 1, 2, 4, 5, 7]);
    expect(tokens).toEqual(['tp-0-10-17-s0-2', 'tp-0-10-17-s2-3', 'tp-0-10-17-s4-6', 'tp-0-10-17-s7-8']);
  });

  it('passes retryable errors to the caller without splitting', async () => {
    let calls = 0;
    const insert = async () => {
      calls++;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };
    await expect(insertSplitting(insert, { table: 't', rows: [1, 2, 3], token: 'x' })).rejects.toThrow(
      'socket hang up',
    );
    expect(calls).toBe(1);
  });
});

describe('chunks', () => {
  it('joins lines into chunks of at least the size, keeping every byte and the order', () => {
    const lines = ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n', '{"d":4}\n', '{"e":5}\n'];
    const out = [...chunks(lines, 16)];
    expect(out).toEqual(['{"a":1}\n{"b":2}\n', '{"c":3}\n{"d":4}\n', '{"e":5}\n']);
    expect(out.join('')).toBe(lines.join(''));
  });

  it('yields nothing for no lines', () => {
    expect([...chunks([], 16)]).toEqual([]);
  });
});

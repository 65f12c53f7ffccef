import { describe, expect, it } from 'vitest';
import { classifyError } from './reader.ts';

const ch = (type: string) =>
  Object.assign(new Error(`Code: 1. DB::Exception: secret internals (${type})`), { type, code: '1' });

describe('classifyError', () => {
  it.each([
    [ch('TIMEOUT_EXCEEDED'), 504, 'timeout'],
    [ch('TOO_SLOW'), 504, 'timeout'],
    [new Error('Timeout error.'), 504, 'timeout'],
    [new Error('The user aborted a request.'), 504, 'timeout'],
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), 504, 'timeout'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      503,
      'unavailable',
    ],
    [ch('MEMORY_LIMIT_EXCEEDED'), 503, 'unavailable'],
    [ch('UNKNOWN_TABLE'), 503, 'unavailable'],
    [ch('SYNTAX_ERROR'), 500, 'internal'],
    [ch('CANNOT_PARSE_UUID'), 500, 'internal'],
  ])('%s → %d %s', (err, status, code) => {
    const e = classifyError(err);
    expect([e.status, e.code]).toEqual([status, code]);
    expect(e.message).not.toMatch(/DB::Exception|internals|127\.0\.0\.1/);
  });
});

import { describe, expect, it } from 'vitest';
import { classifyClickHouseError as kind } from './errors.ts';

const ch = (code: string, type: string, text = 'boom') =>
  Object.assign(new Error(`Code: ${code}. DB::Exception: ${text}. (${type})`), { code, type });

describe('classifyClickHouseError', () => {
  it('rows ClickHouse refuses are data errors, by name or by code alone', () => {
    expect(kind(ch('27', 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'))).toBe('data');
    expect(kind(ch('53', 'TYPE_MISMATCH'))).toBe('data');
    expect(kind(ch('376', 'CANNOT_PARSE_UUID'))).toBe('data');
    expect(kind(ch('117', 'INCORRECT_DATA'))).toBe('data');
    expect(kind(Object.assign(new Error('x'), { code: '349' }))).toBe('data');
  });
  it('TOO_MANY_PARTS is data when one block spans too many partitions, the server otherwise', () => {
    const partitions = ch(
      '252',
      'TOO_MANY_PARTS',
      "Too many partitions for single INSERT block (more than 100). The limit is controlled by 'max_partitions_per_insert_block' setting",
    );
    expect(kind(partitions)).toBe('data');
    expect(
      kind(ch('252', 'TOO_MANY_PARTS', 'Too many parts (3001). Merges are processing significantly slower')),
    ).toBe('unavailable');
  });
  it('our own SQL at fault is a query error', () => {
    expect(kind(ch('62', 'SYNTAX_ERROR'))).toBe('query');
    expect(kind(ch('47', 'UNKNOWN_IDENTIFIER'))).toBe('query');
  });
  it('timeouts, from the server or our own abort', () => {
    expect(kind(ch('159', 'TIMEOUT_EXCEEDED'))).toBe('timeout');
    expect(kind(new Error('Timeout error.'))).toBe('timeout');
    expect(kind(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe('timeout');
  });
  it('transport, overload and configuration errors are server conditions', () => {
    expect(kind(ch('241', 'MEMORY_LIMIT_EXCEEDED'))).toBe('unavailable');
    expect(kind(ch('516', 'AUTHENTICATION_FAILED'))).toBe('unavailable');
    expect(kind(ch('60', 'UNKNOWN_TABLE'))).toBe('unavailable');
    expect(kind(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'unavailable',
    );
    expect(kind(undefined)).toBe('unavailable');
  });
});

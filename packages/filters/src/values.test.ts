import { describe, expect, it } from 'vitest';
import { fromClickHouseTime, parseNumber, parseRfc3339, toClickHouseTime } from './values.ts';

describe('timestamps', () => {
  it.each([
    ['2026-01-02T03:04:05Z', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02t03:04:05.1z', '2026-01-02T03:04:05.100Z'],
    ['2026-01-02 03:04:05.123456789Z', '2026-01-02T03:04:05.123Z'],
    ['2026-01-02T03:04:05+05:30', '2026-01-01T21:34:05.000Z'],
    ['2026-01-02T03:04:05-01:00', '2026-01-02T04:04:05.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ])('%s → %s', (input, iso) => {
    expect(new Date(parseRfc3339(input)!).toISOString()).toBe(iso);
  });

  it.each([
    '2026-01-02',
    '2026-01-02T03:04:05',
    '2025-02-29T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-02T24:00:00Z',
    '2026-01-02T03:04:60Z',
    '2026-01-02T03:04:05+24:00',
    '1899-12-31T23:59:59Z',
    '2300-01-01T00:00:00Z',
    ' 2026-01-02T03:04:05Z',
  ])('%s is refused', (input) => expect(parseRfc3339(input)).toBeUndefined());

  it('converts between ClickHouse text and ISO', () => {
    expect(toClickHouseTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02 03:04:05.006');
    expect(fromClickHouseTime('2026-01-02 03:04:05.006')).toBe('2026-01-02T03:04:05.006Z');
  });
});

describe('parseNumber', () => {
  it.each([
    ['1', 1],
    ['-1.5', -1.5],
    ['+2', 2],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1.', 1],
  ])('%s → %d', (s, n) => expect(parseNumber(s)).toBe(n));
  it.each(['', ' 1', 'abc', 'NaN', 'Infinity', '0x1', '1,5', '1e999', '--1'])('%s is not a number', (s) =>
    expect(parseNumber(s)).toBeUndefined(),
  );
});

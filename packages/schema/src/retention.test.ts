import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.ts';
import { futureProblem, retentionDaysProblem, retentionProblem } from './retention.ts';

const now = Date.parse('2026-12-02T00:00:00Z');

describe('retentionProblem', () => {
  it('accepts events inside the retention and refuses older ones with the oldest accepted time', () => {
    expect(retentionProblem('2026-01-01T00:00:00Z', now, 365)).toBeUndefined();
    expect(retentionProblem('2025-12-02T00:00:00Z', now, 365)).toBeUndefined();
    expect(retentionProblem('2025-12-01T23:59:59.999Z', now, 365)).toBe(
      'is older than the retention of 365 days (oldest accepted: 2025-12-02T00:00:00.000Z)',
    );
    expect(retentionProblem('2020-01-01T00:00:00Z', now, 30)).toMatch(/older than the retention of 30 days/);
  });

  it('leaves malformed timestamps to the schema', () => {
    expect(retentionProblem('yesterday', now, 1)).toBeUndefined();
  });
});

describe('futureProblem', () => {
  it('accepts up to 24 hours ahead of the clock and refuses later timestamps', () => {
    expect(futureProblem('2026-12-03T00:00:00Z', now)).toBeUndefined();
    expect(futureProblem('2026-12-03T01:00:00+01:00', now)).toBeUndefined();
    expect(futureProblem('2026-12-03T00:00:00.001Z', now)).toBe(
      'is more than 24 hours ahead of the server clock (latest accepted: 2026-12-03T00:00:00.000Z)',
    );
    // The schema's upper end, where TTL = timestamp + retention wraps around.
    expect(futureProblem('2105-12-31T00:00:00Z', now)).toMatch(/ahead of the server clock/);
    expect(futureProblem('not a time', now)).toBeUndefined();
  });
});

describe('retentionDaysProblem', () => {
  it('refuses a retention whose TTL of a new event would pass the end of DateTime', () => {
    const most = Math.floor((LIMITS.DATETIME_MAX_MS - now - LIMITS.MAX_FUTURE_SKEW_MS) / 86_400_000);
    expect(most).toBe(28_920);
    expect(retentionDaysProblem(365, now)).toBeUndefined();
    expect(retentionDaysProblem(most, now)).toBeUndefined();
    expect(retentionDaysProblem(most + 1, now)).toBe(
      `${most + 1} days would put the expiry of new events past 2106-02-07T06:28:15.000Z, where ClickHouse's DateTime (the TTL) ends and wraps to 1970 (at most ${most} days today)`,
    );
    expect(retentionDaysProblem(36_500, now)).toMatch(/wraps to 1970/);
  });

  it('DATETIME_MAX_MS is UInt32 seconds', () => {
    expect(new Date(LIMITS.DATETIME_MAX_MS).toISOString()).toBe('2106-02-07T06:28:15.000Z');
  });
});

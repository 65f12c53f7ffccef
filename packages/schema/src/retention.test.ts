import { describe, expect, it } from 'vitest';
import { retentionProblem } from './retention.ts';

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

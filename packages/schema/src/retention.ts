import { timestampMs } from './timestamp.ts';

const DAY_MS = 86_400_000;

/**
 * Why an event would be deleted by retention as soon as it is stored, or undefined. The table's
 * TTL deletes rows whose `timestamp` is more than `retentionDays` old; accepting such an event
 * would acknowledge something that then vanishes in silence, so ingest refuses it and the sink
 * dead-letters it (reason `expired`).
 */
export function retentionProblem(
  timestamp: string,
  nowMs: number,
  retentionDays: number,
): string | undefined {
  const ms = timestampMs(timestamp);
  // Not a timestamp at all: the schema reports that.
  if (Number.isNaN(ms)) return undefined;
  const oldest = nowMs - retentionDays * DAY_MS;
  if (ms >= oldest) return undefined;
  return `is older than the retention of ${retentionDays} days (oldest accepted: ${new Date(oldest).toISOString()})`;
}

import { LIMITS } from './limits.ts';
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

/**
 * Why a timestamp is too far in the future, or undefined: more than LIMITS.MAX_FUTURE_SKEW_MS
 * ahead of `nowMs`. With this bound and a retention that passes retentionDaysProblem, the
 * storage TTL (timestamp + retention, a DateTime) never wraps around.
 */
export function futureProblem(timestamp: string, nowMs: number): string | undefined {
  const ms = timestampMs(timestamp);
  if (Number.isNaN(ms)) return undefined;
  const latest = nowMs + LIMITS.MAX_FUTURE_SKEW_MS;
  if (ms <= latest) return undefined;
  return `is more than ${LIMITS.MAX_FUTURE_SKEW_MS / 3_600_000} hours ahead of the server clock (latest accepted: ${new Date(latest).toISOString()})`;
}

/**
 * Why a retention cannot be configured, or undefined: the TTL of an event stamped now (plus the
 * allowed future skew) would end past ClickHouse DateTime's last second, wrap to 1970, and the
 * row would be deleted as it is inserted.
 */
export function retentionDaysProblem(retentionDays: number, nowMs: number): string | undefined {
  const ttlEnd = nowMs + LIMITS.MAX_FUTURE_SKEW_MS + retentionDays * DAY_MS;
  if (ttlEnd <= LIMITS.DATETIME_MAX_MS) return undefined;
  const most = Math.floor((LIMITS.DATETIME_MAX_MS - nowMs - LIMITS.MAX_FUTURE_SKEW_MS) / DAY_MS);
  return `${retentionDays} days would put the expiry of new events past ${new Date(LIMITS.DATETIME_MAX_MS).toISOString()}, where ClickHouse's DateTime (the TTL) ends and wraps to 1970 (at most ${most} days today)`;
}

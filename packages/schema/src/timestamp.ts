import { LIMITS } from './limits.ts';

/** RFC 3339 date-time with an explicit offset, at most nanosecond precision (for messages only). */
const SHAPE_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const NO_OFFSET_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

export const TIMESTAMP_FORMAT_MESSAGE =
  'must be an RFC 3339 timestamp with offset, e.g. 2026-01-02T03:04:05Z';

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month - 1] ?? 0;
}

const INVALID = -1;
const OUT_OF_RANGE = -2;

/** The value of n decimal digits at s[i..], or -1 when any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const d = s.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Epoch milliseconds (fraction truncated), or INVALID / OUT_OF_RANGE. Parsed by hand: every
 * event carries a timestamp, and a capturing regex allocated a dozen strings per call.
 */
function parse(s: string): number {
  const len = s.length;
  if (len < 20 || len > 35) return INVALID;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    (year | month | day | hour | minute | second) < 0 ||
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    (t !== 84 && t !== 116) || // T t
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58
  ) {
    return INVALID;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // .fraction: 1 to 9 digits, milliseconds truncated
    const start = ++i;
    while (i < len && i - start < 10) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (i - start < 3) ms += d * (i - start === 0 ? 100 : i - start === 1 ? 10 : 1);
      i++;
    }
    if (i === start || i - start > 9) return INVALID;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    // Z z
    if (i + 1 !== len) return INVALID;
  } else if (z === 43 || z === 45) {
    // + -
    if (i + 6 !== len || s.charCodeAt(i + 3) !== 58) return INVALID;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return INVALID;
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else return INVALID;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return INVALID;
  // Leap seconds (60) have no representation in JS or ClickHouse.
  if (hour > 23 || minute > 59 || second > 59) return INVALID;
  const ts = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  // Date.UTC maps years 0-99 to 1900-1999; those are out of range anyway.
  if (year < 100 || ts < LIMITS.MIN_TIMESTAMP_MS || ts > LIMITS.MAX_TIMESTAMP_MS) return OUT_OF_RANGE;
  return ts;
}

/** Epoch milliseconds of a valid timestamp, NaN otherwise. */
export function timestampMs(s: string): number {
  const t = parse(s);
  return t < 0 ? Number.NaN : t;
}

/** Why a string is not an acceptable timestamp, or undefined. */
export function timestampProblem(s: string): string | undefined {
  const t = parse(s);
  if (t >= 0) return undefined;
  if (t === OUT_OF_RANGE) {
    return `must be between ${new Date(LIMITS.MIN_TIMESTAMP_MS).toISOString()} and ${new Date(LIMITS.MAX_TIMESTAMP_MS).toISOString()}`;
  }
  if (NO_OFFSET_RE.test(s))
    return 'has no UTC offset (ambiguous): add Z or ±hh:mm, e.g. 2026-01-02T03:04:05Z';
  if (SHAPE_RE.test(s)) return 'is not a valid date/time (no such day, hour, minute, second or offset)';
  return TIMESTAMP_FORMAT_MESSAGE;
}

/** `2026-01-02T03:04:05.678Z`; callers pass timestamps that passed validation. */
export function normalizeTimestamp(s: string): string {
  const t = parse(s);
  if (t < 0) throw new RangeError(`invalid timestamp ${JSON.stringify(s)}: ${timestampProblem(s)}`);
  return new Date(t).toISOString();
}

import { ApiError } from '@audit/http';

/** Parameter names can be hostile too: quote at most this much of one in an error message. */
const NAME_IN_MESSAGE = 100;

/** The one 400 of the query API: it names the parameter, in the message and in `details.parameter`. */
export function invalidParameter(parameter: string, problem: string): ApiError {
  const shown = parameter.length > NAME_IN_MESSAGE ? `${parameter.slice(0, NAME_IN_MESSAGE)}…` : parameter;
  return new ApiError(400, 'invalid_parameter', `${shown}: ${problem}`, { parameter: shown });
}

const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** DateTime64 covers 1900–2299; outside it ClickHouse would clamp silently. */
const MIN_YEAR = 1900;
const MAX_YEAR = 2299;

/**
 * Parses an RFC 3339 timestamp (with `Z` or an offset) into epoch milliseconds, checking the
 * calendar (no 30 February) and truncating sub-millisecond digits (storage keeps ms).
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339_RE.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (y < MIN_YEAR || y > MAX_YEAR || mo < 1 || mo > 12 || h > 23 || mi > 59 || s > 59) return undefined;
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (d < 1 || day.getUTCDate() !== d) return undefined;
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * 60_000;
}

// The table's time format belongs to @audit/clickhouse; filters and routes take it from here.
export { fromClickHouseTime, toClickHouseTime } from '@audit/clickhouse';

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A decimal number as a numeric operator accepts it; undefined for anything else (`NaN`, `0x1`, `1,5`). */
export function parseNumber(text: string): number | undefined {
  if (!NUMBER_RE.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

// One UUID syntax for the contract and the filters.
export { UUID_RE } from '@audit/schema';

/** A non-negative integer within `max` (e.g. `limit`), or undefined. */
export function parseIntInRange(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

import { EVENT_COLUMNS, type EventRow, fromClickHouseTime, rowToEvent } from '@audit/clickhouse';

/** CSV columns of an export: the event columns, in their order; `event_details` is its JSON text. */
const CSV_COLUMNS = EVENT_COLUMNS;

/** RFC 4180: quote a field when it holds a quote, comma or line break. */
function csvField(value: string): string {
  // A cell starting with = + - @ (or tab/CR) is a formula to spreadsheets: audit data is
  // attacker-controlled, so such cells get a leading apostrophe (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function rowToCsv(row: EventRow): string {
  const cells = CSV_COLUMNS.map((k) => {
    if (k === 'timestamp' || k === 'received_at') return fromClickHouseTime(row[k]);
    return csvField(String(row[k]));
  });
  return `${cells.join(',')}\r\n`;
}

/** One NDJSON line of an export: the event in the contract's shape. */
export function rowToNdjson(row: EventRow): string {
  return `${JSON.stringify(rowToEvent(row))}\n`;
}

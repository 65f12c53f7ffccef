import { EVENT_COLUMNS, type EventRow } from '@audit/clickhouse';
import { type AuditEvent, OPTIONAL_STRING_FIELDS } from '@audit/schema';
import { fromClickHouseTime } from './filters/values.ts';

/**
 * A stored row back in the contract's shape: optional fields stored as '' are omitted,
 * `event_details` is the stored JSON text parsed, times are ISO UTC with ms.
 */
export function rowToEvent(row: EventRow): AuditEvent {
  const event: AuditEvent = {
    event_id: row.event_id,
    event_type: row.event_type,
    timestamp: fromClickHouseTime(row.timestamp),
    received_at: fromClickHouseTime(row.received_at),
    tenant_id: row.tenant_id,
    user_id: row.user_id,
    source: row.source,
    schema_version: Number(row.schema_version),
    event_details: {},
  };
  for (const k of OPTIONAL_STRING_FIELDS) if (row[k] !== '') event[k] = row[k];
  event.event_details = parseDetails(row.event_details);
  return event;
}

function parseDetails(text: string): Record<string, unknown> {
  if (text === '') return {};
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

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

import { type AuditEvent, OPTIONAL_STRING_FIELDS } from '@audit/schema';
import type { EventRow } from './events-table.ts';
import { fromClickHouseTime } from './time.ts';

/**
 * A stored row back in the contract's shape (the inverse of `toRow`): optional fields stored as
 * '' are omitted, `event_details` is the stored JSON text parsed, times are ISO UTC with ms.
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

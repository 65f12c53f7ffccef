import { type AuditEvent, detailsColumns, eventContentHash } from '@audit/schema';
import type { StoredEventRow } from './events-table.ts';
import { toClickHouseTime } from './time.ts';

/** Omitted optional common fields are stored as '' (the query API returns them as absent). */
export function toRow(event: AuditEvent, partition: number, offset: string): StoredEventRow {
  return {
    tenant_id: event.tenant_id,
    event_id: event.event_id,
    event_type: event.event_type,
    timestamp: toClickHouseTime(event.timestamp),
    received_at: toClickHouseTime(event.received_at),
    user_id: event.user_id,
    source: event.source,
    actor_type: event.actor_type ?? '',
    resource_type: event.resource_type ?? '',
    resource_id: event.resource_id ?? '',
    action: event.action ?? '',
    outcome: event.outcome ?? '',
    ip: event.ip ?? '',
    user_agent: event.user_agent ?? '',
    schema_version: event.schema_version,
    ...detailsColumns(event.event_details),
    event_details: JSON.stringify(event.event_details),
    content_hash: eventContentHash(event),
    kafka_partition: partition,
    kafka_offset: Number(offset),
  };
}

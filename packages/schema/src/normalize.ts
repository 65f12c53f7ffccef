import type { AuditEvent, EventInput } from './event-schema.ts';
import { OPTIONAL_STRING_FIELDS } from './limits.ts';
import { normalizeTimestamp } from './timestamp.ts';
import { uuidv7 } from './uuid.ts';

/** The fields normalizeEvent and validateKafkaMessage read from a validated event. */
export type EventFields = {
  event_type: string;
  timestamp: string;
  user_id: string;
  event_details?: Record<string, unknown> | undefined;
  schema_version?: number | undefined;
} & { [K in (typeof OPTIONAL_STRING_FIELDS)[number]]?: string | undefined };

/** Builds the stored event with its keys in serializeEvent's order. */
export function assembleEvent(
  src: EventFields,
  id: { eventId: string; receivedAt: string; tenantId: string; source: string },
): AuditEvent {
  // Insertion order follows serializeEvent's, so JSON.stringify(event) lists fields the same way.
  const event = {
    event_id: id.eventId.toLowerCase(),
    event_type: src.event_type,
    timestamp: normalizeTimestamp(src.timestamp),
    received_at: id.receivedAt,
    tenant_id: id.tenantId,
    source: id.source,
    user_id: src.user_id,
  } as AuditEvent;
  for (const f of OPTIONAL_STRING_FIELDS) {
    const v = src[f];
    if (v !== undefined) event[f] = v;
  }
  event.schema_version = src.schema_version ?? 1;
  event.event_details = src.event_details ?? {};
  return event;
}

/**
 * The stored form of a validated HTTP event: event_id (UUIDv7 when absent, lower-cased),
 * timestamp in UTC with milliseconds, received_at from the server clock. tenant_id always comes
 * from ctx (the token): callers decide beforehand whether a body tenant_id that differs is an
 * error. source is the body's when given, else ctx.source.
 */
export function normalizeEvent(
  input: EventInput,
  ctx: { tenantId: string; source: string; receivedAt: Date },
): AuditEvent {
  return assembleEvent(input, {
    eventId: input.event_id ?? uuidv7(),
    receivedAt: ctx.receivedAt.toISOString(),
    tenantId: ctx.tenantId,
    source: input.source ?? ctx.source,
  });
}

const q = JSON.stringify;

/**
 * The exact JSON written to Kafka. Key order is fixed (event_id, event_type, timestamp,
 * received_at, tenant_id, source, user_id, optional common fields, schema_version,
 * event_details) so equal events are equal bytes.
 */
export function serializeEvent(e: AuditEvent): string {
  let s = `{"event_id":${q(e.event_id)},"event_type":${q(e.event_type)},"timestamp":${q(e.timestamp)},"received_at":${q(e.received_at)},"tenant_id":${q(e.tenant_id)},"source":${q(e.source)},"user_id":${q(e.user_id)}`;
  for (const f of OPTIONAL_STRING_FIELDS) {
    const v = e[f];
    if (v !== undefined) s += `,"${f}":${q(v)}`;
  }
  return `${s},"schema_version":${q(e.schema_version)},"event_details":${q(e.event_details)}}`;
}

import { randomUUID } from 'node:crypto';
import type { Message } from '@audit/kafka';
import { type AuditEvent, type EventInput, normalizeEvent, serializeEvent } from '@audit/schema';

/**
 * One producer event as an HTTP client sends it. About 600 bytes once the server has added
 * event_id, tenant_id, source and received_at — the record size the Kafka ceilings use.
 */
export function inputEvent(i: number, extra: Partial<EventInput> = {}): EventInput {
  return {
    event_type: 'customer.action.performed',
    timestamp: new Date().toISOString(),
    user_id: `user-${i % 997}`,
    actor_type: 'user',
    resource_type: 'invoice',
    resource_id: `inv-${i}`,
    action: 'update',
    outcome: i % 10 === 0 ? 'failure' : 'success',
    ip: '203.0.113.7',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64) audit-bench/1.0',
    event_details: {
      plan: i % 3 === 0 ? 'enterprise' : 'pro',
      amount: (i * 37) % 100_000,
      currency: 'EUR',
      tags: ['billing', 'api'],
      customer: { country: 'DE', segment: 'smb', seats: 12 },
      request: { method: 'PUT', path: `/api/v1/invoices/inv-${i}`, duration_ms: i % 250 },
    },
    ...extra,
  };
}

export type BodyFormat = 'json' | 'ndjson';

export interface RequestShape {
  name: string;
  format: BodyFormat;
  eventsPerRequest: number;
  /** Every event carries its own event_id (ID_PLACEHOLDER, replaced by a fresh UUID per request): the path with the stored-id check. */
  clientIds?: boolean;
}

/** Stands for a fresh event_id in a prebuilt body; see freshIds. */
export const ID_PLACEHOLDER = '00000000-0000-0000-0000-00000000beef';
const PLACEHOLDER_RE = new RegExp(ID_PLACEHOLDER, 'g');
/** The body with a new random UUID for every placeholder. */
export const freshIds = (body: string) => body.replace(PLACEHOLDER_RE, () => randomUUID());

export const contentType = (f: BodyFormat) => (f === 'json' ? 'application/json' : 'application/x-ndjson');

/**
 * `count` distinct request bodies of one shape, built once so the load generator spends no CPU
 * on them. Bodies carry no event_id: the server assigns a fresh one to every event it accepts.
 */
export function requestBodies(shape: RequestShape, count: number): string[] {
  return Array.from({ length: count }, (_, b) => {
    const events = Array.from({ length: shape.eventsPerRequest }, (_, i) =>
      inputEvent(b * shape.eventsPerRequest + i, shape.clientIds ? { event_id: ID_PLACEHOLDER } : {}),
    );
    if (shape.format === 'ndjson') return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
    return JSON.stringify(shape.eventsPerRequest === 1 ? events[0] : events);
  });
}

/** The Kafka message the ingest API writes for an event (same key, value bytes and headers). */
export function toMessage(event: AuditEvent): Message {
  return {
    key: `${event.tenant_id}/${event.event_id}`,
    value: serializeEvent(event),
    headers: { 'content-type': 'application/json', 'schema-version': '1' },
  };
}

/** `n` stored events exactly as ingest would produce them for `tenant`, as Kafka messages. */
export function kafkaMessages(n: number, tenant: string): Message[] {
  const receivedAt = new Date();
  return Array.from({ length: n }, (_, i) =>
    toMessage(
      normalizeEvent(
        { ...inputEvent(i), event_id: randomUUID() },
        { tenantId: tenant, source: 'bench', receivedAt },
      ),
    ),
  );
}

export const avgValueBytes = (messages: Message[]) =>
  Math.round(
    messages.reduce((n, m) => n + Buffer.byteLength(m.value as string), 0) / Math.max(1, messages.length),
  );

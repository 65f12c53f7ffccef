import { uuidFromName } from './uuid.ts';

const NAMESPACE = 'audit.idempotency-key.v1';

/**
 * The event_id the ingest API gives the event at `index` (0-based, request order) of a request
 * sent with `Idempotency-Key: key` and no event_id of its own: a name-based UUID of (tenant, key,
 * index), so a resend of the request gets the same ids and is recognized as the same events.
 */
export function idempotencyKeyEventId(tenantId: string, key: string, index: number): string {
  return uuidFromName(NAMESPACE, `${tenantId}\u0000${key}\u0000${index}`);
}

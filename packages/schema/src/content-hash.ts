import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { AuditEvent } from './event-schema.ts';

/**
 * SHA-256 (hex) of what a producer said about an event: every stored field except `received_at`
 * (the server's clock, different on every resend), canonicalized with RFC 8785. Two sends of one
 * event_id are the same event exactly when their hashes are equal: an identical resend is a
 * duplicate, anything else is a conflict that never replaces the first write.
 */
export function eventContentHash(event: AuditEvent): string {
  const { received_at: _receivedAt, ...content } = event;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

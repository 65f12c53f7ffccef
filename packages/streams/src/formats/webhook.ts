import { createHmac, randomBytes } from 'node:crypto';
import type { AuditEvent } from '@audit/schema';
import type { SigningSecret } from '../destinations.ts';
import type { WireRequest } from './wire.ts';

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">`, keyed by the secret's bytes. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** Secrets still signing at `nowMs`: the current one and rotated-out ones within their grace. */
export function activeSecrets(secrets: SigningSecret[], nowMs: number): SigningSecret[] {
  return secrets.filter((s) => s.until === undefined || s.until > nowMs);
}

export interface WebhookContext {
  streamId: string;
  tenantId: string;
  /**
   * `webhook-id`: the same for every attempt at the same batch (stream, partition, offsets), so a
   * receiver can drop a redelivered batch by id as well as each event by event_id.
   */
  messageId: string;
  nowMs: number;
  secrets: SigningSecret[];
}

/**
 * One batch as a Standard Webhooks message (https://www.standardwebhooks.com): a JSON body with a
 * type, a timestamp and the events; signed with every active secret (space-separated), so a
 * receiver keeps verifying through a rotation.
 */
export function webhookRequest(events: AuditEvent[], ctx: WebhookContext): WireRequest {
  const ts = Math.floor(ctx.nowMs / 1000);
  const body = JSON.stringify({
    type: 'audit.events',
    timestamp: new Date(ctx.nowMs).toISOString(),
    data: { stream_id: ctx.streamId, tenant_id: ctx.tenantId, events },
  });
  const signatures = activeSecrets(ctx.secrets, ctx.nowMs).map((s) =>
    signWebhook(s.secret, ctx.messageId, ts, body),
  );
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': ctx.messageId,
      'webhook-timestamp': String(ts),
      'webhook-signature': signatures.join(' '),
    },
  };
}

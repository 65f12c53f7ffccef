import type { AuditEvent } from '@audit/schema';

export type SendResult =
  | { ok: true; status?: number }
  | {
      ok: false;
      error: string;
      status?: number;
      /** The receiver's Retry-After, in ms. */
      retryAfterMs?: number;
      /** 413: the batch is split and each half sent on its own. */
      tooLarge?: boolean;
    };

export interface SendContext {
  /** Stable per batch (stream, partition, offsets): the webhook-id of every attempt. */
  messageId: string;
  nowMs: number;
}

/** One destination's connection: sends a batch and says whether the receiver took it. */
export interface Sender {
  send(events: AuditEvent[], ctx: SendContext): Promise<SendResult>;
  close(): void;
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

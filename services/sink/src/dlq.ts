import type { IHeaders, Message, Producer } from '@audit/kafka';

/**
 * Why a message was not stored: `unparseable` (not JSON), `invalid` (not the contract), `expired`
 * (older than the retention: the TTL would delete it on arrival), `conflict` (its event_id is
 * stored with other content: first write wins), `rejected` (ClickHouse refused the row itself),
 * `tenant_mismatch` (on a tenant's own topic with another tenant_id), `reserved_type` (a system
 * `audit.*` event type on a tenant's own topic).
 */
export type DlqReason =
  | 'unparseable'
  | 'invalid'
  | 'expired'
  | 'conflict'
  | 'rejected'
  | 'tenant_mismatch'
  | 'reserved_type';

/** What the sink keeps of a Kafka message so it can dead-letter the original bytes. */
export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

export const MAX_DLQ_ERROR_BYTES = 4096;

/** Truncates to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * The dead-letter message: the original key and value bytes, the original headers, and why
 * (`dlq-reason`, `dlq-error` = JSON of the issues, ≤ 4 KiB) and where from (`source-*`).
 */
export function toDlqMessage(src: SourceMessage, reason: DlqReason, error: unknown): Message {
  return {
    key: src.key,
    value: src.value,
    headers: {
      ...(src.headers ?? {}),
      'dlq-reason': reason,
      'dlq-error': truncateUtf8(JSON.stringify(error), MAX_DLQ_ERROR_BYTES),
      'source-topic': src.topic,
      'source-partition': String(src.partition),
      'source-offset': src.offset,
    },
  };
}

export type DlqSender = (messages: Message[]) => Promise<void>;

/** Sends to the DLQ with acks=all on an idempotent producer; throws so the caller retries. */
export function kafkaDlqSender(producer: Producer, topic: string): DlqSender {
  return async (messages) => {
    if (messages.length === 0) return;
    await producer.send({ topic, acks: -1, messages });
  };
}

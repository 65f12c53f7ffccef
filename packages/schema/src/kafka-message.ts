import { type AuditEvent, auditEventSchema } from './event-schema.ts';
import { fromZodIssues, type Issue } from './issues.ts';
import { LIMITS } from './limits.ts';
import { assembleEvent } from './normalize.ts';
import { parseJson } from './parse-json.ts';
import { futureProblem } from './retention.ts';
import { normalizeTimestamp } from './timestamp.ts';
import { uuidFromName } from './uuid.ts';

export type KafkaMeta = { topic: string; partition: number; offset: string; timestamp: string };
export type KafkaMessageResult =
  | { ok: true; event: AuditEvent }
  | { ok: false; reason: 'unparseable' | 'invalid'; issues: Issue[] };

/** Source recorded for messages a producer wrote straight to Kafka without naming one. */
export const DIRECT_KAFKA_SOURCE = 'kafka';

const NAMESPACE = 'audit.kafka-event-id.v1';

/** The event_id of a message that has none: the same message (even redelivered) gets the same id. */
export function kafkaEventId(meta: Pick<KafkaMeta, 'topic' | 'partition' | 'offset'>): string {
  return uuidFromName(NAMESPACE, `${meta.topic}\u0000${meta.partition}\u0000${meta.offset}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function unparseable(message: string): KafkaMessageResult {
  return { ok: false, reason: 'unparseable', issues: [{ path: '', message }] };
}

function kafkaTime(ts: string): string {
  const ms = Number(ts);
  // Brokers report -1 when a producer set no timestamp; the server clock is the best left.
  return new Date(Number.isSafeInteger(ms) && ms >= 0 ? ms : Date.now()).toISOString();
}

/**
 * Decodes and validates one message of `audit.events` into the stored event. `unparseable`: no
 * value, not UTF-8, not JSON. `invalid`: JSON that breaks the contract (issues name each field),
 * including a timestamp too far ahead of `nowMs` (futureProblem: it would be deleted on arrival).
 */
export function validateKafkaMessage(
  value: Buffer | null,
  meta: KafkaMeta,
  nowMs: number = Date.now(),
): KafkaMessageResult {
  if (value === null) return unparseable('message has no value');
  if (value.length > LIMITS.MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      reason: 'invalid',
      issues: [
        {
          path: '',
          message: `message is ${value.length} bytes, more than the limit of ${LIMITS.MAX_MESSAGE_BYTES}`,
        },
      ],
    };
  }
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    return unparseable('message value is not valid UTF-8');
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return unparseable(parsed.message);
  const r = auditEventSchema.safeParse(parsed.value);
  if (!r.success) return { ok: false, reason: 'invalid', issues: fromZodIssues(r.error.issues) };
  const m = r.data;
  const future = futureProblem(m.timestamp, nowMs);
  if (future !== undefined) {
    return { ok: false, reason: 'invalid', issues: [{ path: 'timestamp', message: future }] };
  }
  return {
    ok: true,
    event: assembleEvent(m, {
      eventId: m.event_id ?? kafkaEventId(meta),
      receivedAt: m.received_at === undefined ? kafkaTime(meta.timestamp) : normalizeTimestamp(m.received_at),
      tenantId: m.tenant_id,
      source: m.source ?? DIRECT_KAFKA_SOURCE,
    }),
  };
}

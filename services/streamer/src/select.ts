import type { KafkaMessage } from '@audit/kafka';
import { type AuditEvent, retentionProblem, tenantTopicProblem, validateKafkaMessage } from '@audit/schema';

/** A message of a batch that goes to the stream's destination. */
export interface Selected {
  event: AuditEvent;
  offset: string;
  /** Kafka timestamp (ms): the start of its delivery latency. */
  kafkaMs: number;
  bytes: number;
}

export interface SelectContext {
  tenant: string;
  topic: string;
  partition: number;
  /** The topic is the tenant's own (a direct producer's); otherwise the events topic. */
  tenantTopic: boolean;
  retentionDays: number;
  nowMs: number;
  matches: (e: AuditEvent) => boolean;
}

/**
 * The messages of one fetched batch that belong on the stream, as the sink would store them: a
 * valid event (the sink dead-letters the rest), of the stream's tenant, not expired, matching the
 * filter. On the events topic — written only by the services — the key `<tenant>/<event_id>`
 * skips other tenants' messages without parsing them; the tenant inside is checked all the same.
 */
export function selectMessages(messages: KafkaMessage[], ctx: SelectContext): Selected[] {
  const keyPrefix = Buffer.from(`${ctx.tenant}/`);
  const out: Selected[] = [];
  for (const m of messages) {
    if (!ctx.tenantTopic && m.key && !startsWith(m.key, keyPrefix)) continue;
    const v = validateKafkaMessage(
      m.value,
      { topic: ctx.topic, partition: ctx.partition, offset: m.offset, timestamp: m.timestamp },
      ctx.nowMs,
    );
    if (!v.ok) continue;
    const e = v.event;
    if (ctx.tenantTopic ? tenantTopicProblem(e, ctx.tenant) !== undefined : e.tenant_id !== ctx.tenant)
      continue;
    if (retentionProblem(e.timestamp, ctx.nowMs, ctx.retentionDays) !== undefined) continue;
    if (!ctx.matches(e)) continue;
    out.push({ event: e, offset: m.offset, kafkaMs: Number(m.timestamp), bytes: m.value?.length ?? 0 });
  }
  return out;
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/** Consecutive runs of at most `maxEvents` events and about `maxBytes` bytes, in offset order. */
export function chunk(selected: Selected[], maxEvents: number, maxBytes: number): Selected[][] {
  const out: Selected[][] = [];
  let cur: Selected[] = [];
  let bytes = 0;
  for (const s of selected) {
    if (cur.length > 0 && (cur.length >= maxEvents || bytes + s.bytes > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(s);
    bytes += s.bytes;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

import { eventKey, type StoredEventRow, type StoredIdentity, toRow } from '@audit/clickhouse';
import { type AuditEvent, retentionProblem, tenantTopicProblem, validateKafkaMessage } from '@audit/schema';
import type { DlqReason } from './dlq.ts';
import type { Held } from './held.ts';

/**
 * What one step decided for one message (or for a batch-wide call: `ok` or `retry`). The
 * pipeline (pipeline.ts) keeps one result per message and hands the `ok` ones to the next step;
 * every other result is final: `dlq` and `conflict` are dead-lettered, `duplicate` is dropped
 * (counted), `retry` repeats the batch-wide call after a backoff.
 */
export type StepResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'dlq'; reason: DlqReason; error: unknown }
  | { kind: 'conflict'; stored: Origin; error: unknown }
  | { kind: 'duplicate'; of: DuplicateOf; identity: StoredRow }
  | { kind: 'retry'; error: unknown };

/** What a message's result can be (a batch-wide `retry` never ends up on one message). */
export type MessageResult<T> = Exclude<StepResult<T>, { kind: 'retry' }>;

/**
 * `batch`: an earlier message of the same batch has the same id and content. `stored`: stored
 * before, by another message. `redelivery`: stored by this very message (same partition and
 * offset) — a range inserted before a crash or a failed commit, now delivered again.
 */
export type DuplicateOf = 'batch' | 'stored' | 'redelivery';

/** Where the winning copy of an id comes from. */
export interface Origin {
  kafka_partition: number;
  kafka_offset: number;
}

export const ok = <T>(value: T): StepResult<T> & { kind: 'ok' } => ({ kind: 'ok', value });
export const dlq = (reason: DlqReason, error: unknown) => ({ kind: 'dlq', reason, error }) as const;
export const retry = (error: unknown) => ({ kind: 'retry', error }) as const;

/** A message that passed validation, ready to be inserted: its JSONEachRow line and identity. */
export interface Row {
  offset: string;
  /** eventKey(tenant_id, event_id). */
  key: string;
  identity: StoredRow;
  /** toYYYYMM(timestamp): the table's partition. */
  month: number;
  /** The JSONEachRow line (ending in a newline); emptied once inserted. */
  line: string;
}

/** A stored row's identity, with its tamper-evidence leaf hash when sealing is on. */
export type StoredRow = StoredIdentity & { leaf_hash?: string };

export interface MessageContext {
  topic: string;
  partition: number;
  nowMs: number;
  retentionDays: number;
  /**
   * The tenant whose own topic this is (a direct producer's, KAFKA_TENANT_TOPIC_PREFIX); absent on
   * the events topic, which only the services write.
   */
  topicTenant?: string;
  /** Hex leaf hash of the row as stored (docs/integrity.md); absent: no sealing. */
  leafHash?: (row: StoredEventRow) => string;
}

/** Parse and validate against the contract. */
export function validate(msg: Held, ctx: MessageContext): MessageResult<AuditEvent> {
  const v = validateKafkaMessage(msg.value, {
    topic: ctx.topic,
    partition: ctx.partition,
    offset: msg.offset,
    timestamp: msg.timestamp,
  });
  return v.ok ? ok(v.event) : dlq(v.reason, v.issues);
}

/** A tenant topic's message must be that tenant's own, and not a service record (tenantTopicProblem). */
export function checkProducer(event: AuditEvent, ctx: MessageContext): MessageResult<AuditEvent> {
  if (ctx.topicTenant === undefined) return ok(event);
  const problem = tenantTopicProblem(event, ctx.topicTenant);
  return problem ? dlq(problem.reason, [problem.issue]) : ok(event);
}

/**
 * An event the TTL would delete on arrival is dead-lettered instead of stored and silently lost
 * (it passed ingest and then aged in the backlog, or came straight from Kafka).
 */
export function checkRetention(event: AuditEvent, ctx: MessageContext): MessageResult<AuditEvent> {
  const problem = retentionProblem(event.timestamp, ctx.nowMs, ctx.retentionDays);
  return problem ? dlq('expired', [{ path: 'timestamp', message: `timestamp ${problem}` }]) : ok(event);
}

/** The row as ClickHouse takes it, encoded once here (the inserter sends the lines as they are). */
export function encode(event: AuditEvent, msg: Held, ctx: MessageContext): MessageResult<Row> {
  try {
    const row = toRow(event, ctx.partition, msg.offset);
    return ok({
      offset: msg.offset,
      key: eventKey(row.tenant_id, row.event_id),
      identity: {
        tenant_id: row.tenant_id,
        event_id: row.event_id,
        content_hash: row.content_hash,
        kafka_partition: row.kafka_partition,
        kafka_offset: row.kafka_offset,
        leaf_hash: ctx.leafHash?.(row),
      },
      month: Number(row.timestamp.slice(0, 4)) * 100 + Number(row.timestamp.slice(5, 7)),
      line: `${JSON.stringify(row)}\n`,
    });
  } catch (err) {
    return dlq('invalid', [{ path: '', message: String((err as Error).message ?? err) }]);
  }
}

const originOf = (i: Origin): Origin => ({
  kafka_partition: i.kafka_partition,
  kafka_offset: i.kafka_offset,
});

function conflict(stored: Origin, message: string): MessageResult<never> {
  const origin = originOf(stored);
  return { kind: 'conflict', stored: origin, error: [{ path: 'event_id', message, stored: origin }] };
}

/**
 * First write wins against what is stored. Rows stored before content hashes existed (migration
 * 0003, content_hash '') cannot be compared: any resend of their id is dead-lettered as a
 * conflict, so the stored event stays and the resend is kept for an operator rather than dropped.
 */
export function againstStored(row: Row, stored: StoredIdentity | undefined): MessageResult<Row> {
  if (!stored) return ok(row);
  const id = row.identity;
  if (stored.content_hash === '') {
    return conflict(
      stored,
      `event_id ${id.event_id} is already stored (from before content hashes were recorded, so the two cannot be compared); first write wins`,
    );
  }
  if (stored.content_hash !== id.content_hash) {
    return conflict(
      stored,
      `event_id ${id.event_id} is already stored with other content (partition ${stored.kafka_partition}, offset ${stored.kafka_offset}); first write wins`,
    );
  }
  const same = stored.kafka_partition === id.kafka_partition && stored.kafka_offset === id.kafka_offset;
  return { kind: 'duplicate', of: same ? 'redelivery' : 'stored', identity: id };
}

/**
 * First write wins, per (tenant, event_id), for the rows of one batch in offset order: against
 * the stored copy when there is one (`againstStored`), else against the first message of the id
 * in this batch — a later copy with the same content is a duplicate, with other content a
 * conflict naming the first.
 */
export function firstWriteWins(rows: Row[], stored: Map<string, StoredIdentity>): MessageResult<Row>[] {
  const first = new Map<string, Row>();
  return rows.map((row) => {
    const s = stored.get(row.key);
    if (s) return againstStored(row, s);
    const winner = first.get(row.key);
    if (!winner) {
      first.set(row.key, row);
      return ok(row);
    }
    if (winner.identity.content_hash === row.identity.content_hash) {
      return { kind: 'duplicate', of: 'batch', identity: row.identity };
    }
    return conflict(
      winner.identity,
      `event_id ${row.identity.event_id} comes earlier in this partition (offset ${winner.offset}) with other content; first write wins`,
    );
  });
}

/**
 * ClickHouse refuses an INSERT block spanning more than `max_partitions_per_insert_block` (100 by
 * default) partitions, and the table is partitioned by month: a batch is inserted in groups of at
 * most this many months, ascending. The grouping depends only on the rows, so a redelivered range
 * rebuilds the same groups (and tokens).
 */
export const MAX_MONTHS_PER_INSERT = 100;

export interface InsertGroup {
  rows: Row[];
  /** `m<first>-<last>` months of the group. */
  label: string;
}

export function groupByMonth(rows: Row[], maxMonths = MAX_MONTHS_PER_INSERT): InsertGroup[] {
  const months = [...new Set(rows.map((r) => r.month))].sort((a, b) => a - b);
  if (months.length <= maxMonths) {
    return rows.length === 0 ? [] : [{ rows, label: `m${months[0]}-${months.at(-1)}` }];
  }
  const groupOf = new Map<number, number>();
  for (const [i, m] of months.entries()) groupOf.set(m, Math.floor(i / maxMonths));
  const groups: InsertGroup[] = [];
  for (const row of rows) {
    const g = groupOf.get(row.month)!;
    groups[g] ??= { rows: [], label: '' };
    groups[g].rows.push(row);
  }
  groups.forEach((g, i) => {
    const first = months[i * maxMonths]!;
    const last = months[Math.min(months.length, (i + 1) * maxMonths) - 1]!;
    g.label = `m${first}-${last}`;
  });
  return groups;
}

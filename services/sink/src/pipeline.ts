import { createHash } from 'node:crypto';
import type { StoredEventRow, StoredEventsLookup } from '@audit/clickhouse';
import type { Logger } from '@audit/http';
import type { Message } from '@audit/kafka';
import type { Batch } from './batcher.ts';
import { type DlqReason, type DlqSender, toDlqMessage } from './dlq.ts';
import { type Held, source } from './held.ts';
import type { InFlightKeys } from './inflight-keys.ts';
import type { SinkMetrics } from './metrics.ts';
import {
  checkProducer,
  checkRetention,
  encode,
  firstWriteWins,
  groupByMonth,
  type MessageContext,
  type MessageResult,
  ok,
  type Row,
  retry,
  type StepResult,
  type StoredRow,
  validate,
} from './steps.ts';
import { backoffDelay, type Inserter, insertSplitting, type StreamInserter, sleep } from './writer.ts';

/** The range a batch covers, for the stored hook. */
export interface StoredRange {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
}

/**
 * Called once ClickHouse acknowledged a range and before its offsets are committed, with the rows
 * the range stored in offset order (a redelivered row stored by the same message before a crash is
 * included). A failure is retried like an insert: the offsets stay uncommitted meanwhile.
 */
export type OnStored = (rows: StoredRow[], range: StoredRange) => Promise<void>;

export interface PipelineOptions {
  table: string;
  retentionDays: number;
  /** Which tenant a topic belongs to (a direct producer's own topic), or undefined. */
  topicTenant: (topic: string) => string | undefined;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Test-only fault injection (SINK_FAULT_CRASH_AFTER_INSERT): SIGKILL after the n-th insert. */
  crashAfterInsert: number;
}

export interface PipelineDeps {
  /** Takes JSONEachRow lines. */
  insert: StreamInserter<string>;
  lookup: StoredEventsLookup;
  dlq: DlqSender;
  keys: InFlightKeys;
  metrics: SinkMetrics;
  logger: Logger;
  onStored?: OnStored;
  /** Tamper evidence: the leaf hash of each row, handed to onStored with it. */
  leafHash?: (row: StoredEventRow) => string;
  options: PipelineOptions;
  now?: () => number;
}

/** A batch being written. */
export interface Flight {
  batch: Batch<Held>;
  /** Set when the partition is revoked while the batch is written: never commit it then. */
  revoked: boolean;
}

/** The batch was given up (partition revoked, or the sink stops): nothing is committed. */
export class Abandoned extends Error {}

/** The commit of `next` (= last + 1) for the flight's partition. */
export type Commit = (flight: Flight, next: bigint) => Promise<void>;

/**
 * validate → producer (a tenant topic's tenant) → retention → encode → first write wins (one id lookup per batch) → insert (grouped by
 * month, data errors bisected) → stored hook → DLQ → commit. Each message carries one result
 * (steps.ts); the batch-wide calls to ClickHouse and Kafka return `ok` or `retry`, and a retry
 * repeats that call after a capped backoff, forever, while the partition stays paused — only
 * server conditions get there: whatever is a property of the data ends in the DLQ.
 */
export class BatchPipeline {
  private inserts = 0;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.log = deps.logger.child({ component: 'pipeline' });
    this.now = deps.now ?? Date.now;
  }

  async run(flight: Flight, signal: AbortSignal, commit: Commit): Promise<void> {
    const { batch } = flight;
    const { topic, partition } = batch;
    const m = this.deps.metrics;
    m.batchRows.observe(batch.items.length);
    m.batchBytes.observe(batch.bytes);
    const ctx: MessageContext = {
      topic,
      partition,
      nowMs: this.now(),
      retentionDays: this.deps.options.retentionDays,
      topicTenant: this.deps.options.topicTenant(topic),
      leafHash: this.deps.leafHash,
    };

    const results: MessageResult<Row>[] = batch.items.map((msg) => {
      const v = validate(msg, ctx);
      if (v.kind !== 'ok') return v;
      const owned = checkProducer(v.value, ctx);
      if (owned.kind !== 'ok') return owned;
      const fresh = checkRetention(owned.value, ctx);
      return fresh.kind === 'ok' ? encode(fresh.value, msg, ctx) : fresh;
    });
    const candidates = okIndexes(results);

    let inserted = 0;
    const release = await this.deps.keys.acquire(candidates.map((i) => rowAt(results, i).key));
    try {
      const stored = await this.step('lookup', flight, signal, () =>
        this.deps.lookup(
          candidates.map((i) => rowAt(results, i).identity),
          signal,
        ),
      );
      firstWriteWins(
        candidates.map((i) => rowAt(results, i)),
        stored,
      ).forEach((r, j) => {
        results[candidates[j]!] = r;
      });
      inserted = await this.insert(flight, signal, results);
    } finally {
      release();
    }

    // Stored by this range: the rows inserted now, and the redelivered ones this very message
    // stored before a crash or a failed commit (the hook may not have seen them).
    const storedRows: StoredRow[] = [];
    for (const r of results) {
      if (r.kind === 'ok') storedRows.push(r.value.identity);
      else if (r.kind === 'duplicate' && r.of === 'redelivery') storedRows.push(r.identity);
    }
    if (this.deps.onStored && storedRows.length > 0) {
      const range = { topic, partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset };
      await this.step('stored', flight, signal, () => this.deps.onStored!(storedRows, range));
    }
    await this.deadLetter(flight, signal, results);
    for (const r of results) if (r.kind === 'duplicate') m.duplicates.inc({ of: r.of });
    if (inserted > 0) this.crashPoint(batch);
    await commit(flight, BigInt(batch.lastOffset) + 1n);
  }

  /**
   * The rows still `ok`, grouped so that no INSERT spans more than 100 month partitions, each group
   * with its own deterministic token; data errors are bisected and the rows ClickHouse refuses
   * become `dlq('rejected')`. Returns the number of rows ClickHouse acknowledged.
   */
  private async insert(flight: Flight, signal: AbortSignal, results: MessageResult<Row>[]): Promise<number> {
    const { batch } = flight;
    const m = this.deps.metrics;
    const rows = okIndexes(results).map((i) => rowAt(results, i));
    const indexOf = new Map<Row, number>(okIndexes(results).map((i) => [rowAt(results, i), i]));
    const base = `${batch.topic}-${batch.partition}-${batch.firstOffset}-${batch.lastOffset}`;
    const insert: Inserter<Row> = (req) =>
      this.deps.insert({ table: req.table, token: req.token, rows: req.rows.map((r) => r.line) });
    let inserted = 0;
    for (const group of groupByMonth(rows)) {
      const token = `${base}-${group.label}-${digest(group.rows)}`;
      const t0 = performance.now();
      const outcome = await this.step('insert', flight, signal, () =>
        insertSplitting(insert, { table: this.deps.options.table, rows: group.rows, token }, () =>
          m.retries.inc({ op: 'split' }),
        ),
      );
      for (const r of outcome.rejected) {
        results[indexOf.get(r.row)!] = {
          kind: 'dlq',
          reason: 'rejected',
          error: [{ path: '', message: `clickhouse: ${r.error}` }],
        };
      }
      if (outcome.inserted > 0) {
        m.insertSeconds.observe((performance.now() - t0) / 1000);
        m.rowsInserted.inc(outcome.inserted);
        inserted += outcome.inserted;
      }
      // Sent: the lines are garbage now.
      for (const r of group.rows) r.line = '';
    }
    return inserted;
  }

  private async deadLetter(flight: Flight, signal: AbortSignal, results: MessageResult<Row>[]) {
    const { topic, partition } = flight.batch;
    const letters: Array<{ msg: Message; reason: DlqReason }> = [];
    flight.batch.items.forEach((held, i) => {
      const r = results[i]!;
      if (r.kind === 'dlq' || r.kind === 'conflict') {
        const reason = r.kind === 'dlq' ? r.reason : 'conflict';
        letters.push({ msg: toDlqMessage(source(topic, partition, held), reason, r.error), reason });
      }
    });
    if (letters.length === 0) return;
    await this.step('dlq', flight, signal, () => this.deps.dlq(letters.map((l) => l.msg)));
    for (const l of letters) this.deps.metrics.dlq.inc({ reason: l.reason });
    this.log.warn({ count: letters.length, topic, partition }, 'messages dead-lettered');
  }

  private crashPoint(batch: Batch<Held>) {
    this.inserts++;
    const n = this.deps.options.crashAfterInsert;
    if (n > 0 && this.inserts === n) {
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, first: batch.firstOffset },
        'fault injection: SIGKILL between insert and commit',
      );
      process.kill(process.pid, 'SIGKILL');
    }
  }

  /** A batch-wide call as a step result: whatever it throws is a server condition to retry. */
  private async attempt<T>(fn: () => Promise<T>): Promise<StepResult<T>> {
    try {
      return ok(await fn());
    } catch (err) {
      return retry(err);
    }
  }

  /** Runs a batch-wide call until it is `ok`, backing off between retries; gives up when revoked. */
  private async step<T>(op: string, flight: Flight, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const o = this.deps.options;
    for (let attempt = 1; ; attempt++) {
      // A revoked partition belongs to another instance now, which rewrites the range itself.
      if (flight.revoked || signal.aborted) throw new Abandoned();
      const r = await this.attempt(fn);
      if (r.kind === 'ok') return r.value;
      if (r.kind !== 'retry') throw new Error(`unexpected step result ${r.kind}`);
      const delay = backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs });
      this.deps.metrics.retries.inc({ op });
      const b = flight.batch;
      this.log.warn(
        {
          err: String((r.error as Error)?.message ?? r.error),
          op,
          attempt,
          delay,
          topic: b.topic,
          partition: b.partition,
        },
        'retrying',
      );
      await sleep(delay, signal);
    }
  }
}

function okIndexes(results: MessageResult<Row>[]): number[] {
  const out: number[] = [];
  results.forEach((r, i) => {
    if (r.kind === 'ok') out.push(i);
  });
  return out;
}

function rowAt(results: MessageResult<Row>[], i: number): Row {
  const r = results[i]!;
  if (r.kind !== 'ok') throw new Error(`message ${i} is not a row`);
  return r.value;
}

/** Part of an insert's token: which rows it holds, so two different row sets never share one. */
function digest(rows: Row[]): string {
  const h = createHash('sha256');
  for (const r of rows) h.update(`${r.offset},`);
  return h.digest('hex').slice(0, 16);
}

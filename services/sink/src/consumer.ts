import type { Logger } from '@audit/http';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Message } from '@audit/kafka';
import { validateKafkaMessage } from '@audit/schema';
import { type Batch, Batcher, partitionKey } from './batcher.ts';
import { type DlqReason, type DlqSender, type SourceMessage, toDlqMessage } from './dlq.ts';
import type { SinkMetrics } from './metrics.ts';
import { type EventRow, toRow } from './to-row.ts';
import { backoffDelay, type Inserter, insertSplitting, sleep } from './writer.ts';

export interface SinkConsumerOptions {
  topic: string;
  groupId: string;
  table: string;
  maxRows: number;
  maxBytes: number;
  maxWaitMs: number;
  insertConcurrency: number;
  fetchMaxBytesPerPartition: number;
  sessionTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Test-only fault injection (SINK_FAULT_CRASH_AFTER_INSERT): SIGKILL after the n-th insert. */
  crashAfterInsert: number;
}

export interface SinkConsumerDeps {
  kafka: Kafka;
  insert: Inserter<EventRow>;
  dlq: DlqSender;
  metrics: SinkMetrics;
  logger: Logger;
  options: SinkConsumerOptions;
}

interface Flight {
  batch: Batch<KafkaMessage>;
  /** Set when the partition is revoked while the batch is written: never commit it then. */
  revoked: boolean;
}

interface Entry {
  row: EventRow;
  msg: KafkaMessage;
}

class Abandoned extends Error {}

/**
 * Kafka → ClickHouse. Each partition accumulates one contiguous offset range (batcher.ts); a full
 * or aged range is sealed, its partition paused, and a writer:
 *   1. validates every message (invalid ones → DLQ, before anything is committed),
 *   2. inserts the rows with insert_deduplication_token = topic-partition-first-last,
 *   3. commits last+1 only after ClickHouse acknowledged — unless the partition was revoked,
 *   4. resumes the partition.
 * Retryable failures are retried forever with capped backoff while the partition stays paused, so
 * memory is bounded by one batch per partition and the process never crash-loops.
 */
export class SinkConsumer {
  private readonly consumer: Consumer;
  private readonly batcher: Batcher<KafkaMessage>;
  private readonly log: Logger;
  private assigned = new Set<string>();
  private readonly inflight = new Map<string, Flight>();
  private queue: Batch<KafkaMessage>[] = [];
  private active = 0;
  private joinedGroup = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private tickTimer?: NodeJS.Timeout;
  private inserts = 0;
  private readonly highWatermarks = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: SinkConsumerDeps) {
    const o = deps.options;
    this.log = deps.logger.child({ component: 'consumer' });
    this.batcher = new Batcher({ maxRows: o.maxRows, maxBytes: o.maxBytes, maxWaitMs: o.maxWaitMs });
    this.consumer = deps.kafka.consumer({
      groupId: o.groupId,
      maxBytesPerPartition: o.fetchMaxBytesPerPartition,
      // Long polls delay a graceful stop by up to this much; an idle sink polls twice a second.
      maxWaitTimeInMs: 500,
      maxBytes: Math.max(o.fetchMaxBytesPerPartition * 4, 50 * 1024 * 1024),
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(o.sessionTimeoutMs / 10)),
      // Kafka-side failures: kafkajs rejoins and restarts the consumer instead of crashing us.
      retry: { retries: 10, restartOnFailure: async () => true },
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    this.consumer.on(ev.CRASH, (e) => {
      this.joinedGroup = false;
      this.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts by itself only after retriable errors; after others (e.g. "Failed to
      // find group coordinator" while the broker is down) it stays stopped, so we restart it.
      if (!e.payload.restart && !this.stopping) void this.recover();
    });
    this.consumer.on(ev.STOP, () => {
      this.joinedGroup = false;
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // A new group starts at the earliest offset: events produced before the first sink are kept.
    await this.consumer.subscribe({ topic: this.deps.options.topic, fromBeginning: true });
    await this.run();
    const every = Math.max(10, Math.min(100, Math.floor(this.deps.options.maxWaitMs / 4)));
    this.tickTimer = setInterval(() => this.tick(), every);
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * After a crash kafkajs will not recover from: give up every partition (batches being written
   * are abandoned uncommitted and are redelivered), then reconnect with capped backoff until the
   * consumer runs again or the sink stops.
   */
  private async recover(): Promise<void> {
    for (const key of [...this.assigned]) this.revoke(key);
    this.assigned = new Set();
    const o = this.deps.options;
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        await sleep(
          backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs }),
          this.abort.signal,
        );
        if (this.stopping) return;
        await this.consumer.connect();
        await this.run();
        this.log.warn({ attempt }, 'consumer restarted after crash');
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.deps.metrics.retries.inc({ op: 'restart' });
        this.log.warn(
          { err: String((err as Error)?.message ?? err), attempt },
          'consumer restart failed, retrying',
        );
      }
    }
  }

  /** Joined the group (possibly with no partitions assigned) and not crashed. */
  joined(): boolean {
    return this.joinedGroup && !this.stopping;
  }

  /** Partitions assigned to this instance, as `topic:partition`. */
  assignment(): string[] {
    return [...this.assigned].map((k) => k.replace('\u0000', ':'));
  }

  private onJoin(memberAssignment: Record<string, number[]>): void {
    const next = new Set<string>();
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const p of partitions) next.add(partitionKey(topic, p));
    }
    for (const key of this.assigned) if (!next.has(key)) this.revoke(key);
    this.assigned = next;
    this.joinedGroup = true;
    // kafkajs refetches from the committed offsets after a join; a partition whose batch is still
    // being written stays paused (the batcher skips anything below its position anyway).
    for (const [key, f] of this.inflight) {
      if (next.has(key) && !f.revoked) this.pause(f.batch.topic, f.batch.partition);
    }
    this.log.info({ assignment: this.assignment() }, 'joined group');
  }

  private revoke(key: string): void {
    const [topic, p] = key.split('\u0000') as [string, string];
    const partition = Number(p);
    this.batcher.revoke(topic, partition);
    this.queue = this.queue.filter((b) => partitionKey(b.topic, b.partition) !== key);
    const flight = this.inflight.get(key);
    if (flight) flight.revoked = true;
    this.committed.delete(key);
    this.highWatermarks.delete(key);
    this.deps.metrics.lag.remove({ topic, partition: String(partition) });
    this.log.info({ topic, partition, inflight: Boolean(flight) }, 'partition revoked');
  }

  private async onBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    if (this.stopping || !isRunning() || isStale()) return;
    const key = partitionKey(topic, partition);
    this.highWatermarks.set(key, BigInt(batch.highWatermark));
    if (!this.committed.has(key) && batch.messages[0]) {
      this.committed.set(key, BigInt(batch.messages[0].offset));
    }
    this.updateLag(topic, partition);
    const items = batch.messages.map((m) => ({
      offset: m.offset,
      bytes: (m.value?.length ?? 0) + (m.key?.length ?? 0),
      value: m,
    }));
    const r = this.batcher.offer(topic, partition, items, Date.now());
    if (r.resolveThrough !== undefined) resolveOffset(r.resolveThrough);
    if (r.sealed) this.enqueue(r.sealed);
    // Unconsumed messages are not resolved: kafkajs fetches them again after the resume.
    if (this.batcher.isSealed(topic, partition)) this.pause(topic, partition);
    this.deps.metrics.bufferedBytes.set(this.batcher.bufferedBytes());
  }

  private tick(): void {
    for (const b of this.batcher.due(Date.now())) {
      this.pause(b.topic, b.partition);
      this.enqueue(b);
    }
    this.deps.metrics.bufferedBytes.set(this.batcher.bufferedBytes());
  }

  private pause(topic: string, partition: number) {
    this.flowControl(() => this.consumer.pause([{ topic, partitions: [partition] }]));
  }

  private resume(topic: string, partition: number) {
    this.flowControl(() => this.consumer.resume([{ topic, partitions: [partition] }]));
  }

  /**
   * pause/resume throw while the consumer is not running (crashed, restarting, stopping); the
   * partitions are revoked then and fetching restarts from the committed offsets, so skip.
   */
  private flowControl(fn: () => void) {
    try {
      fn();
      this.deps.metrics.pausedPartitions.set(
        this.consumer.paused().reduce((n, t) => n + t.partitions.length, 0),
      );
    } catch (err) {
      this.log.debug(
        { err: String((err as Error)?.message ?? err) },
        'pause/resume skipped: consumer not running',
      );
    }
  }

  private enqueue(batch: Batch<KafkaMessage>) {
    this.queue.push(batch);
    this.pump();
  }

  private pump() {
    while (this.active < this.deps.options.insertConcurrency && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.active++;
      this.write(batch).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async write(batch: Batch<KafkaMessage>): Promise<void> {
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const flight: Flight = { batch, revoked: !this.assigned.has(key) };
    this.inflight.set(key, flight);
    const m = this.deps.metrics;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.writeOnce(flight);
          break;
        } catch (err) {
          if (err instanceof Abandoned) throw err;
          // Not expected (the steps retry by themselves); retry the whole batch: the DLQ may get a
          // message twice, ClickHouse drops the repeated insert by its token.
          this.log.error({ err, topic, partition }, 'batch failed, retrying');
          m.retries.inc({ op: 'batch' });
          const o = this.deps.options;
          await sleep(
            backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs }),
            this.abort.signal,
          );
          if (flight.revoked || this.abort.signal.aborted) throw new Abandoned();
        }
      }
    } catch (err) {
      this.log.warn(
        { err, topic, partition, first: batch.firstOffset, last: batch.lastOffset },
        'batch abandoned, not committed',
      );
    } finally {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
      this.batcher.release(topic, partition, batch);
      if (!flight.revoked && !this.stopping && this.assigned.has(key)) this.resume(topic, partition);
      m.bufferedBytes.set(this.batcher.bufferedBytes());
    }
  }

  private async writeOnce(flight: Flight): Promise<void> {
    const { batch } = flight;
    const { topic, partition } = batch;
    const m = this.deps.metrics;
    {
      const { rows, dead } = this.convert(batch);
      m.batchRows.observe(batch.items.length);
      m.batchBytes.observe(batch.bytes);
      await this.sendDlq(dead, flight);

      const token = `${topic}-${partition}-${batch.firstOffset}-${batch.lastOffset}`;
      if (rows.length > 0) {
        const insert: Inserter<Entry> = (req) =>
          this.deps.insert({ table: req.table, token: req.token, rows: req.rows.map((e) => e.row) });
        const t0 = performance.now();
        const outcome = await this.retrying('insert', flight, () =>
          insertSplitting(insert, { table: this.deps.options.table, rows, token }, () =>
            m.retries.inc({ op: 'split' }),
          ),
        );
        m.insertSeconds.observe((performance.now() - t0) / 1000);
        m.rowsInserted.inc(outcome.inserted);
        await this.sendDlq(
          outcome.rejected.map((r) => ({
            src: source(topic, partition, r.row.msg),
            reason: 'rejected' as const,
            error: [{ path: '', message: `clickhouse: ${r.error}` }],
          })),
          flight,
        );
        this.inserts++;
        if (this.deps.options.crashAfterInsert > 0 && this.inserts === this.deps.options.crashAfterInsert) {
          this.log.warn({ token }, 'fault injection: SIGKILL between insert and commit');
          process.kill(process.pid, 'SIGKILL');
        }
      }
      await this.commit(flight, BigInt(batch.lastOffset) + 1n);
    }
  }

  /** Every message through the schema: rows for ClickHouse, the rest for the DLQ. */
  private convert(batch: Batch<KafkaMessage>) {
    const rows: Entry[] = [];
    const dead: Array<{ src: SourceMessage; reason: DlqReason; error: unknown }> = [];
    for (const msg of batch.items) {
      const v = validateKafkaMessage(msg.value, {
        topic: batch.topic,
        partition: batch.partition,
        offset: msg.offset,
        timestamp: msg.timestamp,
      });
      if (!v.ok) {
        dead.push({ src: source(batch.topic, batch.partition, msg), reason: v.reason, error: v.issues });
        continue;
      }
      try {
        rows.push({ row: toRow(v.event, batch.partition, msg.offset), msg });
      } catch (err) {
        const issues = [{ path: '', message: String((err as Error).message ?? err) }];
        dead.push({ src: source(batch.topic, batch.partition, msg), reason: 'invalid', error: issues });
      }
    }
    return { rows, dead };
  }

  private async sendDlq(
    dead: Array<{ src: SourceMessage; reason: DlqReason; error: unknown }>,
    flight: Flight,
  ): Promise<void> {
    if (dead.length === 0) return;
    const messages: Message[] = dead.map((d) => toDlqMessage(d.src, d.reason, d.error));
    await this.retrying('dlq', flight, () => this.deps.dlq(messages));
    for (const d of dead) this.deps.metrics.dlq.inc({ reason: d.reason });
    this.log.warn(
      { count: dead.length, topic: flight.batch.topic, partition: flight.batch.partition },
      'messages dead-lettered',
    );
  }

  private async retrying<T>(op: string, flight: Flight, fn: () => Promise<T>): Promise<T> {
    const o = this.deps.options;
    for (let attempt = 1; ; attempt++) {
      // A revoked partition belongs to another instance now, which rewrites the range itself.
      if (flight.revoked || this.abort.signal.aborted) throw new Abandoned();
      try {
        return await fn();
      } catch (err) {
        const delay = backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs });
        this.deps.metrics.retries.inc({ op });
        const b = flight.batch;
        this.log.warn(
          {
            err: String((err as Error)?.message ?? err),
            op,
            attempt,
            delay,
            topic: b.topic,
            partition: b.partition,
          },
          'retrying',
        );
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async commit(flight: Flight, next: bigint): Promise<void> {
    const { topic, partition } = flight.batch;
    const key = partitionKey(topic, partition);
    if (flight.revoked || !this.assigned.has(key)) {
      this.deps.metrics.commits.inc({ outcome: 'skipped_revoked' });
      return;
    }
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: next.toString() }]);
      this.committed.set(key, next);
      this.updateLag(topic, partition);
      this.deps.metrics.commits.inc({ outcome: 'ok' });
    } catch (err) {
      // Safe: everything below `next` is in ClickHouse; a redelivery is dropped by its token.
      this.deps.metrics.commits.inc({ outcome: 'failed' });
      this.log.warn({ err, topic, partition, offset: String(next) }, 'offset commit failed');
    }
  }

  private updateLag(topic: string, partition: number) {
    const key = partitionKey(topic, partition);
    const hw = this.highWatermarks.get(key);
    const c = this.committed.get(key);
    if (hw === undefined || c === undefined) return;
    this.deps.metrics.lag.set({ topic, partition: String(partition) }, Number(hw > c ? hw - c : 0n));
  }

  /** Resolves when no batch is queued or being written. */
  private idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /**
   * Graceful stop: fetch nothing more, write and commit what is buffered (retrying for up to
   * `flushTimeoutMs`), abandon the rest uncommitted (it is redelivered), then leave the group.
   */
  async stop(flushTimeoutMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.tickTimer);
    for (const key of this.assigned) {
      const [topic, p] = key.split('\u0000') as [string, string];
      try {
        this.consumer.pause([{ topic, partitions: [Number(p)] }]);
      } catch {
        // Not running (never started or crashed): nothing is fetched anyway.
      }
    }
    for (const b of this.batcher.due(Date.now(), true)) this.enqueue(b);
    const deadline = setTimeout(() => this.abort.abort(), flushTimeoutMs);
    await this.idle();
    clearTimeout(deadline);
    // Commits happened above while the consumer was running; kafkajs ignores commits after stop.
    await this.consumer.disconnect();
  }
}

function source(topic: string, partition: number, msg: KafkaMessage): SourceMessage {
  return {
    topic,
    partition,
    offset: msg.offset,
    key: msg.key ?? null,
    value: msg.value,
    headers: msg.headers,
  };
}

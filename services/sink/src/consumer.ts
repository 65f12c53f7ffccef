import { toRow } from '@audit/clickhouse';
import type { Logger } from '@audit/http';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Message } from '@audit/kafka';
import { validateKafkaMessage } from '@audit/schema';
import { type Batch, Batcher, partitionKey } from './batcher.ts';
import { type DlqReason, type DlqSender, type SourceMessage, toDlqMessage } from './dlq.ts';
import type { SinkMetrics } from './metrics.ts';
import { backoffDelay, type Inserter, insertSplitting, type StreamInserter, sleep } from './writer.ts';

export interface SinkConsumerOptions {
  topic: string;
  groupId: string;
  table: string;
  maxRows: number;
  maxBytes: number;
  maxWaitMs: number;
  insertConcurrency: number;
  /**
   * Global budget of Kafka message bytes held in batches (open, sealed and being inserted) across
   * all partitions: at the budget every partition stops fetching and the largest batches are
   * written until the total is back under 3/4 of it.
   */
  maxBufferBytes: number;
  fetchMaxBytesPerPartition: number;
  sessionTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Test-only fault injection (SINK_FAULT_CRASH_AFTER_INSERT): SIGKILL after the n-th insert. */
  crashAfterInsert: number;
}

export interface SinkConsumerDeps {
  kafka: Kafka;
  /** Takes JSONEachRow lines (see `rows`). */
  insert: StreamInserter<string>;
  dlq: DlqSender;
  metrics: SinkMetrics;
  logger: Logger;
  options: SinkConsumerOptions;
}

/**
 * A fetched message copied out of kafkajs' fetch response. kafkajs decodes keys, values and header
 * values as slices of the response buffer (up to the fetch's maxBytes), so keeping one message of a
 * response would pin all of it until the message's batch is written.
 */
export interface Held {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

const copyBuf = (b: Buffer | null | undefined): Buffer | null => (b ? Buffer.from(b) : null);

function hold(m: KafkaMessage): Held {
  let headers: IHeaders | undefined;
  if (m.headers) {
    headers = {};
    for (const [k, v] of Object.entries(m.headers)) {
      headers[k] = Array.isArray(v)
        ? v.map((x) => (Buffer.isBuffer(x) ? Buffer.from(x) : x))
        : Buffer.isBuffer(v)
          ? Buffer.from(v)
          : v;
    }
  }
  return { offset: m.offset, timestamp: m.timestamp, key: copyBuf(m.key), value: copyBuf(m.value), headers };
}

interface DeadLetter {
  reason: DlqReason;
  error: unknown;
}

interface Flight {
  batch: Batch<Held>;
  /** Set when the partition is revoked while the batch is written: never commit it then. */
  revoked: boolean;
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
 * the process never crash-loops.
 *
 * Memory is bounded independently of the backlog: fetched messages are copied out of the fetch
 * response (see `Held`), all partitions stop fetching while the buffered bytes are over
 * `maxBufferBytes` (the biggest batches are sealed and written meanwhile), and rows are converted
 * while they stream into the insert instead of being materialised per batch.
 */
export class SinkConsumer {
  private readonly consumer: Consumer;
  private readonly batcher: Batcher<Held>;
  private readonly log: Logger;
  private assigned = new Set<string>();
  private readonly inflight = new Map<string, Flight>();
  private queue: Batch<Held>[] = [];
  /** Over the memory budget: fetching stays paused until the buffered bytes drop to 3/4 of it. */
  private overBudget = false;
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
      // One fetch response is decoded in full before it is offered; keep it a fraction of the budget.
      maxBytes: Math.max(o.fetchMaxBytesPerPartition, Math.floor(o.maxBufferBytes / 8)),
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
    // The tick's period adds to a batch's wait: keep it a small fraction of maxWaitMs.
    const every = Math.max(10, Math.min(50, Math.floor(this.deps.options.maxWaitMs / 10)));
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
    this.syncFlow();
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
    // A fetch already under way when the partition was paused: nothing is taken (or copied).
    if (!this.batcher.isSealed(topic, partition)) {
      const items = batch.messages.map((m) => ({
        offset: m.offset,
        bytes: (m.value?.length ?? 0) + (m.key?.length ?? 0),
        value: hold(m),
      }));
      const r = this.batcher.offer(topic, partition, items, Date.now());
      if (r.resolveThrough !== undefined) resolveOffset(r.resolveThrough);
      if (r.sealed) this.enqueue(r.sealed);
    }
    // Unconsumed messages are not resolved: kafkajs fetches them again after the resume.
    this.syncFlow();
  }

  private tick(): void {
    for (const b of this.batcher.due(Date.now())) this.enqueue(b);
    this.syncFlow();
  }

  /**
   * Flow control, recomputed after every change: a partition fetches only while its batch is not
   * sealed (one batch per partition) and the sink is under its memory budget. Over the budget,
   * the largest open batches are sealed whenever a writer is free, so the buffered bytes drain
   * through inserts even when no batch is full.
   */
  private syncFlow(): void {
    const o = this.deps.options;
    const buffered = this.batcher.bufferedBytes();
    this.deps.metrics.bufferedBytes.set(buffered);
    if (this.stopping) return;
    if (buffered >= o.maxBufferBytes) this.overBudget = true;
    else if (buffered <= o.maxBufferBytes * 0.75) this.overBudget = false;
    while (this.overBudget && this.active + this.queue.length < o.insertConcurrency) {
      const b = this.batcher.sealLargest();
      if (!b) break;
      this.enqueue(b);
    }
    const pause = new Map<string, number[]>();
    const resume = new Map<string, number[]>();
    for (const key of this.assigned) {
      const [topic, p] = key.split('\u0000') as [string, string];
      const partition = Number(p);
      const target = this.overBudget || this.batcher.isSealed(topic, partition) ? pause : resume;
      const list = target.get(topic) ?? [];
      list.push(partition);
      target.set(topic, list);
    }
    const toList = (m: Map<string, number[]>) => [...m].map(([topic, partitions]) => ({ topic, partitions }));
    if (pause.size > 0) this.flowControl(() => this.consumer.pause(toList(pause)));
    if (resume.size > 0) this.flowControl(() => this.consumer.resume(toList(resume)));
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

  private enqueue(batch: Batch<Held>) {
    this.queue.push(batch);
    this.pump();
  }

  private pump() {
    while (this.active < this.deps.options.insertConcurrency && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      this.active++;
      this.write(batch).finally(() => {
        this.active--;
        // A free writer: re-evaluate the budget (may seal the next batch) and resume partitions.
        this.syncFlow();
        this.pump();
        if (this.active === 0 && this.queue.length === 0) {
          for (const w of this.idleWaiters.splice(0)) w();
        }
      });
    }
  }

  private async write(batch: Batch<Held>): Promise<void> {
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
    }
  }

  private async writeOnce(flight: Flight): Promise<void> {
    const { batch } = flight;
    const { topic, partition } = batch;
    const m = this.deps.metrics;
    m.batchRows.observe(batch.items.length);
    m.batchBytes.observe(batch.bytes);
    // Schema failures are found while the rows stream into the insert; a retried or split insert
    // meets the same messages again, hence a map keyed by message.
    const dead = new Map<Held, DeadLetter>();
    let inserted = 0;
    const insert: Inserter<Held> = async (req) => {
      const counter = { rows: 0 };
      const rows = this.rows(batch, req.rows, dead, counter);
      const first = rows.next();
      if (first.done) return; // nothing valid in this range: no insert at all
      await this.deps.insert({ table: req.table, token: req.token, rows: prepend(first.value, rows) });
      inserted += counter.rows;
    };
    const token = `${topic}-${partition}-${batch.firstOffset}-${batch.lastOffset}`;
    const t0 = performance.now();
    const outcome = await this.retrying('insert', flight, () => {
      inserted = 0;
      return insertSplitting(insert, { table: this.deps.options.table, rows: batch.items, token }, () =>
        m.retries.inc({ op: 'split' }),
      );
    });
    if (inserted > 0) {
      m.insertSeconds.observe((performance.now() - t0) / 1000);
      m.rowsInserted.inc(inserted);
    }
    const letters = batch.items.flatMap((msg) => {
      const d = dead.get(msg);
      return d ? [{ src: source(topic, partition, msg), reason: d.reason, error: d.error }] : [];
    });
    for (const r of outcome.rejected) {
      if (dead.has(r.row)) continue;
      letters.push({
        src: source(topic, partition, r.row),
        reason: 'rejected' as const,
        error: [{ path: '', message: `clickhouse: ${r.error}` }],
      });
    }
    await this.sendDlq(letters, flight);
    if (inserted > 0) {
      this.inserts++;
      if (this.deps.options.crashAfterInsert > 0 && this.inserts === this.deps.options.crashAfterInsert) {
        this.log.warn({ token }, 'fault injection: SIGKILL between insert and commit');
        process.kill(process.pid, 'SIGKILL');
      }
    }
    await this.commit(flight, BigInt(batch.lastOffset) + 1n);
  }

  /**
   * Every message through the schema, lazily: rows for ClickHouse are yielded one at a time as
   * JSONEachRow lines (garbage once sent), the rest are recorded in `dead` for the DLQ. Never throws.
   */
  private *rows(
    batch: Batch<Held>,
    msgs: Held[],
    dead: Map<Held, DeadLetter>,
    counter: { rows: number },
  ): Generator<string, void, undefined> {
    for (const msg of msgs) {
      const v = validateKafkaMessage(msg.value, {
        topic: batch.topic,
        partition: batch.partition,
        offset: msg.offset,
        timestamp: msg.timestamp,
      });
      if (!v.ok) {
        dead.set(msg, { reason: v.reason, error: v.issues });
        continue;
      }
      let row: string;
      try {
        // Encoded here, once: the inserter sends the lines as they are.
        row = `${JSON.stringify(toRow(v.event, batch.partition, msg.offset))}\n`;
      } catch (err) {
        dead.set(msg, {
          reason: 'invalid',
          error: [{ path: '', message: String((err as Error).message ?? err) }],
        });
        continue;
      }
      counter.rows++;
      yield row;
    }
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

function* prepend<T>(first: T, rest: Iterator<T>): Generator<T, void, undefined> {
  yield first;
  for (let r = rest.next(); !r.done; r = rest.next()) yield r.value;
}

function source(topic: string, partition: number, msg: Held): SourceMessage {
  return {
    topic,
    partition,
    offset: msg.offset,
    key: msg.key ?? null,
    value: msg.value,
    headers: msg.headers,
  };
}

import type { StoredEventRow, StoredEventsLookup } from '@audit/clickhouse';
import type { Logger } from '@audit/http';
import { type EachBatchPayload, type Kafka, TENANT_TOPIC_ID, topicTenant } from '@audit/kafka';
import { type Batch, Batcher, partitionKey } from './batcher.ts';
import type { DlqSender } from './dlq.ts';
import { FlowControl } from './flow.ts';
import { GroupMember } from './group.ts';
import { type Held, hold } from './held.ts';
import { InFlightKeys } from './inflight-keys.ts';
import type { SinkMetrics } from './metrics.ts';
import { Abandoned, BatchPipeline, type Flight, type OnStored } from './pipeline.ts';
import { backoffDelay, type StreamInserter, sleep } from './writer.ts';
import { WriterPool } from './writer-pool.ts';

export interface SinkConsumerOptions {
  topic: string;
  /**
   * Prefix of the tenants' own topics (`<prefix><tenant_id>`), read too and checked against the
   * events' tenant_id; '' reads the events topic only.
   */
  tenantTopicPrefix: string;
  /** How often to look for new tenant topics. */
  topicRefreshMs: number;
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
  /** Events older than this many days are dead-lettered (`expired`): the TTL would delete them. */
  retentionDays: number;
  /** Test-only fault injection (SINK_FAULT_CRASH_AFTER_INSERT): SIGKILL after the n-th insert. */
  crashAfterInsert: number;
}

export interface SinkConsumerDeps {
  kafka: Kafka;
  /** Takes JSONEachRow lines. */
  insert: StreamInserter<string>;
  /** The id index lookup (first write wins). */
  lookup: StoredEventsLookup;
  dlq: DlqSender;
  metrics: SinkMetrics;
  logger: Logger;
  options: SinkConsumerOptions;
  /** Process-wide registry of the ids being written (default: one per consumer). */
  keys?: InFlightKeys;
  /** After ClickHouse acknowledged a range, before its offsets are committed (pipeline.ts). */
  onStored?: OnStored;
  /** Tamper evidence: the leaf hash of each stored row, handed to onStored (pipeline.ts). */
  leafHash?: (row: StoredEventRow) => string;
}

/**
 * Kafka → ClickHouse. Each partition accumulates one contiguous offset range (batcher.ts); a full
 * or aged range is sealed, its partition paused (flow.ts), and a writer (writer-pool.ts) runs it
 * through the pipeline (pipeline.ts): validate, first write wins, insert, stored hook, DLQ, commit
 * `last + 1` only after ClickHouse acknowledged — unless the partition was revoked (group.ts) —
 * then the partition resumes. Retryable failures are retried forever with capped backoff while
 * the partition stays paused, so the process never crash-loops.
 *
 * Memory is bounded independently of the backlog: fetched messages are copied out of the fetch
 * response (held.ts), and all partitions stop fetching while the buffered bytes are over
 * `maxBufferBytes` (the biggest batches are sealed and written meanwhile).
 */
export class SinkConsumer {
  private readonly group: GroupMember;
  private readonly batcher: Batcher<Held>;
  private readonly flowControl: FlowControl;
  private readonly pool: WriterPool<Batch<Held>>;
  private readonly pipeline: BatchPipeline;
  private readonly log: Logger;
  private readonly inflight = new Map<string, Flight>();
  private stopping = false;
  private readonly abort = new AbortController();
  private tickTimer?: NodeJS.Timeout;

  constructor(private readonly deps: SinkConsumerDeps) {
    const o = deps.options;
    this.log = deps.logger.child({ component: 'consumer' });
    this.batcher = new Batcher({ maxRows: o.maxRows, maxBytes: o.maxBytes, maxWaitMs: o.maxWaitMs });
    const tenantOf = (topic: string) => {
      const tenant =
        o.tenantTopicPrefix && topic !== o.topic ? topicTenant(o.tenantTopicPrefix, topic) : undefined;
      return tenant !== undefined && TENANT_TOPIC_ID.test(tenant) ? tenant : undefined;
    };
    const tenantTopics = o.tenantTopicPrefix
      ? { isTenantTopic: (t: string) => tenantOf(t) !== undefined, refreshMs: o.topicRefreshMs }
      : undefined;
    this.group = new GroupMember(deps.kafka, { ...o, tenantTopics }, deps.metrics, deps.logger, {
      onBatch: (payload) => this.onBatch(payload),
      onRevoke: (topic, partition) => this.revoke(topic, partition),
      // kafkajs refetches from the committed offsets after a join; a partition whose batch is
      // still being written stays paused (the batcher skips anything below its position anyway).
      onAssigned: () => this.syncFlow(),
    });
    this.flowControl = new FlowControl(this.batcher, o.maxBufferBytes, this.group, deps.metrics);
    this.pool = new WriterPool(
      o.insertConcurrency,
      (batch) => this.write(batch),
      // A free writer: re-evaluate the budget (may seal the next batch) and resume partitions.
      () => this.syncFlow(),
    );
    this.pipeline = new BatchPipeline({
      insert: deps.insert,
      lookup: deps.lookup,
      dlq: deps.dlq,
      keys: deps.keys ?? new InFlightKeys(),
      metrics: deps.metrics,
      logger: deps.logger,
      onStored: deps.onStored,
      leafHash: deps.leafHash,
      options: {
        table: o.table,
        retentionDays: o.retentionDays,
        topicTenant: tenantOf,
        retryInitialMs: o.retryInitialMs,
        retryMaxMs: o.retryMaxMs,
        crashAfterInsert: o.crashAfterInsert,
      },
    });
  }

  async start(): Promise<void> {
    await this.group.start();
    // The tick's period adds to a batch's wait: keep it a small fraction of maxWaitMs.
    const every = Math.max(10, Math.min(50, Math.floor(this.deps.options.maxWaitMs / 10)));
    this.tickTimer = setInterval(() => this.tick(), every);
  }

  /** Joined the group (possibly with no partitions assigned) and not crashed. */
  joined(): boolean {
    return this.group.joined() && !this.stopping;
  }

  /** Partitions assigned to this instance, as `topic:partition`. */
  assignment(): string[] {
    return this.group.assignment();
  }

  /** Topics read: the events topic and the tenant topics found so far. */
  topics(): string[] {
    return this.group.topics();
  }

  private revoke(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    this.batcher.revoke(topic, partition);
    this.pool.drop((b) => partitionKey(b.topic, b.partition) === key);
    const flight = this.inflight.get(key);
    if (flight) flight.revoked = true;
    this.log.info({ topic, partition, inflight: Boolean(flight) }, 'partition revoked');
  }

  private async onBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    if (this.stopping || !isRunning() || isStale()) return;
    // A fetch already under way when the partition was paused: nothing is taken (or copied).
    if (!this.batcher.isSealed(topic, partition)) {
      const items = batch.messages.map((m) => ({
        offset: m.offset,
        bytes: (m.value?.length ?? 0) + (m.key?.length ?? 0),
        value: hold(m),
      }));
      const r = this.batcher.offer(topic, partition, items, Date.now());
      if (r.resolveThrough !== undefined) resolveOffset(r.resolveThrough);
      if (r.sealed) this.pool.enqueue(r.sealed);
    }
    // Unconsumed messages are not resolved: kafkajs fetches them again after the resume.
    this.syncFlow();
  }

  private tick(): void {
    for (const b of this.batcher.due(Date.now())) this.pool.enqueue(b);
    this.syncFlow();
  }

  private syncFlow(): void {
    if (this.stopping) {
      this.deps.metrics.bufferedBytes.set(this.batcher.bufferedBytes());
      return;
    }
    this.flowControl.sync(
      () => this.pool.hasRoom(),
      (b) => this.pool.enqueue(b),
    );
  }

  private async write(batch: Batch<Held>): Promise<void> {
    const { topic, partition } = batch;
    const key = partitionKey(topic, partition);
    const flight: Flight = { batch, revoked: !this.group.isAssigned(topic, partition) };
    this.inflight.set(key, flight);
    const o = this.deps.options;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.pipeline.run(flight, this.abort.signal, (f, next) =>
            f.revoked
              ? Promise.resolve(this.deps.metrics.commits.inc({ outcome: 'skipped_revoked' }))
              : this.group.commit(topic, partition, next),
          );
          break;
        } catch (err) {
          if (err instanceof Abandoned) throw err;
          // Not expected (the steps retry by themselves); retry the whole batch: the DLQ may get a
          // message twice, the id lookup finds what the first attempt stored.
          this.log.error({ err, topic, partition }, 'batch failed, retrying');
          this.deps.metrics.retries.inc({ op: 'batch' });
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

  /**
   * Graceful stop: fetch nothing more, write and commit what is buffered (retrying for up to
   * `flushTimeoutMs`), abandon the rest uncommitted (it is redelivered), then leave the group.
   */
  async stop(flushTimeoutMs: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.tickTimer);
    this.group.stopFetching();
    for (const b of this.batcher.due(Date.now(), true)) this.pool.enqueue(b);
    const deadline = setTimeout(() => this.abort.abort(), flushTimeoutMs);
    await this.pool.idle();
    clearTimeout(deadline);
    await this.group.disconnect();
  }
}

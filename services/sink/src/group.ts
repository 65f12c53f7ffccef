import type { Logger } from '@audit/http';
import {
  type Admin,
  type Consumer,
  consumerCrashLevel,
  type EachBatchPayload,
  type Kafka,
  restartConsumer,
} from '@audit/kafka';
import { partitionKey } from './batcher.ts';
import type { SinkMetrics } from './metrics.ts';

export interface GroupOptions {
  topic: string;
  /**
   * The tenants' own topics (direct producers), subscribed with the events topic: which of the
   * cluster's topics they are (`isTenantTopic`), and how often to look for new ones.
   */
  tenantTopics?: { isTenantTopic: (topic: string) => boolean; refreshMs: number };
  groupId: string;
  fetchMaxBytesPerPartition: number;
  /** See SinkConsumerOptions.maxBufferBytes: one fetch response is kept to a fraction of it. */
  maxBufferBytes: number;
  sessionTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface GroupHandlers {
  onBatch(payload: EachBatchPayload): Promise<void>;
  /** A partition left this instance (rebalance, crash): nothing of it may be committed any more. */
  onRevoke(topic: string, partition: number): void;
  /** Joined with a new assignment (revocations were reported first). */
  onAssigned(): void;
}

export type TopicPartitions = Array<{ topic: string; partitions: number[] }>;

/**
 * The Kafka consumer-group side of the sink: connect, subscribe, join, report assignments and
 * revocations, commit offsets, pause/resume, restart after a crash kafkajs does not recover from,
 * and the lag gauge (high watermark − committed offset, per partition).
 */
export class GroupMember {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private assigned = new Set<string>();
  private joinedGroup = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly highWatermarks = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  private readonly admin?: Admin;
  private readonly subscribed = new Set<string>();
  private refreshTimer?: NodeJS.Timeout;
  /** A resubscription or a crash recovery is under way: the other waits for the next round. */
  private busy = false;

  constructor(
    kafka: Kafka,
    private readonly o: GroupOptions,
    private readonly metrics: SinkMetrics,
    logger: Logger,
    private readonly handlers: GroupHandlers,
  ) {
    this.log = logger.child({ component: 'group' });
    this.consumer = kafka.consumer({
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
    if (o.tenantTopics) this.admin = kafka.admin();
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, (e) => this.onJoin(e.payload.memberAssignment));
    this.consumer.on(ev.CRASH, (e) => {
      this.joinedGroup = false;
      this.log[consumerCrashLevel(e.payload)](
        { err: e.payload.error, restart: e.payload.restart },
        'consumer crashed',
      );
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
    await this.admin?.connect();
    const topics = [this.o.topic, ...(await this.tenantTopics())];
    // A new group starts at the earliest offset: events produced before the first sink are kept
    // (and a tenant topic found later is read from its beginning too).
    await this.consumer.subscribe({ topics, fromBeginning: true });
    for (const t of topics) this.subscribed.add(t);
    await this.run();
    if (this.o.tenantTopics) {
      this.refreshTimer = setInterval(() => void this.refresh(), this.o.tenantTopics.refreshMs);
      this.refreshTimer.unref();
    }
  }

  /** Topics subscribed to: the events topic and the tenant topics found so far. */
  topics(): string[] {
    return [...this.subscribed];
  }

  private async tenantTopics(): Promise<string[]> {
    if (!this.admin || !this.o.tenantTopics) return [];
    const { isTenantTopic } = this.o.tenantTopics;
    return (await this.admin.listTopics()).filter((t) => t !== this.o.topic && isTenantTopic(t)).sort();
  }

  /**
   * kafkajs resolves a subscription once, when the consumer starts: a tenant topic provisioned
   * later is picked up by stopping the consumer (leaving the group: every partition is revoked
   * and its batches abandoned uncommitted, to be redelivered), subscribing to it too and running
   * again. Rare (a new tenant), so simpler than a consumer per topic.
   */
  private async refresh(): Promise<void> {
    if (this.busy || this.stopping) return;
    this.busy = true;
    let stopped = false;
    try {
      const found = (await this.tenantTopics()).filter((t) => !this.subscribed.has(t));
      if (found.length === 0 || this.stopping) return;
      this.log.info({ topics: found }, 'new tenant topics: rejoining the group with them');
      for (const key of [...this.assigned]) this.revoke(key);
      this.assigned = new Set();
      stopped = true;
      await this.consumer.stop();
      await this.consumer.subscribe({ topics: found, fromBeginning: true });
      for (const t of found) this.subscribed.add(t);
      await this.run();
      stopped = false;
    } catch (err) {
      this.log.warn({ err: String((err as Error)?.message ?? err) }, 'tenant topic refresh failed');
    } finally {
      this.busy = false;
    }
    // Stopped and not running again: the crash path restarts it (with the subscription kept).
    if (stopped && !this.stopping) await this.recover();
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private onBatch(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const key = partitionKey(topic, partition);
    this.highWatermarks.set(key, BigInt(payload.batch.highWatermark));
    const first = payload.batch.messages[0];
    if (!this.committed.has(key) && first) this.committed.set(key, BigInt(first.offset));
    this.updateLag(topic, partition);
    return this.handlers.onBatch(payload);
  }

  /**
   * After a crash kafkajs will not recover from: give up every partition (batches being written
   * are abandoned uncommitted and are redelivered), then reconnect with capped backoff until the
   * consumer runs again or the sink stops.
   */
  private async recover(): Promise<void> {
    for (const key of [...this.assigned]) this.revoke(key);
    this.assigned = new Set();
    this.busy = true;
    try {
      await restartConsumer(this.consumer, () => this.run(), {
        initialMs: this.o.retryInitialMs,
        maxMs: this.o.retryMaxMs,
        signal: this.abort.signal,
        logger: this.log,
        onFailedAttempt: () => this.metrics.retries.inc({ op: 'restart' }),
      });
    } finally {
      this.busy = false;
    }
  }

  private onJoin(memberAssignment: Record<string, number[]>): void {
    const next = new Set<string>();
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const p of partitions) next.add(partitionKey(topic, p));
    }
    for (const key of this.assigned) if (!next.has(key)) this.revoke(key);
    this.assigned = next;
    this.joinedGroup = true;
    this.handlers.onAssigned();
    this.log.info({ assignment: this.assignment() }, 'joined group');
  }

  private revoke(key: string): void {
    const { topic, partition } = splitKey(key);
    this.committed.delete(key);
    this.highWatermarks.delete(key);
    this.metrics.lag.remove({ topic, partition: String(partition) });
    this.handlers.onRevoke(topic, partition);
  }

  /** Joined the group (possibly with no partitions assigned) and not crashed. */
  joined(): boolean {
    return this.joinedGroup && !this.stopping;
  }

  isAssigned(topic: string, partition: number): boolean {
    return this.assigned.has(partitionKey(topic, partition));
  }

  /** Partitions assigned to this instance, as `topic:partition`. */
  assignment(): string[] {
    return [...this.assigned].map((k) => k.replace('\u0000', ':'));
  }

  partitions(): Array<{ topic: string; partition: number }> {
    return [...this.assigned].map(splitKey);
  }

  /** Commits `next` unless the partition moved away; a failed commit is logged (see below). */
  async commit(topic: string, partition: number, next: bigint): Promise<void> {
    const key = partitionKey(topic, partition);
    if (!this.assigned.has(key)) {
      this.metrics.commits.inc({ outcome: 'skipped_revoked' });
      return;
    }
    try {
      await this.consumer.commitOffsets([{ topic, partition, offset: next.toString() }]);
      this.committed.set(key, next);
      this.updateLag(topic, partition);
      this.metrics.commits.inc({ outcome: 'ok' });
    } catch (err) {
      // Safe: everything below `next` is in ClickHouse; a redelivery is found stored by its id.
      this.metrics.commits.inc({ outcome: 'failed' });
      this.log.warn({ err, topic, partition, offset: String(next) }, 'offset commit failed');
    }
  }

  /**
   * pause/resume throw while the consumer is not running (crashed, restarting, stopping); the
   * partitions are revoked then and fetching restarts from the committed offsets, so skip.
   */
  flow(pause: TopicPartitions, resume: TopicPartitions): void {
    try {
      if (pause.length > 0) this.consumer.pause(pause);
      if (resume.length > 0) this.consumer.resume(resume);
      this.metrics.pausedPartitions.set(this.consumer.paused().reduce((n, t) => n + t.partitions.length, 0));
    } catch (err) {
      this.log.debug(
        { err: String((err as Error)?.message ?? err) },
        'pause/resume skipped: consumer not running',
      );
    }
  }

  /** Stop fetching everything (graceful stop) and give up restarting. */
  stopFetching(): void {
    this.stopping = true;
    this.abort.abort();
    clearInterval(this.refreshTimer);
    for (const { topic, partition } of this.partitions()) {
      try {
        this.consumer.pause([{ topic, partitions: [partition] }]);
      } catch {
        // Not running (never started or crashed): nothing is fetched anyway.
      }
    }
  }

  /** Commits happened while the consumer was running; kafkajs ignores commits after stop. */
  async disconnect(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.consumer.disconnect();
    await this.admin?.disconnect();
  }

  private updateLag(topic: string, partition: number) {
    const key = partitionKey(topic, partition);
    const hw = this.highWatermarks.get(key);
    const c = this.committed.get(key);
    if (hw === undefined || c === undefined) return;
    this.metrics.lag.set({ topic, partition: String(partition) }, Number(hw > c ? hw - c : 0n));
  }
}

function splitKey(key: string): { topic: string; partition: number } {
  const [topic, p] = key.split('\u0000') as [string, string];
  return { topic, partition: Number(p) };
}

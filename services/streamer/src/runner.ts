import { backoffDelay, sleep } from '@audit/config';
import type { Logger } from '@audit/http';
import type { Admin, Consumer, EachBatchPayload, Kafka } from '@audit/kafka';
import type { AuditEvent } from '@audit/schema';
import type { StreamRecord } from '@audit/streams';
import type { StreamerMetrics } from './metrics.ts';
import { chunk, type Selected, selectMessages } from './select.ts';
import type { Sender } from './senders/index.ts';
import type { StreamStats } from './stats.ts';

export interface RunnerOptions {
  eventsTopic: string;
  /** The tenant's own topic when it exists. */
  tenantTopic?: string;
  groupId: string;
  sessionTimeoutMs: number;
  fetchMaxBytesPerPartition: number;
  retentionDays: number;
  retryInitialMs: number;
  retryMaxMs: number;
  maxRetryAfterMs: number;
  suspendAfterMs: number;
  /** Test-only (STREAMER_FAULT_CRASH_AFTER_DELIVERY): SIGKILL after the n-th acknowledged delivery. */
  crashAfterDelivery: number;
}

export interface RunnerDeps {
  kafka: Kafka;
  admin: Admin;
  stream: StreamRecord;
  sender: Sender;
  matches: (e: AuditEvent) => boolean;
  stats: StreamStats;
  metrics: StreamerMetrics;
  logger: Logger;
  /** Records the suspension (a new version of the stream); the registry then stops this runner. */
  suspend: (reason: string) => Promise<void>;
  options: RunnerOptions;
}

/** Longest sleep between heartbeats while a delivery waits for its retry. */
const HEARTBEAT_SLICE_MS = 2000;
let deliveries = 0;

/**
 * One stream: its own consumer group reads the events topic (and the tenant's own topic), keeps
 * the stream's messages, and delivers them in offset order per partition, committing a range only
 * after the destination acknowledged it — at least once, a crash replays from the last commit. A
 * failing destination is retried with backoff (or its Retry-After) while the partition waits; it
 * stalls this stream's group only, never another stream's.
 */
export class StreamRunner {
  private consumer: Consumer | undefined;
  private readonly abort = new AbortController();
  private readonly log: Logger;
  private suspending = false;
  private crashed = false;

  constructor(private readonly deps: RunnerDeps) {
    this.log = deps.logger.child({ stream_id: deps.stream.stream_id, tenant_id: deps.stream.tenant_id });
  }

  /** The consumer crashed and will not restart itself. */
  get dead(): boolean {
    return this.crashed;
  }

  get topics(): string[] {
    const o = this.deps.options;
    return o.tenantTopic ? [o.eventsTopic, o.tenantTopic] : [o.eventsTopic];
  }

  async start(): Promise<void> {
    const { kafka, stream, options: o } = this.deps;
    await this.initialPositions();
    const consumer = kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(o.sessionTimeoutMs / 3)),
      maxBytesPerPartition: o.fetchMaxBytesPerPartition,
      // The broker holds a fetch until it has this much or the batch wait passed: a trickle is
      // delivered in batches at most max_wait_ms late instead of one request per event.
      minBytes: 64 * 1024,
      maxWaitTimeInMs: stream.batch.max_wait_ms,
      retry: { retries: 10 },
    });
    this.consumer = consumer;
    // kafkajs restarts after retriable errors itself; after any other the consumer is gone and the
    // registry must start the stream again, or it would stop delivering without a word.
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart) return;
      this.crashed = true;
      this.log.error({ err: String(e.payload.error) }, 'stream consumer crashed; restarting it');
    });
    await consumer.connect();
    for (const topic of this.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.batch(payload),
    });
    this.log.info({ group: o.groupId, topics: this.topics }, 'stream started');
  }

  /** Leaves the group; an unacknowledged batch stays uncommitted and is delivered again later. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.deps.sender.close();
    await this.consumer
      ?.disconnect()
      .catch((err: unknown) => this.log.warn({ err: String(err) }, 'disconnect failed'));
    this.consumer = undefined;
  }

  /**
   * A new stream starts at its creation time, not at the topic's beginning (the trail before it
   * is in the query API) nor at the end (events between creation and the first join would be
   * skipped): partitions without a committed position get the first offset at or after it.
   */
  private async initialPositions(): Promise<void> {
    const { admin, stream, options: o } = this.deps;
    const since = Date.parse(stream.created_at);
    for (const topic of this.topics) {
      const [committed] = await admin.fetchOffsets({ groupId: o.groupId, topics: [topic] });
      const missing = new Set(
        (committed?.partitions ?? []).filter((p) => p.offset === '-1').map((p) => p.partition),
      );
      if (missing.size === 0) continue;
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, since);
      const partitions = byTime.filter((p) => missing.has(p.partition));
      try {
        await admin.setOffsets({ groupId: o.groupId, topic, partitions });
      } catch (err) {
        // Another instance's consumer is in the group already: it set them (or reads from the start).
        this.log.info({ err: String(err), topic }, 'initial positions not set');
      }
    }
  }

  private running(p: EachBatchPayload): boolean {
    return !this.abort.signal.aborted && !this.suspending && p.isRunning() && !p.isStale();
  }

  private async batch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const { stream, options: o } = this.deps;
    if (batch.messages.length === 0) return;
    const selected = selectMessages(batch.messages, {
      tenant: stream.tenant_id,
      topic: batch.topic,
      partition: batch.partition,
      tenantTopic: batch.topic !== o.eventsTopic,
      retentionDays: o.retentionDays,
      nowMs: Date.now(),
      matches: this.deps.matches,
    });
    for (const part of chunk(selected, stream.batch.max_events, stream.batch.max_bytes)) {
      if (!(await this.deliver(p, part))) return;
      const last = part[part.length - 1]!.offset;
      if (o.crashAfterDelivery > 0 && ++deliveries >= o.crashAfterDelivery) {
        this.log.warn({ deliveries }, 'STREAMER_FAULT_CRASH_AFTER_DELIVERY: SIGKILL before the commit');
        process.kill(process.pid, 'SIGKILL');
      }
      await this.commit(p, last);
    }
    if (this.running(p)) await this.commit(p, batch.lastOffset());
  }

  private async commit(p: EachBatchPayload, lastOffset: string): Promise<void> {
    const { batch } = p;
    p.resolveOffset(lastOffset);
    await this.consumer!.commitOffsets([
      { topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() },
    ]);
  }

  /**
   * Sends one run of events until the destination takes it. Returns false when given up (the
   * runner stops, the partition moved, the stream was suspended): nothing is committed then.
   */
  private async deliver(p: EachBatchPayload, part: Selected[]): Promise<boolean> {
    const { stream, stats, metrics: m, options: o } = this.deps;
    const type = stream.destination.type;
    const labels = { stream_id: stream.stream_id, tenant_id: stream.tenant_id, type };
    const messageId = `${stream.stream_id}.${p.batch.topic}.${p.batch.partition}.${part[0]!.offset}-${part[part.length - 1]!.offset}`;
    for (let attempt = 1; ; attempt++) {
      if (!this.running(p)) return false;
      const t0 = performance.now();
      const r = await this.deps.sender.send(
        part.map((s) => s.event),
        { messageId, nowMs: Date.now() },
      );
      const now = Date.now();
      m.requestSeconds.observe({ type }, (performance.now() - t0) / 1000);
      if (r.ok) {
        stats.success(now, part.length);
        m.requests.inc({ ...labels, outcome: 'ok' });
        m.delivered.inc(labels, part.length);
        for (const s of part) m.deliverySeconds.observe({ type }, Math.max(0, now - s.kafkaMs) / 1000);
        return true;
      }
      stats.failure(now, r.error);
      m.requests.inc({
        ...labels,
        outcome: r.retryAfterMs !== undefined || r.status === 429 ? 'throttled' : 'error',
      });
      if (r.tooLarge && part.length > 1) {
        // 413: the receiver's limit is below the batch; halves keep the order.
        const half = Math.ceil(part.length / 2);
        return (await this.deliver(p, part.slice(0, half))) && (await this.deliver(p, part.slice(half)));
      }
      if (stats.failingSinceMs !== undefined && now - stats.failingSinceMs >= o.suspendAfterMs) {
        await this.suspendOnce(r.error);
        return false;
      }
      const backoff = backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs });
      const wait = Math.max(backoff, Math.min(r.retryAfterMs ?? 0, o.maxRetryAfterMs));
      if (attempt === 1 || attempt % 10 === 0) {
        this.log.warn({ attempt, error: r.error, status: r.status, wait }, 'delivery failed, retrying');
      }
      if (!(await this.wait(p, wait))) return false;
    }
  }

  /** Sleeps `ms` in slices, heartbeating so the group keeps this member while it waits. */
  private async wait(p: EachBatchPayload, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      if (!this.running(p)) return false;
      await p.heartbeat().catch(() => {});
      const left = until - Date.now();
      if (left <= 0) return true;
      if (!(await sleep(Math.min(left, HEARTBEAT_SLICE_MS), this.abort.signal))) return false;
    }
  }

  private async suspendOnce(reason: string): Promise<void> {
    if (this.suspending) return;
    this.suspending = true;
    const { stream, metrics } = this.deps;
    this.log.error({ reason }, 'stream failing for too long: suspended (its position is kept)');
    metrics.suspensions.inc({ stream_id: stream.stream_id, tenant_id: stream.tenant_id });
    await this.deps.suspend(reason).catch((err: unknown) => {
      // Not recorded: keep retrying; the next failure tries again.
      this.suspending = false;
      this.log.error({ err: String(err) }, 'suspension not recorded');
    });
  }
}

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { compileMatcher, parseStreamFilter } from '@audit/filters';
import type { Logger } from '@audit/http';
import { type Admin, type Kafka, tenantTopic } from '@audit/kafka';
import {
  type DestinationSecrets,
  type NetworkPolicy,
  nextVersion,
  openSecrets,
  type StatusRow,
  type StreamRecord,
  type StreamStore,
} from '@audit/streams';
import type { StreamerMetrics } from './metrics.ts';
import { type RunnerOptions, StreamRunner } from './runner.ts';
import { createSender } from './senders/index.ts';
import { StreamStats } from './stats.ts';
import { testEvent } from './test-event.ts';

export interface RegistryOptions extends Omit<RunnerOptions, 'groupId' | 'tenantTopic'> {
  groupPrefix: string;
  tenantTopicPrefix: string;
  topicRefreshMs: number;
  maxStreams: number;
  requestTimeoutMs: number;
  hostname: string;
  policy: NetworkPolicy;
  secretsKey: string;
}

export interface RegistryDeps {
  kafka: Kafka;
  admin: Admin;
  store: StreamStore;
  metrics: StreamerMetrics;
  logger: Logger;
  options: RegistryOptions;
}

interface Running {
  version: number;
  tenantTopic?: string;
  runner: StreamRunner;
}

/** Test requests older than this are left unanswered (the API stopped waiting long before). */
const TEST_WINDOW_MS = 60_000;

/**
 * The streams this instance runs: it reads the definitions every poll, starts a runner for each
 * active stream, restarts one whose definition changed (or whose tenant topic appeared), and
 * stops the paused, suspended and deleted ones. It answers test requests and reports status.
 */
export class Registry {
  private readonly running = new Map<string, Running>();
  private readonly stats = new Map<string, StreamStats>();
  private known = new Map<string, StreamRecord>();
  private readonly answered = new Set<string>();
  private topics = new Set<string>();
  private topicsReadMs = 0;
  private polled = false;
  readonly instance = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly log: Logger;

  constructor(private readonly deps: RegistryDeps) {
    this.log = deps.logger.child({ component: 'registry' });
  }

  isReady(): boolean {
    return this.polled;
  }

  runningCount(): number {
    return this.running.size;
  }

  private statsOf(id: string): StreamStats {
    let s = this.stats.get(id);
    if (!s) {
      s = new StreamStats();
      this.stats.set(id, s);
    }
    return s;
  }

  private secretsOf(s: StreamRecord): DestinationSecrets {
    return openSecrets(this.deps.options.secretsKey, s.secrets, Date.now());
  }

  private senderFor(s: StreamRecord) {
    const o = this.deps.options;
    return createSender({
      streamId: s.stream_id,
      tenantId: s.tenant_id,
      destination: s.destination,
      secrets: this.secretsOf(s),
      policy: o.policy,
      timeoutMs: o.requestTimeoutMs,
      hostname: o.hostname,
    });
  }

  private async refreshTopics(nowMs: number): Promise<void> {
    if (nowMs - this.topicsReadMs < this.deps.options.topicRefreshMs && this.topicsReadMs > 0) return;
    this.topics = new Set(await this.deps.admin.listTopics());
    this.topicsReadMs = nowMs;
  }

  /** One pass: definitions → runners, then pending test deliveries. */
  async poll(nowMs = Date.now()): Promise<void> {
    const o = this.deps.options;
    const streams = await this.deps.store.list();
    await this.refreshTopics(nowMs);
    this.known = new Map(streams.map((s) => [s.stream_id, s]));
    const active = streams.filter((s) => s.state === 'active').slice(0, o.maxStreams);
    const wanted = new Map(active.map((s) => [s.stream_id, s]));

    const stops: Promise<void>[] = [];
    for (const [id, r] of this.running) {
      const s = wanted.get(id);
      const topic = s ? this.tenantTopicOf(s) : undefined;
      if (!s || s.version !== r.version || topic !== r.tenantTopic || r.runner.dead) {
        this.running.delete(id);
        stops.push(r.runner.stop());
      }
    }
    await Promise.all(stops);
    await Promise.all(active.filter((s) => !this.running.has(s.stream_id)).map((s) => this.start(s)));

    const byState = { active: 0, paused: 0, suspended: 0 };
    for (const s of streams) if (s.state in byState) byState[s.state as keyof typeof byState]++;
    for (const [state, n] of Object.entries(byState)) this.deps.metrics.streams.set({ state }, n);
    this.polled = true;
    await this.answerTests(nowMs);
  }

  private tenantTopicOf(s: StreamRecord): string | undefined {
    const t = tenantTopic(this.deps.options.tenantTopicPrefix, s.tenant_id);
    return this.topics.has(t) ? t : undefined;
  }

  private async start(s: StreamRecord): Promise<void> {
    const o = this.deps.options;
    const stats = this.statsOf(s.stream_id);
    // A resumed stream gets its full time again before another suspension.
    stats.failingSinceMs = undefined;
    try {
      const { filters } = parseStreamFilter(s.filter);
      const runner = new StreamRunner({
        kafka: this.deps.kafka,
        admin: this.deps.admin,
        stream: s,
        sender: this.senderFor(s),
        matches: compileMatcher(filters),
        stats,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        suspend: (reason) => this.suspend(s.stream_id, s.tenant_id, reason),
        options: { ...o, groupId: `${o.groupPrefix}${s.stream_id}`, tenantTopic: this.tenantTopicOf(s) },
      });
      this.running.set(s.stream_id, { version: s.version, tenantTopic: this.tenantTopicOf(s), runner });
      await runner.start();
    } catch (err) {
      // Not running: the next poll tries again; the status shows why meanwhile.
      const r = this.running.get(s.stream_id);
      this.running.delete(s.stream_id);
      await r?.runner.stop();
      stats.failure(Date.now(), `streamer: ${String((err as Error).message ?? err)}`);
      this.log.error({ err: String(err), stream_id: s.stream_id }, 'stream not started');
    }
  }

  /** Appends a `suspended` version to the latest definition (unless it changed state meanwhile). */
  private async suspend(streamId: string, tenant: string, reason: string): Promise<void> {
    const latest = await this.deps.store.get(tenant, streamId);
    if (latest?.state !== 'active') return;
    const now = Date.now();
    await this.deps.store.append({
      ...latest,
      version: nextVersion(latest.version, now),
      state: 'suspended',
      state_reason: `failing for ${Math.round(this.deps.options.suspendAfterMs / 1000)} s: ${reason}`.slice(
        0,
        1000,
      ),
      actor: 'streamer',
      at: new Date(now).toISOString(),
    });
  }

  private async answerTests(nowMs: number): Promise<void> {
    const pending = await this.deps.store.pendingTests(nowMs - TEST_WINDOW_MS);
    for (const t of pending) {
      if (this.answered.has(t.test_id)) continue;
      const s = this.known.get(t.stream_id);
      if (!s || s.tenant_id !== t.tenant_id) continue;
      this.answered.add(t.test_id);
      const t0 = performance.now();
      let result: { ok: boolean; status?: number; error?: string };
      try {
        const sender = this.senderFor(s);
        try {
          result = await sender.send([testEvent(s, t.test_id)], {
            messageId: `${s.stream_id}.test.${t.test_id}`,
            nowMs: Date.now(),
          });
        } finally {
          sender.close();
        }
      } catch (err) {
        result = { ok: false, error: String((err as Error).message ?? err) };
      }
      await this.deps.store.finishTest({
        ...t,
        done: true,
        ok: result.ok,
        status: result.status ?? 0,
        error: result.ok ? '' : (result.error ?? ''),
        latency_ms: Math.round(performance.now() - t0),
      });
    }
    if (this.answered.size > 10_000) this.answered.clear();
  }

  /** Counters, lag and errors of every stream this instance knows, to the store and /metrics. */
  async report(nowMs = Date.now()): Promise<void> {
    const m = this.deps.metrics;
    const rows: StatusRow[] = [];
    for (const [id, stats] of this.stats) {
      const s = this.known.get(id);
      if (!s) continue;
      const r = this.running.get(id);
      stats.lag = r ? await this.lagOf(`${this.deps.options.groupPrefix}${id}`, r.runner.topics) : 0;
      const labels = { stream_id: id, tenant_id: s.tenant_id };
      m.lag.set(labels, stats.lag);
      m.lastSuccess.set(labels, stats.lastSuccessMs === undefined ? 0 : stats.lastSuccessMs / 1000);
      m.failingSeconds.set(
        labels,
        stats.failingSinceMs === undefined ? 0 : (nowMs - stats.failingSinceMs) / 1000,
      );
      const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
      rows.push({
        stream_id: id,
        tenant_id: s.tenant_id,
        instance: this.instance,
        at: new Date(nowMs).toISOString(),
        delivered: stats.delivered,
        failed: stats.failed,
        requests: stats.requests,
        lag: stats.lag,
        last_success_at: iso(stats.lastSuccessMs),
        last_error: stats.lastError,
        last_error_at: iso(stats.lastErrorMs),
        failing_since: iso(stats.failingSinceMs),
      });
    }
    await this.deps.store.writeStatus(rows);
  }

  private async lagOf(groupId: string, topics: string[]): Promise<number> {
    const admin = this.deps.admin;
    let lag = 0;
    for (const topic of topics) {
      const [high, committed] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const at = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      for (const h of high) {
        const c = at.get(h.partition) ?? -1;
        lag += Math.max(0, Number(h.high) - (c < 0 ? Number(h.low) : c));
      }
    }
    return lag;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.runner.stop()));
    this.running.clear();
  }
}

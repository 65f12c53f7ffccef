import { backoffDelay, sleep } from '@audit/config';
import type { Logger } from '@audit/http';
import {
  type Consumer,
  consumerCrashLevel,
  type EachBatchPayload,
  type Kafka,
  restartConsumer,
} from '@audit/kafka';
import {
  CompactRange,
  edgeNodes,
  formatCheckpoint,
  fromHex,
  type Hash,
  toBase64,
  toHex,
  utf8,
} from '@audit/tlog';
import { type NoteSigner, nodeHasher, nodeSha256 } from '@audit/tlog/node';
import type { SealerMetrics } from './metrics.ts';
import type { CheckpointPublisher, PublishedCheckpoint } from './publish.ts';
import { type CheckpointRow, type LeafRow, type NodeRow, type SealerStore, sourceKey } from './store.ts';

export interface SealerOptions {
  topic: string;
  groupId: string;
  intervalMs: number;
  maxPending: number;
  origin: string;
  dedupeWindow: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface SealerDeps {
  kafka: Kafka;
  store: SealerStore;
  signer: NoteSigner;
  publisher: CheckpointPublisher;
  metrics: SealerMetrics;
  logger: Logger;
  options: SealerOptions;
}

interface TenantLog {
  range: CompactRange;
  last?: { size: number; note: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;

interface Leaf {
  tenant_id: string;
  event_id: string;
  leaf_hash: string;
  topic: string;
  partition: number;
  offset: number;
}

function parseLeaf(value: Buffer | null): Leaf | undefined {
  if (!value) return undefined;
  try {
    const r = JSON.parse(value.toString('utf8')) as Partial<Leaf>;
    if (
      typeof r.tenant_id === 'string' &&
      r.tenant_id !== '' &&
      typeof r.event_id === 'string' &&
      UUID.test(r.event_id.toLowerCase()) &&
      typeof r.leaf_hash === 'string' &&
      HEX64.test(r.leaf_hash) &&
      typeof r.topic === 'string' &&
      Number.isSafeInteger(r.partition) &&
      Number.isSafeInteger(r.offset)
    ) {
      return { ...(r as Leaf), event_id: r.event_id.toLowerCase() };
    }
  } catch {
    // fall through
  }
  return undefined;
}

export const checkpointKeyId = (s: NoteSigner) => `${s.name}+${s.keyHash}`;

/**
 * Consumes the leaves topic (one partition, one total order) and keeps every tenant's Merkle log:
 *   1. each record is appended to its tenant's tree unless its source offset was already sealed
 *      (a sink batch written twice) or the same event id was appended recently;
 *   2. at most every `intervalMs` (or at `maxPending` leaves) a seal makes the new leaves and
 *      perfect nodes durable in ClickHouse, signs one checkpoint per grown tenant, stores it,
 *      publishes it (Kafka topic, witness file), and only then commits the consumed offsets.
 * A crash before the commit replays the records; the store's contents decide what is a replay.
 * After every (re)join the in-memory state is dropped and reloaded from the store, so a sealer
 * taking over from another never appends to a stale tree.
 */
export class Sealer {
  private readonly consumer: Consumer;
  private readonly log: Logger;
  private tenants = new Map<string, TenantLog>();
  private highWater = new Map<string, number>();
  private recent = new Map<string, true>();
  private pendingLeaves: LeafRow[] = [];
  private pendingNodes: NodeRow[] = [];
  private grown = new Set<string>();
  /** Next offset to commit once the pending leaves are durable. */
  private pendingOffset?: bigint;
  private partitionHighWater = 0n;
  private committed = 0n;
  private lastSeal = Date.now();
  private needsReload = true;
  private assigned = false;
  private joined = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private chain: Promise<unknown> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: SealerDeps) {
    this.log = deps.logger.child({ component: 'sealer' });
    this.consumer = deps.kafka.consumer({
      groupId: deps.options.groupId,
      maxWaitTimeInMs: 250,
      retry: { retries: 10, restartOnFailure: async () => true },
    });
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, (e) => {
      this.joined = true;
      this.assigned = (e.payload.memberAssignment[deps.options.topic] ?? []).length > 0;
      // Whatever we held may be stale: another instance may have sealed since.
      void this.exclusive(async () => this.resetMemory());
      this.log.info({ assigned: this.assigned }, 'joined group');
    });
    this.consumer.on(ev.CRASH, (e) => {
      this.joined = false;
      this.log[consumerCrashLevel(e.payload)](
        { err: e.payload.error, restart: e.payload.restart },
        'consumer crashed',
      );
      if (!e.payload.restart && !this.stopping) void this.recover();
    });
    this.consumer.on(ev.STOP, () => {
      this.joined = false;
    });
  }

  isJoined(): boolean {
    return this.joined && !this.stopping;
  }

  isActive(): boolean {
    return this.assigned;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.deps.options.topic, fromBeginning: true });
    await this.run();
    const every = Math.max(10, Math.floor(this.deps.options.intervalMs / 4));
    this.timer = setInterval(() => {
      if (this.sealDue()) void this.exclusive(() => this.sealWithRetry());
    }, every);
  }

  private run(): Promise<void> {
    return this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (p) => this.exclusive(() => this.onBatch(p)),
    });
  }

  /**
   * After a crash kafkajs does not recover from (the broker was down for long): drop what is
   * pending (uncommitted, so it is redelivered) and run the consumer again until it runs or stops.
   */
  private async recover(): Promise<void> {
    await this.exclusive(async () => this.resetMemory());
    await restartConsumer(this.consumer, () => this.run(), {
      initialMs: this.deps.options.retryInitialMs,
      maxMs: this.deps.options.retryMaxMs,
      signal: this.abort.signal,
      logger: this.log,
      onFailedAttempt: () => this.deps.metrics.retries.inc({ op: 'restart' }),
    });
  }

  /** One thing at a time: batches, seals and resets never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  private resetMemory(): void {
    this.tenants = new Map();
    this.recent = new Map();
    this.pendingLeaves = [];
    this.pendingNodes = [];
    this.grown = new Set();
    this.pendingOffset = undefined;
    this.needsReload = true;
    this.deps.metrics.pending.set(0);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    if (this.needsReload) {
      this.highWater = await this.deps.store.sourceHighWater();
      this.needsReload = false;
    }
    this.partitionHighWater = BigInt(batch.highWatermark);
    for (const m of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) return;
      const leaf = parseLeaf(m.value);
      if (leaf) await this.accept(leaf);
      else {
        this.deps.metrics.dropped.inc({ reason: 'invalid' });
        this.log.error({ offset: m.offset }, 'invalid leaf record skipped');
      }
      resolveOffset(m.offset);
      this.pendingOffset = BigInt(m.offset) + 1n;
      if (this.pendingLeaves.length >= this.deps.options.maxPending) await this.sealWithRetry();
    }
    await heartbeat();
    this.updateLag();
    if (this.sealDue()) await this.sealWithRetry();
  }

  private async accept(leaf: Leaf): Promise<void> {
    const m = this.deps.metrics;
    const src = sourceKey(leaf.topic, leaf.partition);
    if (leaf.offset <= (this.highWater.get(src) ?? -1)) {
      m.dropped.inc({ reason: 'redelivered' });
      return;
    }
    this.highWater.set(src, leaf.offset);
    const id = `${leaf.tenant_id}\u0000${leaf.event_id}`;
    if (this.recent.has(id)) {
      m.dropped.inc({ reason: 'duplicate_event' });
      return;
    }
    this.remember(id);
    const log = await this.tenant(leaf.tenant_id);
    const index = log.range.size;
    const nodes = log.range.append(fromHex(leaf.leaf_hash));
    this.pendingLeaves.push({
      tenant_id: leaf.tenant_id,
      leaf_index: index,
      event_id: leaf.event_id,
      leaf_hash: leaf.leaf_hash,
      source_topic: leaf.topic,
      source_partition: leaf.partition,
      source_offset: leaf.offset,
    });
    for (const n of nodes) {
      this.pendingNodes.push({
        tenant_id: leaf.tenant_id,
        level: n.id.level,
        node_index: n.id.index,
        hash: toHex(n.hash),
      });
    }
    this.grown.add(leaf.tenant_id);
    m.pending.set(this.pendingLeaves.length);
  }

  private remember(id: string) {
    const max = this.deps.options.dedupeWindow;
    if (max === 0) return;
    this.recent.set(id, true);
    if (this.recent.size > max) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }

  private async tenant(tenant: string): Promise<TenantLog> {
    let t = this.tenants.get(tenant);
    if (!t) {
      const s = await this.deps.store.tenantState(tenant, edgeNodes);
      t = { range: new CompactRange(nodeHasher, { size: s.size, edge: s.edge }), last: s.last };
      this.tenants.set(tenant, t);
    }
    return t;
  }

  private sealDue(): boolean {
    const pending = this.pendingLeaves.length > 0 || this.pendingOffset !== undefined;
    return pending && Date.now() - this.lastSeal >= this.deps.options.intervalMs;
  }

  private checkpointFor(tenant: string, t: TenantLog, now: Date): { row: CheckpointRow; root: Hash } {
    const size = t.range.size;
    const root = t.range.root();
    const extensions = [`time ${now.toISOString()}`];
    if (t.last) extensions.push(`prev ${t.last.size} ${toBase64(nodeSha256(utf8(t.last.note)))}`);
    const body = formatCheckpoint({
      origin: `${this.deps.options.origin}/${tenant}`,
      size,
      rootHash: root,
      extensions,
    });
    const note = this.deps.signer.sign(body);
    return {
      root,
      row: {
        tenant_id: tenant,
        tree_size: size,
        root_hash: toHex(root),
        note,
        key_id: checkpointKeyId(this.deps.signer),
        created_at: now.toISOString().replace('T', ' ').replace('Z', ''),
      },
    };
  }

  /** Retries until durable or stopped; the batch waits (nothing is committed meanwhile). */
  private async sealWithRetry(): Promise<void> {
    const o = this.deps.options;
    // Signed once, before any write: a retried seal stores and publishes the same notes.
    const cps = this.pendingCheckpoints();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sealOnce(cps);
        return;
      } catch (err) {
        if (this.stopping || this.abort.signal.aborted) throw err;
        this.deps.metrics.retries.inc({ op: 'seal' });
        const delay = backoffDelay(attempt, { initialMs: o.retryInitialMs, maxMs: o.retryMaxMs });
        this.log.warn(
          { err: String((err as Error)?.message ?? err), attempt, delay },
          'seal failed, retrying',
        );
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async sealOnce(cps: CheckpointRow[]): Promise<void> {
    const t0 = performance.now();
    const { store, publisher, metrics } = this.deps;
    // Leaves and nodes first: a checkpoint is never stored before what it covers.
    await store.insertLeaves(this.pendingLeaves);
    await store.insertNodes(this.pendingNodes);
    await store.insertCheckpoints(cps);
    const published: PublishedCheckpoint[] = cps.map((c) => ({
      tenant_id: c.tenant_id,
      tree_size: c.tree_size,
      note: c.note,
    }));
    await publisher.publish(published);
    if (this.pendingOffset !== undefined) {
      await this.consumer.commitOffsets([
        { topic: this.deps.options.topic, partition: 0, offset: this.pendingOffset.toString() },
      ]);
      this.committed = this.pendingOffset;
    }
    for (const c of cps) this.tenants.get(c.tenant_id)!.last = { size: c.tree_size, note: c.note };
    metrics.leavesSealed.inc(this.pendingLeaves.length);
    metrics.checkpoints.inc(cps.length);
    metrics.sealSeconds.observe((performance.now() - t0) / 1000);
    this.log.debug({ leaves: this.pendingLeaves.length, checkpoints: cps.length }, 'sealed');
    this.pendingLeaves = [];
    this.pendingNodes = [];
    this.grown = new Set();
    this.pendingOffset = undefined;
    this.lastSeal = Date.now();
    metrics.pending.set(0);
    this.updateLag();
  }

  private updateLag() {
    const lag = this.partitionHighWater - this.committed;
    this.deps.metrics.lag.set(Number(lag > 0n ? lag : 0n));
  }

  /** Re-publishes every tenant's latest stored checkpoint: one lost between store and publish reappears. */
  async republishLatest(): Promise<number> {
    const latest = await this.deps.store.latestCheckpoints();
    await this.deps.publisher.publish(
      latest.map((c) => ({ tenant_id: c.tenant_id, tree_size: Number(c.tree_size), note: c.note })),
    );
    return latest.length;
  }

  /** Graceful stop: seal what is pending (so its offsets are committed), then leave the group. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    clearInterval(this.timer);
    this.abort.abort();
    await this.exclusive(async () => {
      if (this.pendingLeaves.length > 0 || this.pendingOffset !== undefined) {
        await this.sealOnce(this.pendingCheckpoints()).catch((err: unknown) =>
          this.log.warn({ err: String(err) }, 'final seal failed; the records are replayed on restart'),
        );
      }
      this.stopping = true;
    });
    await this.consumer.disconnect();
  }

  private pendingCheckpoints(): CheckpointRow[] {
    const now = new Date();
    const cps: CheckpointRow[] = [];
    for (const tenant of this.grown) {
      const t = this.tenants.get(tenant)!;
      if (!t.last || t.last.size < t.range.size) cps.push(this.checkpointFor(tenant, t, now).row);
    }
    return cps;
  }
}

import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import type { Kafka, Message } from '@audit/kafka';
import { CompactRange } from '@audit/tlog';
import { generateNoteKey, nodeHasher } from '@audit/tlog/node';
import { kafkaMessages } from '../lib/events.ts';
import { type Detector, openLoop, queryableDetector } from '../lib/open-loop.ts';
import { latencySummary, log, type Row, ratio, round, status } from '../lib/report.ts';
import { type RunningService, startService } from '../lib/services.ts';
import { createBenchTopic } from '../lib/topics.ts';
import { bearer, benchTenant, type StageContext, type StageResult } from './context.ts';

const TENANTS = 8;
const POLL_MS = 100;

/**
 * Tamper evidence under load (docs/integrity.md), three measurements in one run:
 *  1. drain: a backlog of N events (8 tenants) on a fresh topic; the sink and the sealer start
 *     together; the sink's rows/s (stored in ClickHouse) and the sealer's sealed/s (covered by a
 *     stored checkpoint), each over its own active window, and how long sealing trails the drain;
 *  2. capacity: the sealer alone on a pre-filled leaves topic of N leaf records (fresh tenants),
 *     its sealed/s as a ratio to the sink's rows/s of step 1 — sealing keeps up when ≥ 1;
 *  3. latency: ingest-api + sink + sealer + query-api at 5,000 events/s open loop; per probe,
 *     202 → queryable and 202 → covered by a signed, stored checkpoint (p50/p99).
 */
export async function sealStage(ctx: StageContext): Promise<StageResult> {
  const n = ctx.events ?? (ctx.quick ? 40_000 : 300_000);
  const seconds = ctx.seconds ?? (ctx.quick ? 8 : 20);
  const rate = 5000;
  const stack = loadConfig(stackSchema);
  const admin = createClickHouse(stack, 'admin', { requestTimeoutMs: 120_000 });
  const rows: Row[] = [];
  const notes: string[] = [];
  const load1 = () => round(os.loadavg()[0]!, 1);
  try {
    // 1. Drain: sink and sealer together on a backlog.
    const drain = await drainAndSeal(ctx, admin, n);
    rows.push(
      {
        stage: 'seal',
        case: `drain: sink stores a backlog of ${n} events (${TENANTS} tenants)`,
        per_s: drain.sinkPerS,
        seconds: drain.sinkSeconds,
        load1: load1(),
      },
      {
        stage: 'seal',
        case: 'drain: sealer seals them meanwhile (bounded by what the sink has stored)',
        per_s: drain.sealPerS,
        seconds: drain.sealSeconds,
        vs_sink: ratio(drain.sealPerS, drain.sinkPerS),
        sealed_after_stored_s: drain.trailSeconds,
        peak_rss_mb: `sink ${drain.sinkRss} / sealer ${drain.sealerRss}`,
      },
    );
    // 2. Capacity: the sealer alone on N pre-filled leaf records.
    const cap = await sealerCapacity(ctx, admin, n);
    rows.push(
      {
        stage: 'seal',
        case: `capacity: sealer alone, ${n} leaf records backlog`,
        per_s: cap.perS,
        seconds: cap.seconds,
        vs_sink: ratio(cap.perS, drain.sinkPerS),
        peak_rss_mb: cap.rss,
        load1: load1(),
      },
      {
        stage: 'seal',
        case: 'reference: RFC 9162 tree appends in memory (one process, node:crypto)',
        per_s: treeAppendRate(n),
      },
    );
    // 3. Latency at 5,000 events/s.
    const lat = await coverLatency(ctx, admin, rate, seconds);
    const q = latencySummary(lat.detected.queryable!);
    const c = latencySummary(lat.detected.sealed!);
    rows.push({
      stage: 'seal',
      case: `${rate} events/s offered for ${seconds} s: 202 → queryable / → covered by a signed checkpoint`,
      accepted_per_s: Math.round(lat.accepted / seconds),
      errors: lat.errors,
      probes: lat.probes,
      missing: `${lat.missing.queryable} / ${lat.missing.sealed}`,
      queryable_p50_p99_ms: `${Math.round(q.p50_ms)} / ${Math.round(q.p99_ms)}`,
      covered_p50_p99_ms: `${Math.round(c.p50_ms)} / ${Math.round(c.p99_ms)}`,
      covered_max_ms: Math.round(Math.max(0, ...lat.detected.sealed!)),
      load1: load1(),
    });
    notes.push(
      'sink and sealer at their defaults (SINK_BATCH_MAX_WAIT_MS=500, SEAL_INTERVAL_MS=1000): covered ≈ queryable + up to one seal interval + the seal itself',
      `"covered": the probe's leaf index is below its tenant's largest stored checkpoint (polled as the ClickHouse admin every ${POLL_MS} ms; an upper bound by one poll)`,
    );
  } finally {
    await admin.close();
  }
  return { rows, params: { events: n, tenants: TENANTS, rate, seconds }, notes };
}

async function leavesTopics(kafka: Kafka, label: string) {
  const leaves = await createBenchTopic(kafka, `${label}-leaves`, 1);
  // Created (and granted) with the leaves topic: the sealer may not create topics.
  const checkpoints = `${leaves.topic}.checkpoints`;
  return {
    leaves: leaves.topic,
    checkpoints,
    async drop() {
      await leaves.drop();
      const a = kafka.admin();
      await a.connect();
      await a.deleteTopics({ topics: [checkpoints] }).catch(() => {}); // best effort, as for the others
      await a.disconnect();
    },
  };
}

function sealerEnv(brokers: string[], leaves: string, checkpoints: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers.join(','),
    KAFKA_LEAVES_TOPIC: leaves,
    KAFKA_CHECKPOINTS_TOPIC: checkpoints,
    SEALER_GROUP_ID: `bench-sealer-${randomUUID()}`,
    SEALER_SIGNING_KEY: generateNoteKey('bench.example').privateKey,
  };
}

/** Sum over `tenants` of their largest stored checkpoint's size. */
async function sealedCount(ch: ClickHouseClient, tenants: string[]): Promise<number> {
  const rs = await ch.query({
    query:
      'SELECT toUInt64(sum(s)) AS n FROM (SELECT max(tree_size) AS s FROM audit.tlog_checkpoints WHERE tenant_id IN {t:Array(String)} GROUP BY tenant_id)',
    query_params: { t: tenants },
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ n: string }>();
  return Number(r?.n ?? 0);
}

async function storedCount(ch: ClickHouseClient, tenants: string[]): Promise<number> {
  const rs = await ch.query({
    query: 'SELECT count() AS n FROM audit.events WHERE tenant_id IN {t:Array(String)}',
    query_params: { t: tenants },
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ n: string }>();
  return Number(r?.n ?? 0);
}

/** `chunk` keeps one partition's share of a request under the broker's 1 MiB message.max.bytes. */
async function produceAll(kafka: Kafka, topic: string, messages: Message[], label: string, chunk = 5000) {
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
      status(`${label}: produced ${Math.min(messages.length, i + chunk)}/${messages.length}`);
    }
    status(`${label}: produced ${messages.length}`, true);
  } finally {
    await producer.disconnect();
  }
}

/** When each counter first moved and when it reached `n` (ms since t0). */
function tracker(n: number) {
  let first: number | undefined;
  let done: number | undefined;
  return {
    see(count: number, at: number) {
      if (count > 0) first ??= at;
      if (count >= n) done ??= at;
    },
    get first() {
      return first;
    },
    get done() {
      return done;
    },
    perS: () =>
      first !== undefined && done !== undefined ? Math.round(n / Math.max(0.001, (done - first) / 1000)) : 0,
    seconds: () => (first !== undefined && done !== undefined ? round((done - first) / 1000, 1) : Number.NaN),
  };
}

async function drainAndSeal(ctx: StageContext, ch: ClickHouseClient, n: number) {
  const tenants = Array.from({ length: TENANTS }, (_, i) => benchTenant(`seal${i}`));
  const topic = await createBenchTopic(ctx.kafka, 'seal');
  const lt = await leavesTopics(ctx.kafka, 'seal');
  const per = Math.ceil(n / TENANTS);
  const messages = tenants.flatMap((t) => kafkaMessages(per, t)).slice(0, n);
  await produceAll(ctx.kafka, topic.topic, messages, 'seal drain backlog');
  const started: RunningService[] = [];
  try {
    const env = { ...topic.env, KAFKA_LEAVES_TOPIC: lt.leaves };
    const t0 = performance.now();
    const [sink, sealer] = await Promise.all([
      startService(
        'sink',
        { ...env, KAFKA_BROKERS: ctx.brokers.join(','), SINK_GROUP_ID: `bench-${randomUUID()}` },
        { logDir: ctx.logDir },
      ),
      startService('sealer', sealerEnv(ctx.brokers, lt.leaves, lt.checkpoints), { logDir: ctx.logDir }),
    ]);
    started.push(sink, sealer);
    const stored = tracker(n);
    const sealed = tracker(n);
    const deadline = t0 + 600_000;
    while (sealed.done === undefined && performance.now() < deadline) {
      const [s, c] = await Promise.all([storedCount(ch, tenants), sealedCount(ch, tenants)]);
      const at = performance.now() - t0;
      stored.see(s, at);
      sealed.see(c, at);
      status(`seal drain: stored ${s}/${n}, sealed ${c}/${n}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    status('seal drain: done', true);
    if (sealed.done === undefined) throw new Error('the backlog was not sealed within 600 s');
    return {
      sinkPerS: stored.perS(),
      sinkSeconds: stored.seconds(),
      sealPerS: sealed.perS(),
      sealSeconds: sealed.seconds(),
      trailSeconds: round(((sealed.done ?? 0) - (stored.done ?? 0)) / 1000, 2),
      sinkRss: sink.peakRssMb(),
      sealerRss: sealer.peakRssMb(),
    };
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await topic.drop();
    await lt.drop();
  }
}

/** Leaf records as the sink publishes them, for fresh tenants (the sealer does not re-hash events). */
function leafRecords(n: number, tenants: string[], source: string): Message[] {
  return Array.from({ length: n }, (_, i) => {
    const tenant = tenants[i % tenants.length]!;
    return {
      key: tenant,
      value: JSON.stringify({
        tenant_id: tenant,
        event_id: randomUUID(),
        leaf_hash: randomBytes(32).toString('hex'),
        topic: source,
        partition: 0,
        offset: i,
      }),
    };
  });
}

async function sealerCapacity(ctx: StageContext, ch: ClickHouseClient, n: number) {
  const tenants = Array.from({ length: TENANTS }, (_, i) => benchTenant(`cap${i}`));
  const lt = await leavesTopics(ctx.kafka, 'sealcap');
  const records = leafRecords(n, tenants, `bench.synthetic.${randomUUID()}`);
  await produceAll(ctx.kafka, lt.leaves, records, 'seal capacity leaves', 2000);
  let sealer: RunningService | undefined;
  try {
    sealer = await startService('sealer', sealerEnv(ctx.brokers, lt.leaves, lt.checkpoints), {
      logDir: ctx.logDir,
    });
    // From ready (joined its group, tables loaded) to the last leaf covered: one seal may take all.
    const t0 = performance.now();
    const sealed = tracker(n);
    sealed.see(1, 0);
    const deadline = t0 + 600_000;
    while (sealed.done === undefined && performance.now() < deadline) {
      const c = await sealedCount(ch, tenants);
      sealed.see(c, performance.now() - t0);
      status(`seal capacity: sealed ${c}/${n}`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    status('seal capacity: done', true);
    if (sealed.done === undefined) throw new Error('the leaves were not sealed within 600 s');
    return { perS: sealed.perS(), seconds: sealed.seconds(), rss: sealer.peakRssMb() };
  } finally {
    await sealer?.stop();
    await lt.drop();
  }
}

function treeAppendRate(n: number): number {
  const leaves = Array.from({ length: n }, () => randomBytes(32));
  const range = new CompactRange(nodeHasher, { size: 0, edge: [] });
  const t0 = performance.now();
  for (const l of leaves) range.append(l);
  range.root();
  return Math.round(n / ((performance.now() - t0) / 1000));
}

/** Probes whose leaf is covered by their tenant's largest stored checkpoint. */
function sealedDetector(ch: ClickHouseClient, tenant: string): Detector {
  return async (pending) => {
    const rs = await ch.query({
      query: `SELECT event_id FROM audit.tlog_leaves
        WHERE tenant_id = {t:String} AND event_id IN {ids:Array(UUID)}
          AND leaf_index < (SELECT max(tree_size) FROM audit.tlog_checkpoints WHERE tenant_id = {t:String})`,
      query_params: { t: tenant, ids: [...pending.keys()] },
      format: 'JSONEachRow',
    });
    return (await rs.json<{ event_id: string }>()).map((r) => r.event_id);
  };
}

async function coverLatency(ctx: StageContext, ch: ClickHouseClient, rate: number, seconds: number) {
  const tenant = benchTenant('cover');
  const topic = await createBenchTopic(ctx.kafka, 'cover');
  const lt = await leavesTopics(ctx.kafka, 'cover');
  const env = { ...topic.env, KAFKA_LEAVES_TOPIC: lt.leaves, KAFKA_BROKERS: ctx.brokers.join(',') };
  const started: RunningService[] = [];
  try {
    const [ingest, sink, query, sealer] = await Promise.all([
      startService('ingest-api', env, { logDir: ctx.logDir }),
      startService('sink', { ...env, SINK_GROUP_ID: `bench-${randomUUID()}` }, { logDir: ctx.logDir }),
      startService('query-api', env, { logDir: ctx.logDir }),
      startService('sealer', sealerEnv(ctx.brokers, lt.leaves, lt.checkpoints), { logDir: ctx.logDir }),
    ]);
    started.push(ingest, sink, query, sealer);
    const write = await bearer(tenant, 'events:write');
    const read = await bearer(tenant, 'events:read');
    const run = (r: number, secs: number, label: string) => {
      const probeUser = `probe-${tenant}-${label}`;
      return openLoop({
        ingestUrl: ingest.url,
        write,
        rate: r,
        seconds: secs,
        label: `seal ${label}`,
        probeUser,
        detectors: {
          queryable: queryableDetector(query.url, read, probeUser),
          sealed: sealedDetector(ch, tenant),
        },
      });
    };
    // Warm-up: group joins, first insert and first seal are not latency.
    await run(1000, 2, 'warm-up');
    log('');
    return await run(rate, seconds, `${rate}/s`);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await topic.drop();
    await lt.drop();
  }
}

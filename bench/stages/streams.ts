import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createClickHouse } from '@audit/clickhouse';
import { loadConfig, stackSchema } from '@audit/config';
import { CONTROL_DATABASE } from '@audit/credentials';
import { parseStreamFilter } from '@audit/filters';
import type { Message } from '@audit/kafka';
import {
  BATCH_LIMITS,
  batchInput,
  destinationInput,
  generateStreamsKeyPair,
  newSigningSecret,
  nextVersion,
  type StreamRecord,
  StreamStore,
  sealSecret,
  splitDestination,
} from '@audit/streams';
import { mainThreadProfile, summarizeCpuProfile } from '../lib/cpuprofile.ts';
import { avgValueBytes, kafkaMessages } from '../lib/events.ts';
import { log, type Row, ratio, round, status } from '../lib/report.ts';
import { startService } from '../lib/services.ts';
import { BENCH_GROUP_PREFIX, createBenchTopic } from '../lib/topics.ts';
import { type ReceiverStats, startWebhookReceiver, type WebhookReceiver } from '../lib/webhook-receiver.ts';
import { benchTenant, type StageContext, type StageResult } from './context.ts';

/** The stream's default batch: the ceiling posts batches of exactly this many events. */
const BATCH = BATCH_LIMITS.maxEvents.default;
/**
 * A SIEM-style filter (docs/streams.md's example shape) that keeps ~10% of the bench events:
 * `amount` is (i × 37) mod 100,000, so exactly 10% of any 100,000 consecutive events. It goes
 * through the details columns, the matcher's dearest path.
 */
const FILTER = 'event_type[prefix]=customer.&details.amount[gte]=90000';
/** The same predicate, written independently of the streamer's matcher, for the expected count. */
const matchesFilter = (value: string) => {
  const e = JSON.parse(value) as { event_type: string; event_details: { amount?: number } };
  return e.event_type.startsWith('customer.') && (e.event_details.amount ?? 0) >= 90_000;
};
/** A case fails when the receiver saw nothing new for this long (a stuck stream, not a slow one). */
const STALL_MS = 60_000;
const PRODUCE_CHUNK = 4000;

interface Measured {
  /** Distinct events at the receiver (read-only ceiling: messages read). */
  delivered: number;
  duplicates: number;
  requests: number;
  /**
   * From consumer connect (ceilings) or the stream written (streamer) until the backlog is done:
   * every event delivered, or — for a filtered stream — every partition scanned and committed.
   */
  seconds: number;
  /** The same end, from the first event at the receiver (read-only: the first batch read). */
  steadySeconds: number;
  firstSeconds: number;
  /** Streamer: until its group committed the end of every partition. */
  committedSeconds?: number;
  cpuSeconds: number;
  receiverCpuSeconds: number;
  peakRssMb?: number;
}

/**
 * Log streams (docs/streams.md), on a backlog of N events of one tenant on a fresh topic:
 *  - ceilings: a bare kafkajs consumer reading the backlog (no delivery), and one POSTing each
 *    partition's messages, as they are, in JSON batches of the stream's size to the same local
 *    receiver, one request at a time (the streamer's discipline) and with partitions in parallel;
 *  - the real services/streamer process with a webhook stream of that tenant positioned at the
 *    backlog's start: time until the receiver has all N events, CPU and peak RSS of the process,
 *    duplicates; then the same with a filter keeping ~10% (events scanned per second).
 */
export async function streamsStage(ctx: StageContext): Promise<StageResult> {
  const n = ctx.events ?? (ctx.quick ? 20_000 : 100_000);
  const tenant = benchTenant('streams');
  const topic = await createBenchTopic(ctx.kafka, 'streams');
  const stack = loadConfig(stackSchema);
  const admin = createClickHouse(stack, 'admin', { requestTimeoutMs: 60_000 });
  const store = new StreamStore(admin, CONTROL_DATABASE);
  const rows: Row[] = [];
  const notes: string[] = [];
  let receiver: WebhookReceiver | undefined;
  try {
    await store.ensureSchema();
    receiver = await startWebhookReceiver();
    const backlog = await produceBacklog(ctx, topic.topic, tenant, n);
    rows.push(row(`backlog of ${n} produced with kafkajs (for reference)`, produced(backlog.seconds, n), n));

    // The bench process's first consumer pays for connections and cold code: not the ceiling's.
    await ceiling(ctx, topic.topic, n, receiver, undefined, 1);
    const read = await ceiling(ctx, topic.topic, n, receiver, undefined, 1);
    const serial = await ceiling(ctx, topic.topic, n, receiver, '/ceiling-serial', 1);
    const parallel = await ceiling(ctx, topic.topic, n, receiver, '/ceiling-parallel', 6);
    const vs = (m: Measured) => ({
      vs_ceiling: ratio(n / m.seconds, n / serial.seconds),
      steady_vs_ceiling: ratio(n / m.steadySeconds, n / serial.steadySeconds),
      steady_vs_read: ratio(n / m.steadySeconds, n / read.steadySeconds),
    });
    rows.push(
      row('ceiling: kafkajs reads the backlog, no delivery', read, n),
      row(`ceiling: kafkajs → POST ×${BATCH}, one request at a time`, serial, n, vs(serial)),
      row(`ceiling: kafkajs → POST ×${BATCH}, 6 partitions in parallel`, parallel, n, vs(parallel)),
    );

    const keys = generateStreamsKeyPair();
    const runStream = (label: string, filter: string, expect: number) =>
      streamerCase(ctx, {
        store,
        keys,
        tenant,
        topic: topic.topic,
        topicEnv: topic.env,
        backlogStartMs: backlog.startMs,
        receiver: receiver!,
        path: `/${label}`,
        filter,
        expect,
        scanned: n,
        profileDir: ctx.profile ? path.join(ctx.logDir, 'profiles', `streamer-${label}`) : undefined,
      });
    const all = await runStream('all', '', n);
    rows.push(row('streamer: webhook, no filter, from the backlog start', all, n, vs(all)));
    const filtered = await runStream('filtered', FILTER, backlog.matching);
    const pct = round((100 * backlog.matching) / n, 1);
    rows.push(row(`streamer: webhook, filter keeping ${pct}% (scans all)`, filtered, n, vs(filtered)));

    notes.push(
      `${n} events of ${backlog.avgBytes} bytes (Kafka value) on a fresh 6-partition topic, one tenant; stream batch max_events ${BATCH}, max_wait_ms ${BATCH_LIMITS.maxWaitMs.default}; filter ${FILTER}`,
      'per_s: backlog events ÷ seconds, from consumer connect (ceilings) or stream written (streamer) until the whole backlog is delivered — for the filtered stream, scanned and committed; steady_per_s: from the first event at the receiver (read-only: the first batch) instead',
      'vs_ceiling, steady_vs_ceiling: ÷ the one-request-at-a-time POST ceiling; steady_vs_read: ÷ the read-only ceiling',
      'cpu_s: CPU (user+sys) of the consuming side over the case — the bench process for ceilings, the streamer process for the streamer (stream written → end of backlog committed); cpu_us_per_event: per backlog event; receiver_cpu_s: the receiver process',
      "first_s: until the first event at the receiver; committed_s: until the stream's group committed the end of every partition",
    );
    for (const [label, m] of [
      ['no filter', all],
      ['filtered', filtered],
    ] as const) {
      if (m.profile) {
        notes.push(`CPU profile of the streamer (${label}): ${m.profile}`);
        notes.push(...summarizeCpuProfile(m.profile, 15).lines.map((l) => `  ${l}`));
      }
    }
  } finally {
    await receiver?.close();
    await topic.drop();
    await admin.close();
  }
  return { rows, notes, params: { events: n, batch: BATCH, filter: FILTER, tenant, topic: topic.topic } };
}

/** The producer's side of the backlog, as a row like the others. */
const produced = (seconds: number, n: number): Measured => ({
  delivered: n,
  duplicates: 0,
  requests: 0,
  seconds,
  steadySeconds: seconds,
  firstSeconds: 0,
  cpuSeconds: Number.NaN,
  receiverCpuSeconds: Number.NaN,
});

/** Every row has every column, in this order (printTable takes the first row's order). */
function row(label: string, m: Measured, n: number, vs: Partial<Row> = {}): Row {
  const opt = (v: number | undefined, digits = 2) =>
    v === undefined || Number.isNaN(v) ? '' : round(v, digits);
  return {
    stage: 'streams',
    case: label,
    delivered: m.delivered,
    per_s: Math.round(n / m.seconds),
    steady_per_s: Math.round(n / m.steadySeconds),
    seconds: round(m.seconds, 2),
    first_s: round(m.firstSeconds, 2),
    committed_s: opt(m.committedSeconds),
    requests: m.requests,
    duplicates: m.duplicates,
    cpu_s: opt(m.cpuSeconds),
    cpu_us_per_event: opt((m.cpuSeconds * 1e6) / n, 0),
    receiver_cpu_s: opt(m.receiverCpuSeconds),
    peak_rss_mb: m.peakRssMb ?? '',
    vs_ceiling: vs.vs_ceiling ?? '',
    steady_vs_ceiling: vs.steady_vs_ceiling ?? '',
    steady_vs_read: vs.steady_vs_read ?? '',
    load1: round(os.loadavg()[0]!, 1),
  };
}

async function produceBacklog(ctx: StageContext, topic: string, tenant: string, n: number) {
  const messages: Message[] = kafkaMessages(n, tenant);
  const matching = messages.filter((m) => matchesFilter(m.value as string)).length;
  const producer = ctx.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // The stream starts at its created_at: at or before the first message's Kafka timestamp.
  const startMs = Date.now();
  const t0 = performance.now();
  try {
    for (let i = 0; i < n; i += PRODUCE_CHUNK) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + PRODUCE_CHUNK) });
      status(`streams: produced ${Math.min(n, i + PRODUCE_CHUNK)}/${n}`);
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - t0) / 1000;
  status(`streams: produced ${n}/${n}`, true);
  return { startMs, seconds, matching, avgBytes: avgValueBytes(messages) };
}

/** Polls the receiver until `expect` distinct events arrived; throws on a stall. */
async function waitForEvents(
  receiver: WebhookReceiver,
  at: string,
  expect: number,
  label: string,
): Promise<ReceiverStats> {
  let last = -1;
  let progressMs = Date.now();
  for (;;) {
    const s = await receiver.stats(at);
    status(`${label}: ${s.unique}/${expect} events (${s.duplicates} duplicates)`);
    if (s.unique >= expect) {
      status(`${label}: ${s.unique}/${expect} events (${s.duplicates} duplicates)`, true);
      return s;
    }
    if (s.unique !== last) {
      last = s.unique;
      progressMs = Date.now();
    } else if (Date.now() - progressMs > STALL_MS) {
      throw new Error(`${label}: stalled at ${s.unique}/${expect} events for ${STALL_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One POST over the given agent; resolves with the status once the answer was read. */
function post(url: URL, body: Buffer, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const OPEN = Buffer.from('{"type":"audit.events","data":{"events":[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}}');

/**
 * The ceiling: kafkajs with the streamer's fetch size reads the backlog in a fresh group and —
 * with `at` — posts each batch's values, untouched, in runs of BATCH (no parse, no validation,
 * no re-encoding, no signature, no commits) over a kept-alive agent like the streamer's sender.
 */
async function ceiling(
  ctx: StageContext,
  topic: string,
  n: number,
  receiver: WebhookReceiver,
  at: string | undefined,
  partitionsConsumedConcurrently: number,
): Promise<Measured> {
  const label = at ? `ceiling ${at.slice(1)}` : 'ceiling read-only';
  const consumer = ctx.kafka.consumer({
    groupId: `${BENCH_GROUP_PREFIX}${randomUUID()}`,
    maxBytesPerPartition: 1024 * 1024,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(2, partitionsConsumedConcurrently) });
  const url = at ? new URL(`${receiver.url}${at}`) : undefined;
  const cpu0 = process.cpuUsage();
  const rcpu0 = receiver.cpuSeconds();
  const startMs = Date.now();
  let read = 0;
  let firstReadMs = 0;
  let lastReadMs = 0;
  let failure: unknown;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently,
      eachBatch: async ({ batch, heartbeat }) => {
        if (firstReadMs === 0) firstReadMs = Date.now();
        if (url) {
          for (let i = 0; i < batch.messages.length; i += BATCH) {
            const parts: Buffer[] = [OPEN];
            for (const [j, m] of batch.messages.slice(i, i + BATCH).entries()) {
              if (j > 0) parts.push(COMMA);
              parts.push(m.value!);
            }
            parts.push(CLOSE);
            const code = await post(url, Buffer.concat(parts), agent).catch((err: unknown) => {
              failure = err;
              return 0;
            });
            if (code < 200 || code >= 300) failure ??= new Error(`receiver answered ${code}`);
            await heartbeat();
          }
        }
        read += batch.messages.length;
        lastReadMs = Date.now();
        if (!url) status(`${label}: ${read}/${n}`);
      },
    });
    if (url) {
      const s = await waitForEvents(receiver, at!, n, label);
      if (failure) throw failure;
      const cpu = process.cpuUsage(cpu0);
      return {
        delivered: s.unique,
        duplicates: s.duplicates,
        seconds: (s.lastNewMs - startMs) / 1000,
        steadySeconds: (s.lastNewMs - s.firstMs) / 1000,
        firstSeconds: (s.firstMs - startMs) / 1000,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        receiverCpuSeconds: receiver.cpuSeconds() - rcpu0,
        requests: s.requests,
      };
    }
    const deadline = Date.now() + STALL_MS;
    while (read < n) {
      if (Date.now() > deadline) throw new Error(`${label}: read ${read}/${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    status(`${label}: ${read}/${n}`, true);
    const cpu = process.cpuUsage(cpu0);
    return {
      delivered: read,
      duplicates: 0,
      seconds: (lastReadMs - startMs) / 1000,
      steadySeconds: (lastReadMs - firstReadMs) / 1000,
      firstSeconds: (firstReadMs - startMs) / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      receiverCpuSeconds: receiver.cpuSeconds() - rcpu0,
      requests: 0,
    };
  } finally {
    await consumer.disconnect();
    agent.destroy();
  }
}

interface StreamCase {
  store: StreamStore;
  keys: { publicKey: string; privateKey: string };
  tenant: string;
  topic: string;
  topicEnv: Record<string, string>;
  backlogStartMs: number;
  receiver: WebhookReceiver;
  path: string;
  filter: string;
  /** Events the receiver must get. */
  expect: number;
  /** Messages on the topic (all scanned). */
  scanned: number;
  profileDir?: string;
}

/**
 * The real streamer process, started first (its start-up is not delivery), then given a webhook
 * stream written to the control database as the query API writes one (sealed signing secret,
 * canonical filter, default batch), created at the backlog's start so the runner positions every
 * partition there. Timed from the stream written until the receiver has every expected event,
 * and until the stream's group committed the end of every partition.
 */
async function streamerCase(ctx: StageContext, c: StreamCase): Promise<Measured & { profile?: string }> {
  const groupPrefix = `${BENCH_GROUP_PREFIX}streamer-${randomBytes(4).toString('hex')}.`;
  const streamer = await startService(
    'streamer',
    {
      ...c.topicEnv,
      KAFKA_BROKERS: ctx.brokers.join(','),
      STREAMER_SECRETS_KEY: c.keys.privateKey,
      STREAMER_GROUP_PREFIX: groupPrefix,
      // The receiver is plain HTTP on loopback: the bench opts in as the local stack does.
      STREAMS_ALLOW_PLAINTEXT: 'true',
      STREAMS_ALLOW_PRIVATE_NETWORKS: 'true',
      // The definitions are shared with every other streamer on this stack: its limit must not
      // leave the bench's stream out behind theirs (they are not started: their secrets do not open).
      STREAMER_MAX_STREAMS: '10000',
      // How soon the stream is picked up after it is written (default 2 s): not delivery speed.
      STREAMER_POLL_INTERVAL_MS: '200',
    },
    {
      logDir: ctx.logDir,
      nodeArgs: c.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${c.profileDir}`] : [],
    },
  );
  const label = `streamer ${c.path.slice(1)}`;
  const destination = destinationInput.parse({ type: 'webhook', url: `${c.receiver.url}${c.path}` });
  const { destination: shown, secrets } = splitDestination(destination, newSigningSecret);
  const at = Date.now();
  const stream: StreamRecord = {
    stream_id: `st_${randomBytes(10).toString('hex')}`,
    tenant_id: c.tenant,
    version: nextVersion(undefined, at),
    name: `bench ${c.path.slice(1)}`,
    filter: parseStreamFilter(c.filter).canonical,
    destination: shown,
    secrets: sealSecret(c.keys.publicKey, JSON.stringify(secrets)),
    batch: batchInput.parse({}),
    state: 'active',
    state_reason: '',
    created_at: new Date(c.backlogStartMs).toISOString(),
    actor: 'bench',
    at: new Date(at).toISOString(),
  };
  const groupId = `${groupPrefix}${stream.stream_id}`;
  const kafkaAdmin = ctx.kafka.admin();
  await kafkaAdmin.connect();
  let measured: Measured;
  try {
    const cpu0 = streamer.cpuSeconds();
    const rcpu0 = c.receiver.cpuSeconds();
    const startMs = Date.now();
    await c.store.append(stream);
    const s = await waitForEvents(c.receiver, c.path, c.expect, label);
    const committedMs = await waitForCommit(kafkaAdmin, groupId, c.topic, c.scanned, label);
    // Until the commit: a filtered stream's last match may come well before the end of its scan.
    const cpu1 = streamer.cpuSeconds();
    const rcpu1 = c.receiver.cpuSeconds();
    // Anything sent after the last new event is a duplicate: give a redelivery time to show up.
    await new Promise((r) => setTimeout(r, 1000));
    const final = await c.receiver.stats(c.path);
    // Every event delivered; when the filter delivers a subset, the backlog is done once scanned.
    const endMs = c.expect < c.scanned ? Math.max(s.lastNewMs, committedMs) : s.lastNewMs;
    measured = {
      delivered: final.unique,
      duplicates: final.duplicates,
      seconds: (endMs - startMs) / 1000,
      steadySeconds: (endMs - s.firstMs) / 1000,
      firstSeconds: (s.firstMs - startMs) / 1000,
      committedSeconds: (committedMs - startMs) / 1000,
      cpuSeconds: cpu1 - cpu0,
      receiverCpuSeconds: rcpu1 - rcpu0,
      requests: final.requests,
      peakRssMb: streamer.peakRssMb(),
    };
  } finally {
    await kafkaAdmin.disconnect();
    await streamer.stop();
    // The definitions are shared: a deleted version keeps every other streamer from trying it.
    const now = Date.now();
    await c.store
      .append({
        ...stream,
        version: nextVersion(stream.version, now),
        state: 'deleted',
        at: new Date(now).toISOString(),
      })
      .catch((err: unknown) => log(`stream ${stream.stream_id} not deleted: ${String(err)}`));
  }
  // Written at the graceful exit above; one file per thread, the main thread's is the largest.
  return { ...measured, profile: c.profileDir ? mainThreadProfile(c.profileDir) : undefined };
}

/** Date.now() when the group's committed offsets first covered all `total` messages of the topic. */
async function waitForCommit(
  admin: ReturnType<StageContext['kafka']['admin']>,
  groupId: string,
  topic: string,
  total: number,
  label: string,
): Promise<number> {
  const deadline = Date.now() + STALL_MS;
  for (;;) {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    if (committed >= total) return Date.now();
    if (Date.now() > deadline) throw new Error(`${label}: committed ${committed}/${total}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

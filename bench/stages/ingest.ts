import os from 'node:os';
import path from 'node:path';
import { mainThreadProfile, summarizeCpuProfile } from '../lib/cpuprofile.ts';
import {
  avgValueBytes,
  contentType,
  freshIds,
  kafkaMessages,
  type RequestShape,
  requestBodies,
} from '../lib/events.ts';
import { closedLoop, closedLoopFn, type LoadResult } from '../lib/http-load.ts';
import { producerPerfTest } from '../lib/producer-perf.ts';
import { latencySummary, log, type Row, ratio, round } from '../lib/report.ts';
import { startService } from '../lib/services.ts';
import { createBenchTopic } from '../lib/topics.ts';
import { bearer, benchTenant, type StageContext, type StageResult } from './context.ts';

const SHAPES: (RequestShape & { key: string })[] = [
  { key: 'json1', name: 'json ×1', format: 'json', eventsPerRequest: 1 },
  { key: 'json100', name: 'json ×100', format: 'json', eventsPerRequest: 100 },
  { key: 'json1000', name: 'json ×1000', format: 'json', eventsPerRequest: 1000 },
  { key: 'ndjson1000', name: 'ndjson ×1000', format: 'ndjson', eventsPerRequest: 1000 },
  // Client-chosen ids: each request is checked against the id index (ClickHouse) first.
  { key: 'json1ids', name: 'json ×1 (client ids)', format: 'json', eventsPerRequest: 1, clientIds: true },
  {
    key: 'json100ids',
    name: 'json ×100 (client ids)',
    format: 'json',
    eventsPerRequest: 100,
    clientIds: true,
  },
  {
    key: 'json1000ids',
    name: 'json ×1000 (client ids)',
    format: 'json',
    eventsPerRequest: 1000,
    clientIds: true,
  },
];

const load1 = () => round(os.loadavg()[0]!, 1);

function loadRow(name: string, conc: number, r: LoadResult): Row {
  return {
    stage: 'ingest',
    case: name,
    conc,
    events_per_s: Math.round(r.events / r.seconds),
    ...latencySummary(r.latenciesMs),
    errors: r.errors,
    load1: load1(),
  };
}

/**
 * POST /events through the real ingest-api process at fixed concurrency, next to two ceilings
 * measured in the same run: the same messages sent by a bare kafkajs producer configured as the
 * ingest publisher is (idempotent, acks=-1, one request in flight), and Kafka's own Java
 * producer benchmark.
 */
export async function ingestStage(ctx: StageContext): Promise<StageResult> {
  const concurrency = ctx.concurrency ?? (ctx.quick ? [16] : [4, 32]);
  const maxEvents = ctx.events ?? (ctx.quick ? 20_000 : 200_000);
  const maxSeconds = ctx.seconds ?? (ctx.quick ? 1.5 : 5);
  const tenant = benchTenant('ingest');
  const topic = await createBenchTopic(ctx.kafka, 'ingest');
  const profileDir = path.join(ctx.logDir, 'profiles');
  const svc = await startService(
    'ingest-api',
    { ...topic.env, KAFKA_BROKERS: ctx.brokers.join(',') },
    { logDir: ctx.logDir, nodeArgs: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] },
  );
  const producer = ctx.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    await producer.connect();
    const headers = { authorization: await bearer(tenant, 'events:write') };
    const pool = kafkaMessages(5000, tenant);
    const recordSize = avgValueBytes(pool);
    notes.push(`average Kafka message value: ${recordSize} bytes`);

    const run = (shape: RequestShape, conc: number, seconds: number, label: string) =>
      closedLoop({
        url: svc.url,
        path: '/events',
        headers: { ...headers, 'content-type': contentType(shape.format) },
        bodies: requestBodies(shape, 8),
        eventsPerRequest: shape.eventsPerRequest,
        concurrency: conc,
        maxEvents,
        maxSeconds: seconds,
        label,
        ...(shape.clientIds ? { prepare: freshIds } : {}),
      });
    // Warm-up: JIT, connections, producer id; not recorded.
    await run(SHAPES[1]!, 8, Math.min(2, maxSeconds), 'ingest warm-up');

    const bare = new Map<string, Row>();
    const bareCeiling = async (batch: number, conc: number) => {
      const key = `${batch}/${conc}`;
      if (!bare.has(key)) {
        const r = await closedLoopFn({
          send: async (i) => {
            const start = (i * batch) % pool.length;
            await producer.send({ topic: topic.topic, acks: -1, messages: pool.slice(start, start + batch) });
          },
          eventsPerCall: batch,
          concurrency: conc,
          maxEvents,
          maxSeconds,
          label: `kafkajs send ×${batch} c=${conc}`,
        });
        const row = loadRow(`ceiling: kafkajs send ×${batch}`, conc, r);
        bare.set(key, row);
        rows.push(row);
      }
      return bare.get(key)!;
    };

    const ours: Row[] = [];
    for (const shape of SHAPES.filter((s) => !ctx.shapes || ctx.shapes.includes(s.key))) {
      for (const conc of concurrency) {
        const r = await run(shape, conc, maxSeconds, `POST ${shape.name} c=${conc}`);
        if (r.errors > 0)
          notes.push(`POST ${shape.name} c=${conc}: ${r.errors} errors, first: ${r.firstError}`);
        const row = loadRow(`POST /events ${shape.name}`, conc, r);
        const ceiling = await bareCeiling(shape.eventsPerRequest, conc);
        row.vs_kafkajs = ratio(Number(row.events_per_s), Number(ceiling.events_per_s));
        ours.push(row);
        rows.push(row);
      }
    }

    const records = Math.max(maxEvents, 100_000); // fewer would mostly time the JVM's warm-up
    log(`kafka-producer-perf-test: ${records} records of ${recordSize} bytes…`);
    try {
      const j = await producerPerfTest({
        topic: topic.topic,
        records,
        recordSize,
        brokers: ctx.brokers.join(','),
        sasl: ctx.sasl,
      });
      rows.push({
        stage: 'ingest',
        case: 'ceiling: kafka-producer-perf-test (Java)',
        conc: 1,
        events_per_s: Math.round(j.recordsPerSec),
        p50_ms: j.p50_ms,
        p99_ms: j.p99_ms,
        p999_ms: j.p999_ms,
        errors: 0,
        load1: load1(),
      });
      for (const r of ours) r.vs_java = ratio(Number(r.events_per_s), j.recordsPerSec);
      notes.push(
        `Java producer: ${j.classpath}, acks=all, default batching (batch.size 16 KiB, linger.ms 5)`,
      );
    } catch (err) {
      notes.push(`kafka-producer-perf-test failed: ${(err as Error).message.slice(0, 300)}`);
    }
  } finally {
    await producer.disconnect().catch(() => {});
    await svc.stop();
    await topic.drop();
  }
  rows.push({
    stage: 'ingest',
    case: 'ingest-api peak RSS (VmHWM)',
    rss_mb: svc.peakRssMb(),
    load1: load1(),
  });
  if (ctx.profile) {
    const file = mainThreadProfile(profileDir);
    if (file) {
      notes.push(`CPU profile: ${file}`);
      notes.push(...summarizeCpuProfile(file, 20).lines);
    } else notes.push(`no .cpuprofile written under ${profileDir}`);
  }
  return {
    rows,
    notes,
    params: {
      concurrency,
      maxEventsPerCase: maxEvents,
      maxSecondsPerCase: maxSeconds,
      tenant,
      topic: topic.topic,
    },
  };
}

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { OPEN_LOOP_BATCH, OPEN_LOOP_POLL_MS, openLoop, queryableDetector } from '../lib/open-loop.ts';
import { latencySummary, type Row, round } from '../lib/report.ts';
import { type RunningService, startService } from '../lib/services.ts';
import { createBenchTopic } from '../lib/topics.ts';
import { bearer, benchTenant, type StageContext, type StageResult } from './context.ts';

const BATCH = OPEN_LOOP_BATCH;
const POLL_MS = OPEN_LOOP_POLL_MS;
/** The target: p99 freshness under 2 s at 5,000 events/s. */
const TARGET_P99_MS = 2000;

/**
 * End-to-end freshness: ingest-api, sink and query-api as processes on a fresh topic; an open-loop
 * sender offers a fixed rate of 100-event requests; some requests carry a probe event (its own
 * user_id) and a poller asks the query API for probes every 100 ms. Freshness = the time from the
 * probe's 202 to the poll response that first returned it (so it includes up to one poll interval
 * plus the query's own latency: an upper bound).
 */
export async function freshnessStage(ctx: StageContext): Promise<StageResult> {
  const rates = ctx.quick ? [5000] : [5000, 20_000];
  const seconds = ctx.seconds ?? (ctx.quick ? 6 : 20);
  const tenant = benchTenant('fresh');
  const topic = await createBenchTopic(ctx.kafka, 'fresh');
  const env = { ...topic.env, KAFKA_BROKERS: ctx.brokers.join(',') };
  const started: RunningService[] = [];
  const rows: Row[] = [];
  try {
    const [ingest, sink, query] = await Promise.all([
      startService('ingest-api', env, { logDir: ctx.logDir }),
      startService('sink', { ...env, SINK_GROUP_ID: `bench-${randomUUID()}` }, { logDir: ctx.logDir }),
      startService('query-api', env, { logDir: ctx.logDir }),
    ]);
    started.push(ingest, sink, query);
    const write = await bearer(tenant, 'events:write');
    const read = await bearer(tenant, 'events:read');
    const run = (rate: number, secs: number, label: string) => {
      const probeUser = `probe-${tenant}-${label}`;
      return openLoop({
        ingestUrl: ingest.url,
        write,
        rate,
        seconds: secs,
        label: `freshness ${label}`,
        probeUser,
        detectors: { queryable: queryableDetector(query.url, read, probeUser) },
      });
    };
    // Warm-up until a probe comes back: the sink's group join and first insert are not freshness.
    await run(1000, 1, 'warm-up');
    for (const rate of rates) {
      const r = await run(rate, seconds, `${rate}/s`);
      const fresh = r.detected.queryable!;
      const f = latencySummary(fresh);
      const i = latencySummary(r.ingestLatencies);
      rows.push({
        stage: 'freshness',
        case: `${rate} events/s offered for ${seconds} s`,
        accepted_per_s: Math.round(r.accepted / seconds),
        errors: r.errors,
        ingest_p99_ms: i.p99_ms,
        probes: r.probes,
        missing: r.missing.queryable ?? 0,
        fresh_p50_ms: Math.round(f.p50_ms),
        fresh_p99_ms: Math.round(f.p99_ms),
        fresh_max_ms: Math.round(Math.max(...fresh, 0)),
        p99_vs_2s_target: round(f.p99_ms / TARGET_P99_MS, 2),
        load1: round(os.loadavg()[0]!, 1),
      });
      if (r.firstError) rows.at(-1)!.first_error = r.firstError.slice(0, 80);
    }
    rows.push({
      stage: 'freshness',
      case: 'peak RSS (VmHWM) ingest / sink / query MB',
      rss_mb: `${ingest.peakRssMb()} / ${sink.peakRssMb()} / ${query.peakRssMb()}`,
    });
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await topic.drop();
  }
  return {
    rows,
    params: { rates, secondsPerRate: seconds, batch: BATCH, pollMs: POLL_MS, tenant, topic: topic.topic },
    notes: [
      `open loop: one ${BATCH}-event JSON request every ${BATCH}/rate s; ~10 probes/s; poll every ${POLL_MS} ms (resolution)`,
      'sink at its defaults (SINK_BATCH_MAX_WAIT_MS=500): a batch waits up to 0.5 s before its insert',
    ],
  };
}

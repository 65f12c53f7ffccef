import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Pool } from 'undici';
import { inputEvent } from '../lib/events.ts';
import { describeError } from '../lib/http-load.ts';
import { latencySummary, type Row, round, status } from '../lib/report.ts';
import { type RunningService, startService } from '../lib/services.ts';
import { createBenchTopic } from '../lib/topics.ts';
import { bearer, benchTenant, type StageContext, type StageResult } from './context.ts';

const BATCH = 100;
const POLL_MS = 100;
/** The target: p99 freshness under 2 s at 5,000 events/s. */
const TARGET_P99_MS = 2000;

interface LoadLevel {
  offered: number;
  accepted: number;
  errors: number;
  firstError?: string;
  ingestLatencies: number[];
  freshness: number[];
  probes: number;
  missing: number;
}

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
  const env = { KAFKA_TOPIC: topic.topic, KAFKA_DLQ_TOPIC: topic.dlq, KAFKA_BROKERS: ctx.brokers.join(',') };
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
    // Warm-up until a probe comes back: the sink's group join and first insert are not freshness.
    await offer(ingest.url, query.url, write, read, 1000, 1, tenant, 'warm-up');
    for (const rate of rates) {
      const r = await offer(ingest.url, query.url, write, read, rate, seconds, tenant);
      const f = latencySummary(r.freshness);
      const i = latencySummary(r.ingestLatencies);
      rows.push({
        stage: 'freshness',
        case: `${rate} events/s offered for ${seconds} s`,
        accepted_per_s: Math.round(r.accepted / seconds),
        errors: r.errors,
        ingest_p99_ms: i.p99_ms,
        probes: r.probes,
        missing: r.missing,
        fresh_p50_ms: Math.round(f.p50_ms),
        fresh_p99_ms: Math.round(f.p99_ms),
        fresh_max_ms: Math.round(Math.max(...r.freshness, 0)),
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

async function offer(
  ingestUrl: string,
  queryUrl: string,
  write: string,
  read: string,
  rate: number,
  seconds: number,
  tenant: string,
  label = `${rate}/s`,
): Promise<LoadLevel> {
  const probeUser = `probe-${tenant}-${label}`;
  const filler = Array.from({ length: BATCH - 1 }, (_, i) => JSON.stringify(inputEvent(i))).join(',');
  const full = `[${JSON.stringify(inputEvent(BATCH))},${filler}]`;
  const probeEvery = Math.max(1, Math.round(rate / BATCH / 10));
  const pool = new Pool(ingestUrl, { connections: 64 });
  const headers = { authorization: write, 'content-type': 'application/json' };
  const out: LoadLevel = {
    offered: rate,
    accepted: 0,
    errors: 0,
    ingestLatencies: [],
    freshness: [],
    probes: 0,
    missing: 0,
  };
  const pending = new Map<string, { acceptedAt: number; ts: number }>();
  const inFlight = new Set<Promise<void>>();
  const MAX_IN_FLIGHT = 256;

  const send = async (n: number) => {
    const probe = n % probeEvery === 0 ? { id: randomUUID(), ts: Date.now() } : undefined;
    const body = probe
      ? `[${JSON.stringify(inputEvent(n, { event_id: probe.id, user_id: probeUser, timestamp: new Date(probe.ts).toISOString() }))},${filler}]`
      : full;
    const start = performance.now();
    try {
      const res = await pool.request({ method: 'POST', path: '/events', headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`${res.statusCode} ${text.slice(0, 200)}`);
      out.accepted += BATCH;
      out.ingestLatencies.push(performance.now() - start);
      if (probe) {
        out.probes++;
        pending.set(probe.id, { acceptedAt: performance.now(), ts: probe.ts });
      }
    } catch (err) {
      out.errors++;
      out.firstError ??= describeError(err);
    }
  };

  let polling = true;
  const poller = (async () => {
    const q = new Pool(queryUrl, { connections: 1 });
    while (polling || pending.size > 0) {
      const t = performance.now();
      if (pending.size > 0) {
        const from = new Date(Math.min(...[...pending.values()].map((p) => p.ts)) - 1000).toISOString();
        try {
          const res = await q.request({
            method: 'GET',
            path: `/events?user_id=${encodeURIComponent(probeUser)}&from=${from}&limit=1000`,
            headers: { authorization: read },
          });
          const body = (await res.body.json()) as { events?: { event_id: string }[] };
          const now = performance.now();
          for (const e of body.events ?? []) {
            const p = pending.get(e.event_id);
            if (p) {
              out.freshness.push(now - p.acceptedAt);
              pending.delete(e.event_id);
            }
          }
        } catch {
          // a failed poll only delays detection; the next one retries
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (performance.now() - t))));
    }
    await q.close();
  })();

  const t0 = performance.now();
  let sent = 0;
  const total = Math.round((rate * seconds) / BATCH);
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * (rate / BATCH)));
    while (sent < due && inFlight.size < MAX_IN_FLIGHT) {
      const p = send(sent++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    status(
      `freshness ${label}: ${out.accepted} accepted, ${out.errors} errors, ${out.freshness.length}/${out.probes} probes seen`,
    );
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  // Give the pipeline up to 60 s to deliver the last probes, then count the rest as missing.
  const deadline = performance.now() + 60_000;
  while (pending.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  out.missing = pending.size;
  pending.clear();
  polling = false;
  await poller;
  await pool.close();
  status(`freshness ${label}: ${out.freshness.length}/${out.probes} probes seen`, true);
  return out;
}

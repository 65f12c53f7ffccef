import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { inputEvent } from './events.ts';
import { describeError } from './http-load.ts';
import { status } from './report.ts';

/** Probe events accepted (202) and not yet seen by a detector: id → acceptance time. */
export interface Probe {
  acceptedAt: number;
  /** The probe's event timestamp (ms): detectors may bound their query by it. */
  ts: number;
}

/** Returns the ids among `pending` that reached the measured state (queryable, sealed, …). */
export type Detector = (pending: Map<string, Probe>) => Promise<Iterable<string>>;

export interface OpenLoopResult {
  offered: number;
  accepted: number;
  errors: number;
  firstError?: string;
  ingestLatencies: number[];
  /** One sample list per detector: 202 → detected, in ms (an upper bound: up to one poll interval more). */
  detected: Record<string, number[]>;
  probes: number;
  /** Probes per detector never detected within the drain deadline. */
  missing: Record<string, number>;
}

export const OPEN_LOOP_BATCH = 100;
export const OPEN_LOOP_POLL_MS = 100;

/**
 * An open-loop sender: one 100-event JSON request every 100/rate s, whatever the latency (so
 * slow answers do not lower the offered rate); about 10 requests per second carry a probe event
 * with its own user_id, and each detector is polled every 100 ms for the pending probes.
 */
export async function openLoop(o: {
  ingestUrl: string;
  write: string;
  rate: number;
  seconds: number;
  label: string;
  probeUser: string;
  detectors: Record<string, Detector>;
  /** How long to wait for the last probes after sending stops. */
  drainMs?: number;
}): Promise<OpenLoopResult> {
  const BATCH = OPEN_LOOP_BATCH;
  const filler = Array.from({ length: BATCH - 1 }, (_, i) => JSON.stringify(inputEvent(i))).join(',');
  const full = `[${JSON.stringify(inputEvent(BATCH))},${filler}]`;
  const probeEvery = Math.max(1, Math.round(o.rate / BATCH / 10));
  const pool = new Pool(o.ingestUrl, { connections: 64 });
  const headers = { authorization: o.write, 'content-type': 'application/json' };
  const names = Object.keys(o.detectors);
  const out: OpenLoopResult = {
    offered: o.rate,
    accepted: 0,
    errors: 0,
    ingestLatencies: [],
    detected: Object.fromEntries(names.map((n) => [n, []])),
    probes: 0,
    missing: Object.fromEntries(names.map((n) => [n, 0])),
  };
  const pending = Object.fromEntries(names.map((n) => [n, new Map<string, Probe>()]));
  const inFlight = new Set<Promise<void>>();
  const MAX_IN_FLIGHT = 256;

  const send = async (n: number) => {
    const probe = n % probeEvery === 0 ? { id: randomUUID(), ts: Date.now() } : undefined;
    const body = probe
      ? `[${JSON.stringify(inputEvent(n, { event_id: probe.id, user_id: o.probeUser, timestamp: new Date(probe.ts).toISOString() }))},${filler}]`
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
        for (const n of names) pending[n]!.set(probe.id, { acceptedAt: performance.now(), ts: probe.ts });
      }
    } catch (err) {
      out.errors++;
      out.firstError ??= describeError(err);
    }
  };

  let polling = true;
  const pollers = names.map(async (name) => {
    const waiting = pending[name]!;
    while (polling || waiting.size > 0) {
      const t = performance.now();
      if (waiting.size > 0) {
        try {
          const seen = await o.detectors[name]!(waiting);
          const now = performance.now();
          for (const id of seen) {
            const p = waiting.get(id);
            if (p) {
              out.detected[name]!.push(now - p.acceptedAt);
              waiting.delete(id);
            }
          }
        } catch {
          // a failed poll only delays detection; the next one retries
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, OPEN_LOOP_POLL_MS - (performance.now() - t))));
    }
  });

  const t0 = performance.now();
  let sent = 0;
  const total = Math.round((o.rate * o.seconds) / BATCH);
  const seen = () => names.map((n) => `${out.detected[n]!.length}/${out.probes} ${n}`).join(', ');
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * (o.rate / BATCH)));
    while (sent < due && inFlight.size < MAX_IN_FLIGHT) {
      const p = send(sent++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    status(`${o.label}: ${out.accepted} accepted, ${out.errors} errors, probes ${seen()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + (o.drainMs ?? 60_000);
  while (names.some((n) => pending[n]!.size > 0) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const n of names) {
    out.missing[n] = pending[n]!.size;
    pending[n]!.clear();
  }
  polling = false;
  await Promise.all(pollers);
  await pool.close();
  status(`${o.label}: probes ${seen()}`, true);
  return out;
}

/** Probes returned by the query API (one GET /events per poll for the probe user). */
export function queryableDetector(queryUrl: string, read: string, probeUser: string): Detector {
  const q = new Pool(queryUrl, { connections: 1 });
  return async (pending) => {
    const from = new Date(Math.min(...[...pending.values()].map((p) => p.ts)) - 1000).toISOString();
    const res = await q.request({
      method: 'GET',
      path: `/events?user_id=${encodeURIComponent(probeUser)}&from=${from}&limit=1000`,
      headers: { authorization: read },
    });
    const body = (await res.body.json()) as { events?: { event_id: string }[] };
    return (body.events ?? []).map((e) => e.event_id);
  };
}

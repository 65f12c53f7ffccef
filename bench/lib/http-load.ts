import { Pool } from 'undici';
import { status } from './report.ts';

export interface LoadResult {
  requests: number;
  events: number;
  /** Requests answered with anything but the expected status, or failed at the socket. */
  errors: number;
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
}

export interface ClosedLoopOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  bodies: string[];
  eventsPerRequest: number;
  concurrency: number;
  /** Stop after this many events… */
  maxEvents: number;
  /** …or after this many seconds, whichever comes first. */
  maxSeconds: number;
  expectStatus?: number;
  label: string;
  /** Rewrites each body before it is sent (e.g. fresh event_ids); its time counts as the client's. */
  prepare?: (body: string) => string;
}

/**
 * Closed loop: `concurrency` workers each send a request, wait for the answer, send the next.
 * One keep-alive connection per worker (undici Pool), bodies prebuilt, latencies per request.
 */
export async function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const pool = new Pool(o.url, { connections: o.concurrency, pipelining: 1 });
  const latenciesMs: number[] = [];
  let sent = 0;
  let events = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const expect = o.expectStatus ?? 202;
  const ticker = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    status(
      `${o.label}: ${events} events in ${s.toFixed(1)} s (${Math.round(events / s)}/s), ${errors} errors`,
    );
  }, 250);

  async function worker() {
    while (sent * o.eventsPerRequest < o.maxEvents && performance.now() < deadline) {
      const template = o.bodies[sent++ % o.bodies.length]!;
      const body = o.prepare ? o.prepare(template) : template;
      const start = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path: o.path, headers: o.headers, body });
        const text = await res.body.text();
        if (res.statusCode === expect) {
          events += o.eventsPerRequest;
          latenciesMs.push(performance.now() - start);
        } else {
          errors++;
          firstError ??= `${res.statusCode} ${text.slice(0, 200)}`;
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  }

  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(ticker);
  status(`${o.label}: ${events} events in ${seconds.toFixed(1)} s`, true);
  await pool.close();
  return { requests: latenciesMs.length + errors, events, errors, firstError, seconds, latenciesMs };
}

/** The same closed loop around any async call (the bare-producer ceilings). */
export async function closedLoopFn(o: {
  send: (i: number) => Promise<void>;
  eventsPerCall: number;
  concurrency: number;
  maxEvents: number;
  maxSeconds: number;
  label: string;
}): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let calls = 0;
  let events = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  const ticker = setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    status(`${o.label}: ${events} events in ${s.toFixed(1)} s (${Math.round(events / s)}/s)`);
  }, 250);
  async function worker() {
    while (calls * o.eventsPerCall < o.maxEvents && performance.now() < deadline) {
      const i = calls++;
      const start = performance.now();
      try {
        await o.send(i);
        events += o.eventsPerCall;
        latenciesMs.push(performance.now() - start);
      } catch (err) {
        errors++;
        firstError ??= describeError(err);
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(ticker);
  status(`${o.label}: ${events} events in ${seconds.toFixed(1)} s`, true);
  return { requests: calls, events, errors, firstError, seconds, latenciesMs };
}

/** An error's message with its code, cause and nested errors (client libraries wrap the broker's answer). */
export function describeError(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 3) return String(err);
  const e = err as Error & { code?: string; errors?: unknown[]; cause?: unknown };
  let text = e.code ? `${e.message} [${e.code}]` : e.message;
  const inner = e.errors?.[0] ?? e.cause;
  if (inner) text += ` <- ${describeError(inner, depth + 1)}`;
  return text;
}

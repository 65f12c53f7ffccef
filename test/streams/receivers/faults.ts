import fs from 'node:fs';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { freePort } from '@audit/stack';
import type { SelfSignedCert } from './cert.ts';

/**
 * How an HTTP receiver answers, switched by the test to play a failing destination:
 * `down` refuses connections (nothing listens on the port) until another mode brings it back
 * on the same port; `status` answers e.g. 500/503; `throttle` answers 429 with Retry-After;
 * `hang` reads the request and never answers, so only the streamer's own timeout ends it.
 */
export type Fault =
  | { mode: 'ok' }
  | { mode: 'down' }
  | { mode: 'status'; status: number; retryAfter?: number }
  | { mode: 'throttle'; retryAfter: number }
  | { mode: 'hang' };
export type FaultMode = Fault['mode'];

/** One request as it arrived, whatever the mode: retries, backoff and Retry-After are checked on these. */
export interface Arrival {
  /** Date.now() when the request's headers arrived. */
  at: number;
  mode: FaultMode;
  method: string;
  /** Path and query string, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** What was answered; undefined while the request hangs (or never got an answer). */
  status?: number;
  /** Set when the receiver itself threw: a bug in the test's receiver, answered 500. */
  error?: string;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** At most `maxBodyBytes` of the body; `tooLarge` says there was more. */
  body: Buffer;
  tooLarge: boolean;
}

export interface Reply {
  status: number;
  /** Sent as JSON when present. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FaultSwitch {
  readonly current: Fault;
  /**
   * Switches the mode for the next requests; with `times`, back to `ok` after that many
   * requests were answered in it (`down` has no requests to count, so it lasts until the next set).
   */
  set(fault: Fault, options?: { times?: number }): Promise<void>;
  /** Every request so far, or those that arrived in one mode. */
  arrivals(mode?: FaultMode): Arrival[];
}

export interface FaultyServer {
  url: string;
  port: number;
  faults: FaultSwitch;
  close(): Promise<void>;
}

const OK: Fault = { mode: 'ok' };

/** An HTTP(S) server on a free 127.0.0.1 port that answers through `handler` unless a fault is set. */
export async function startFaultyServer(
  handler: (req: ReceivedRequest) => Reply,
  options: { tls?: SelfSignedCert; maxBodyBytes: number },
): Promise<FaultyServer> {
  const port = await freePort();
  const arrivals: Arrival[] = [];
  let fault: Fault = OK;
  let remaining = Number.POSITIVE_INFINITY;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const active = fault;
    const arrival: Arrival = {
      at: Date.now(),
      mode: active.mode,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
    };
    arrivals.push(arrival);
    if (active.mode !== 'ok' && --remaining <= 0) [fault, remaining] = [OK, Number.POSITIVE_INFINITY];
    readBody(req, options.maxBodyBytes).then(
      ({ body, tooLarge }) => {
        if (active.mode === 'hang') return;
        // Only a connection accepted just before the listener closed can get here.
        if (active.mode === 'down') return void res.destroy();
        const reply = active.mode === 'ok' ? answer(handler, arrival, body, tooLarge) : faultReply(active);
        arrival.status = reply.status;
        send(res, reply);
      },
      () => res.destroy(),
    );
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.ca, key: fs.readFileSync(options.tls.keyFile) }, onRequest)
    : http.createServer(onRequest);

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  // Also ends kept-alive and hanging connections: "down" means the streamer's open sockets die too.
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen();
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    faults: {
      get current() {
        return fault;
      },
      async set(next, { times } = {}) {
        if (next.mode === 'down' && fault.mode !== 'down') await stop();
        if (next.mode !== 'down' && fault.mode === 'down') await listen();
        fault = next;
        remaining = times ?? Number.POSITIVE_INFINITY;
      },
      arrivals: (mode) => arrivals.filter((a) => mode === undefined || a.mode === mode),
    },
    close: async () => {
      if (fault.mode !== 'down') await stop();
    },
  };
}

function answer(
  handler: (req: ReceivedRequest) => Reply,
  arrival: Arrival,
  body: Buffer,
  tooLarge: boolean,
): Reply {
  try {
    return handler({ method: arrival.method, path: arrival.path, headers: arrival.headers, body, tooLarge });
  } catch (err) {
    arrival.error = (err as Error).stack ?? String(err);
    return { status: 500, body: { error: 'receiver bug', detail: arrival.error } };
  }
}

function faultReply(fault: Exclude<Fault, { mode: 'ok' | 'down' | 'hang' }>): Reply {
  if (fault.mode === 'throttle')
    return {
      status: 429,
      body: { error: 'throttled' },
      headers: { 'retry-after': String(fault.retryAfter) },
    };
  const headers: Record<string, string> =
    fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
  return { status: fault.status, body: { error: 'injected failure' }, headers };
}

function send(res: ServerResponse, reply: Reply): void {
  const json = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    ...reply.headers,
  });
  res.end(json);
}

/** Reads the whole body but keeps at most `max` bytes, so an oversized request still gets its 413. */
function readBody(req: IncomingMessage, max: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

import type { Auth, Principal } from '@audit/auth';
import { ApiError } from '@audit/http';
import { normalizeEvent } from '@audit/schema';
import type { Hono } from 'hono';
import type { ByteGate } from './admission.ts';
import {
  type BodyFormat,
  type BodyLimits,
  bodyFormat,
  checkContentEncoding,
  decodeUtf8,
  parseBody,
  readBodyCapped,
} from './body.ts';
import type { IngestMetrics } from './metrics.ts';
import type { EventPublisher } from './publisher.ts';
import { checkTenant, validateItems } from './validate.ts';

export interface Admission {
  gate: ByteGate;
  /** Longest wait for room before 503 (the Kafka timeout: the same promise to the client). */
  timeoutMs: number;
  retryAfterSeconds: number;
}

export interface EventsRouteDeps {
  auth: Auth;
  publisher: EventPublisher;
  metrics: IngestMetrics;
  limits: BodyLimits;
  /** Bounds the bytes of requests in progress; absent: unbounded (the publisher still bounds pending bytes). */
  admission?: Admission;
  now?: () => Date;
}

/** What a body of unknown length (chunked) is counted as until it is read. */
const UNKNOWN_LENGTH_BYTES = 1024 * 1024;

/**
 * POST /events: read (bounded), parse, validate everything, stamp tenant/source/ids, publish,
 * and answer 202 only after Kafka acknowledged every event. Any failure writes nothing.
 */
export function addEventsRoute(app: Hono, deps: EventsRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  /**
   * Parses, validates, stamps and hands the events to the publisher, keeping only their ids: a
   * synchronous step, so the body and every parsed object are garbage while the request waits
   * for Kafka (32 waiting 1,000-event requests would otherwise hold all of them).
   */
  function publishBody(
    bytes: Buffer,
    format: BodyFormat,
    principal: Principal,
    counted: (n: number) => void,
  ) {
    const items = parseBody(decodeUtf8(bytes), format, deps.limits);
    counted(items.length);
    const inputs = validateItems(items);
    checkTenant(inputs, principal.tenant);
    const receivedAt = now();
    const events = inputs.map((input) =>
      normalizeEvent(input, {
        tenantId: principal.tenant,
        source: input.source ?? principal.subject,
        receivedAt,
      }),
    );
    return { ids: events.map((e) => e.event_id), published: deps.publisher.publish(events) };
  }

  /** Waits for room for this body (its declared length, capped by the format's limit). */
  async function admit(
    contentLength: string | undefined,
    maxBytes: number,
  ): Promise<(() => void) | undefined> {
    const a = deps.admission;
    if (!a) return undefined;
    const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
    // Over the limit: refused (413) before the body is read, so it needs no room.
    if (declared > maxBytes) return undefined;
    const bytes =
      Number.isFinite(declared) && declared >= 0 ? declared : Math.min(maxBytes, UNKNOWN_LENGTH_BYTES);
    return a.gate.acquire(
      bytes,
      a.timeoutMs,
      () =>
        new ApiError(503, 'unavailable', 'too many events in progress', undefined, {
          'Retry-After': String(a.retryAfterSeconds),
        }),
    );
  }

  app.post('/events', deps.auth.require('events:write'), async (c) => {
    const principal = c.get('principal');
    // How many events a failure rejects: the request itself until its events are known.
    let count = 1;
    const counted = (n: number) => {
      count = n;
    };
    let release: (() => void) | undefined;
    try {
      const format = bodyFormat(c.req.header('content-type'));
      checkContentEncoding(c.req.header('content-encoding'));
      release = await admit(c.req.header('content-length'), deps.limits[format].maxBytes);
      const { ids, published } = publishBody(
        await readBodyCapped(c.req.raw.body, c.req.header('content-length'), deps.limits[format].maxBytes),
        format,
        principal,
        counted,
      );
      await published;
      deps.metrics.accepted.inc(ids.length);
      c.get('log').debug({ accepted: ids.length, tenant: principal.tenant }, 'events accepted');
      return c.json({ accepted: ids.length, event_ids: ids }, 202);
    } catch (err) {
      deps.metrics.rejected.labels(err instanceof ApiError ? err.code : 'internal').inc(count);
      throw err;
    } finally {
      release?.();
    }
  });
}

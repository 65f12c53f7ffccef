import type { Auth, Principal } from '@audit/auth';
import { ApiError, type Logger, rateLimit, type TenantLimits } from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import { type AuditEvent, eventContentHash, idempotencyKeyEventId, normalizeEvent } from '@audit/schema';
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
import { parseIdempotencyKey } from './idempotency-key.ts';
import type { IngestMetrics } from './metrics.ts';
import { type Candidate, candidateKey, type ResendCheck } from './resends.ts';
import { checkSource, checkTenant, checkTimeWindow, validateItems } from './validate.ts';

export interface Admission {
  gate: ByteGate;
  /** Longest wait for room before 503 (the Kafka timeout: the same promise to the client). */
  timeoutMs: number;
  retryAfterSeconds: number;
}

export interface EventsRouteDeps {
  auth: Auth;
  publisher: EventPublisher;
  /** Duplicates and conflicts of client-chosen ids (recent acknowledgements, then the id index). */
  resends: ResendCheck;
  /** RETENTION_DAYS: older events are refused (the TTL would delete them on arrival). */
  retentionDays: number;
  metrics: IngestMetrics;
  limits: BodyLimits;
  /** Bounds the bytes of requests in progress; absent: unbounded (the publisher still bounds pending bytes). */
  admission?: Admission;
  /** Per-tenant requests/s and events/s; absent: unlimited. */
  tenantLimits?: TenantLimits;
  now?: () => Date;
}

/** What a body of unknown length (chunked) is counted as until it is read. */
const UNKNOWN_LENGTH_BYTES = 1024 * 1024;

/** A request's events, stamped, with the ones whose id the client chose (to check for resends). */
interface Prepared {
  ids: string[];
  /** Published at once when no id needs a check (the common, server-chosen case). */
  published?: Promise<void>;
  events?: AuditEvent[];
  candidates: Candidate[];
}

/**
 * POST /events: read (bounded), parse, validate everything, stamp tenant/source/ids, refuse what
 * storage would not keep or what conflicts with a stored event_id, publish what is not already
 * written, and answer 202 only after Kafka acknowledged every event. Any failure writes nothing.
 */
export function addEventsRoute(app: Hono, deps: EventsRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  /**
   * Parses, validates and stamps the events. When the server chose every id (no resend is
   * possible) they go to the publisher right here, keeping only their ids: a synchronous step,
   * so the body and every parsed object are garbage while the request waits for Kafka. Events
   * with client-chosen ids are kept (hashed) until the resend check has answered.
   */
  function prepare(
    bytes: Buffer,
    format: BodyFormat,
    principal: Principal,
    idempotencyKey: string | undefined,
    counted: (n: number) => void,
  ): Prepared {
    const items = parseBody(decodeUtf8(bytes), format, deps.limits);
    counted(items.length);
    const inputs = validateItems(items);
    checkTenant(inputs, principal.tenant);
    checkSource(inputs, principal.subject);
    const receivedAt = now();
    checkTimeWindow(items, inputs, receivedAt.getTime(), deps.retentionDays);
    // Charged only for a batch that is valid: a refused one cost the tenant nothing.
    deps.tenantLimits?.events?.check(principal.tenant, inputs.length);
    const candidates: Candidate[] = [];
    const events = inputs.map((input, index) => {
      const derived =
        input.event_id === undefined && idempotencyKey !== undefined
          ? idempotencyKeyEventId(principal.tenant, idempotencyKey, index)
          : undefined;
      const event = normalizeEvent(derived === undefined ? input : { ...input, event_id: derived }, {
        tenantId: principal.tenant,
        source: input.source ?? principal.subject,
        receivedAt,
      });
      if (input.event_id !== undefined || derived !== undefined) {
        candidates.push({
          index,
          tenantId: event.tenant_id,
          eventId: event.event_id,
          key: candidateKey(event.tenant_id, event.event_id),
          hash: eventContentHash(event),
        });
      }
      return event;
    });
    const ids = events.map((e) => e.event_id);
    if (candidates.length === 0) return { ids, published: deps.publisher.publish(events), candidates };
    return { ids, events, candidates };
  }

  /** Refuses conflicts, publishes what is not already written; returns the duplicate ids. */
  async function publishChecked(p: Prepared, log: Logger): Promise<string[]> {
    if (p.published) {
      await p.published;
      return [];
    }
    const events = p.events!;
    const verdict = await deps.resends.check(p.candidates, log);
    if (verdict.conflicts.length > 0) {
      throw new ApiError(
        409,
        'conflict',
        `${verdict.conflicts.length === 1 ? 'an event_id is' : `${verdict.conflicts.length} event_ids are`} already written with other content (the first write wins); nothing was accepted`,
        { event_ids: verdict.conflicts },
      );
    }
    const fresh = events.filter((_, i) => !verdict.duplicates.has(i));
    if (fresh.length > 0) await deps.publisher.publish(fresh);
    deps.resends.remember(p.candidates.filter((c) => !verdict.duplicates.has(c.index)));
    return [...verdict.duplicates].map((i) => events[i]!.event_id);
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

  // After authentication: the bucket is the token's tenant, and an anonymous flood cannot drain it.
  const perTenant = deps.tenantLimits
    ? [rateLimit(deps.tenantLimits.requests, (c) => c.get('principal').tenant)]
    : [];
  app.post('/events', deps.auth.require('events:write'), ...perTenant, async (c) => {
    const principal = c.get('principal');
    const log = c.get('log');
    // How many events a failure rejects: the request itself until its events are known.
    let count = 1;
    const counted = (n: number) => {
      count = n;
    };
    let ids: string[] | undefined;
    let release: (() => void) | undefined;
    try {
      const format = bodyFormat(c.req.header('content-type'));
      checkContentEncoding(c.req.header('content-encoding'));
      const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
      release = await admit(c.req.header('content-length'), deps.limits[format].maxBytes);
      const prepared = prepare(
        await readBodyCapped(c.req.raw.body, c.req.header('content-length'), deps.limits[format].maxBytes),
        format,
        principal,
        idempotencyKey,
        counted,
      );
      ids = prepared.ids;
      const duplicates = await publishChecked(prepared, log);
      deps.metrics.accepted.inc(ids.length - duplicates.length);
      deps.metrics.duplicates.inc(duplicates.length);
      log.debug(
        { accepted: ids.length, duplicates: duplicates.length, tenant: principal.tenant },
        'events accepted',
      );
      return c.json({ accepted: ids.length, event_ids: ids, duplicates }, 202);
    } catch (err) {
      deps.metrics.rejected.labels(err instanceof ApiError ? err.code : 'internal').inc(count);
      throw withIds(err, ids);
    } finally {
      release?.();
    }
  });
}

/**
 * A 503 from the publisher names the ids the request used, so a client can resend with exactly
 * these ids (server-chosen ones included) when `may_have_been_written` is true.
 */
function withIds(err: unknown, ids: string[] | undefined): unknown {
  if (!(err instanceof ApiError) || err.status !== 503 || ids === undefined) return err;
  const details = (err.details ?? {}) as Record<string, unknown>;
  return new ApiError(err.status, err.code, err.message, { event_ids: ids, ...details }, err.headers);
}

import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '@audit/auth';
import { parseStreamFilter } from '@audit/filters';
import { ApiError, jsonBody } from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import {
  batchInput,
  type DestinationSecrets,
  destinationInput,
  destinationProblem,
  type NetworkPolicy,
  newSigningSecret,
  nextVersion,
  type StreamRecord,
  type StreamState,
  type StreamStatus,
  type StreamStore,
  sealSecret,
  splitDestination,
} from '@audit/streams';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { accessEvent } from '../access-log.ts';

export interface StreamRouteDeps {
  store: StreamStore;
  /** The streamer's public key (STREAMS_SECRETS_PUBLIC_KEY); '' → the endpoints answer 501. */
  publicKey: string;
  policy: NetworkPolicy;
  accessLog: EventPublisher;
  maxPerTenant: number;
  /** How long `POST /streams/{id}/test` waits for the streamer's answer before a 202. */
  testWaitMs: number;
  /** Status rows older than this are not current (the streamer's status interval × a few). */
  statusLiveMs: number;
  now?: () => number;
}

/** A definition is a name, a short filter, a destination with perhaps a CA bundle: 96 KiB is plenty. */
export const MAX_STREAM_BODY_BYTES = 96 * 1024;
const STREAM_ID_RE = /^st_[0-9a-f]{20}$/;
const MAX_FILTER = 8192;
/** A rotated-out webhook secret keeps signing this long by default (receivers switch meanwhile). */
const DEFAULT_GRACE_SECONDS = 86_400;

const name = z.string().min(1).max(200);
const filter = z.string().max(MAX_FILTER);
const createBody = z
  .object({ name, filter: filter.default(''), destination: destinationInput, batch: batchInput.optional() })
  .strict();
const updateBody = z
  .object({ name: name.optional(), filter: filter.optional(), batch: batchInput.optional() })
  .strict();
const secretBody = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional(),
    token: z.string().min(1).max(512).optional(),
    api_key: z.string().min(1).max(512).optional(),
  })
  .strict();

function view(s: StreamRecord, status: StreamStatus | undefined) {
  return {
    stream_id: s.stream_id,
    name: s.name,
    state: s.state,
    ...(s.state_reason ? { state_reason: s.state_reason } : {}),
    filter: s.filter,
    destination: s.destination,
    batch: s.batch,
    created_at: s.created_at,
    updated_at: s.at,
    status: status ?? null,
  };
}

/**
 * The log streams API (docs/streams.md): a tenant's `streams:manage` token manages the tenant's
 * own streams; every change is an `audit.stream.*` record in its trail, acknowledged before the
 * answer. Secrets are sealed to the streamer's key on arrival and never returned, except a
 * webhook signing secret once, when it is made.
 */
export function streamRoutes(app: Hono, guard: MiddlewareHandler, deps: StreamRouteDeps): void {
  const now = deps.now ?? Date.now;
  const limit = bodyLimit({
    maxSize: MAX_STREAM_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `body exceeds ${MAX_STREAM_BODY_BYTES} bytes`);
    },
  });
  const configured: MiddlewareHandler = async (_c, next) => {
    if (deps.publicKey === '') {
      throw new ApiError(
        501,
        'not_configured',
        'log streams need STREAMS_SECRETS_PUBLIC_KEY (the streamer’s key)',
      );
    }
    await next();
  };
  const base = [guard, configured] as const;

  const record = async (c: Context, s: StreamRecord, type: string, details: Record<string, unknown> = {}) => {
    const principal: Principal = c.var.principal;
    await deps.accessLog.publish([
      accessEvent(c, {
        eventType: `audit.stream.${type}`,
        principal,
        action: type,
        resourceType: 'stream',
        resourceId: s.stream_id,
        details: { stream_id: s.stream_id, name: s.name, destination_type: s.destination.type, ...details },
      }),
    ]);
  };

  const statusOf = async (tenant: string, ids: string[]) =>
    deps.store.status(tenant, ids, now(), deps.statusLiveMs);

  const load = async (c: Context): Promise<StreamRecord> => {
    const id = c.req.param('stream_id') ?? '';
    const s = STREAM_ID_RE.test(id) ? await deps.store.get(c.var.principal.tenant, id) : undefined;
    if (!s || s.state === 'deleted') throw new ApiError(404, 'not_found', 'no such stream');
    return s;
  };

  const checkFilter = (text: string): string => {
    try {
      return parseStreamFilter(text).canonical;
    } catch (err) {
      if (err instanceof ApiError) {
        throw new ApiError(400, 'invalid_filter', `filter: ${err.message}`, err.details);
      }
      throw err;
    }
  };

  const append = async (
    prev: StreamRecord,
    change: Partial<StreamRecord>,
    c: Context,
  ): Promise<StreamRecord> => {
    const at = now();
    const next: StreamRecord = {
      ...prev,
      ...change,
      version: nextVersion(prev.version, at),
      actor: c.var.principal.subject,
      at: new Date(at).toISOString(),
    };
    await deps.store.append(next);
    return next;
  };

  app.post('/streams', ...base, limit, async (c) => {
    const tenant = c.var.principal.tenant;
    const body = await jsonBody(c, createBody);
    const canonical = checkFilter(body.filter);
    const { destination, secrets } = splitDestination(body.destination, newSigningSecret);
    const problem = destinationProblem(destination, deps.policy);
    if (problem) throw new ApiError(400, 'invalid_destination', problem);
    const existing = await deps.store.list(tenant);
    if (existing.length >= deps.maxPerTenant) {
      throw new ApiError(409, 'limit_exceeded', `a tenant has at most ${deps.maxPerTenant} streams`);
    }
    const at = now();
    const s: StreamRecord = {
      stream_id: `st_${randomBytes(10).toString('hex')}`,
      tenant_id: tenant,
      version: nextVersion(undefined, at),
      name: body.name,
      filter: canonical,
      destination,
      secrets: sealSecret(deps.publicKey, JSON.stringify(secrets)),
      batch: body.batch ?? batchInput.parse({}),
      state: 'active',
      state_reason: '',
      created_at: new Date(at).toISOString(),
      actor: c.var.principal.subject,
      at: new Date(at).toISOString(),
    };
    await deps.store.append(s);
    await record(c, s, 'created', { filter: s.filter });
    c.header('Cache-Control', 'no-store');
    const signing = secrets.signing?.[0]?.secret;
    return c.json({ ...view(s, undefined), ...(signing ? { signing_secret: signing } : {}) }, 201);
  });

  app.get('/streams', ...base, async (c) => {
    const tenant = c.var.principal.tenant;
    const streams = await deps.store.list(tenant);
    const status = await statusOf(
      tenant,
      streams.map((s) => s.stream_id),
    );
    return c.json({ streams: streams.map((s) => view(s, status.get(s.stream_id))) });
  });

  app.get('/streams/:stream_id', ...base, async (c) => {
    const s = await load(c);
    const status = await statusOf(s.tenant_id, [s.stream_id]);
    return c.json(view(s, status.get(s.stream_id)));
  });

  app.patch('/streams/:stream_id', ...base, limit, async (c) => {
    const s = await load(c);
    const body = await jsonBody(c, updateBody);
    const change: Partial<StreamRecord> = {};
    if (body.name !== undefined) change.name = body.name;
    if (body.filter !== undefined) change.filter = checkFilter(body.filter);
    if (body.batch !== undefined) change.batch = body.batch;
    const next = await append(s, change, c);
    await record(c, next, 'updated', { changed: Object.keys(change), filter: next.filter });
    return c.json(view(next, undefined));
  });

  const transition = (type: string, to: StreamState, from: StreamState[]) =>
    app.post(`/streams/:stream_id/${type}`, ...base, async (c) => {
      const s = await load(c);
      if (s.state === to) return c.json(view(s, undefined));
      if (!from.includes(s.state)) {
        throw new ApiError(409, 'conflict', `a ${s.state} stream cannot be ${type}d`);
      }
      const next = await append(s, { state: to, state_reason: '' }, c);
      await record(c, next, type === 'pause' ? 'paused' : 'resumed', { from: s.state });
      return c.json(view(next, undefined));
    });
  transition('pause', 'paused', ['active', 'suspended']);
  transition('resume', 'active', ['paused', 'suspended']);

  app.delete('/streams/:stream_id', ...base, async (c) => {
    const s = await load(c);
    const next = await append(s, { state: 'deleted', state_reason: '' }, c);
    await record(c, next, 'deleted');
    return c.body(null, 204);
  });

  app.post('/streams/:stream_id/secret', ...base, limit, async (c) => {
    const s = await load(c);
    const body = await jsonBody(c, secretBody);
    const at = now();
    let secrets: DestinationSecrets;
    let shown: string | undefined;
    let graceUntil: string | undefined;
    switch (s.destination.type) {
      case 'webhook': {
        if (body.token !== undefined || body.api_key !== undefined) {
          throw new ApiError(
            400,
            'invalid_request',
            'a webhook’s secret is generated here: send only grace_seconds',
          );
        }
        // The old secret cannot be read back here (sealed): the streamer keeps signing with it
        // alongside the new one until the grace ends, because it is carried in the new box.
        const graceMs = (body.grace_seconds ?? DEFAULT_GRACE_SECONDS) * 1000;
        shown = newSigningSecret();
        graceUntil = new Date(at + graceMs).toISOString();
        secrets = {
          signing: [{ secret: shown }],
          ...(graceMs > 0 ? { previous: { box: s.secrets, until: at + graceMs } } : {}),
        };
        break;
      }
      case 'splunk':
        if (body.token === undefined)
          throw new ApiError(400, 'invalid_request', 'send the new HEC token as token');
        secrets = { token: body.token };
        break;
      case 'datadog':
        if (body.api_key === undefined)
          throw new ApiError(400, 'invalid_request', 'send the new API key as api_key');
        secrets = { api_key: body.api_key };
        break;
      default:
        throw new ApiError(409, 'conflict', 'a syslog stream has no secret');
    }
    const next = await append(s, { secrets: sealSecret(deps.publicKey, JSON.stringify(secrets)) }, c);
    await record(c, next, 'secret_rotated', graceUntil ? { previous_valid_until: graceUntil } : {});
    c.header('Cache-Control', 'no-store');
    return c.json({
      ...view(next, undefined),
      ...(shown ? { signing_secret: shown, previous_secret_valid_until: graceUntil } : {}),
    });
  });

  app.post('/streams/:stream_id/test', ...base, async (c) => {
    const s = await load(c);
    const testId = randomUUID();
    await deps.store.requestTest({
      test_id: testId,
      stream_id: s.stream_id,
      tenant_id: s.tenant_id,
      at: new Date(now()).toISOString(),
    });
    await record(c, s, 'tested', { test_id: testId });
    const deadline = Date.now() + deps.testWaitMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const t = await deps.store.getTest(s.tenant_id, s.stream_id, testId);
      if (t?.done) return c.json(testView(t), 200);
    }
    return c.json({ test_id: testId, done: false }, 202);
  });

  app.get('/streams/:stream_id/tests/:test_id', ...base, async (c) => {
    const s = await load(c);
    const t = await deps.store.getTest(s.tenant_id, s.stream_id, c.req.param('test_id').slice(0, 64));
    if (!t) throw new ApiError(404, 'not_found', 'no such test');
    return c.json(testView(t));
  });
}

function testView(t: {
  test_id: string;
  done: boolean;
  ok: boolean;
  status: number;
  error: string;
  latency_ms: number;
}) {
  return {
    test_id: t.test_id,
    done: t.done,
    ...(t.done
      ? {
          ok: t.ok,
          ...(t.status ? { status: t.status } : {}),
          ...(t.error ? { error: t.error } : {}),
          latency_ms: t.latency_ms,
        }
      : {}),
  };
}

import { type Auth, PIN_LIMITS, tokenFromAuthorization, tokenTimes, unauthorized } from '@audit/auth';
import { ApiError, jsonBody } from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { accessEvent } from '../access-log.ts';
import { type Pins, parsePins } from '../filters/pins.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** A viewer token's pins, parsed (`readPins`); undefined for every other token. */
    pins?: Pins;
  }
}

/** A mint request is a subject, a lifetime and at most 20 short filters: a few KB at most. */
export const MAX_VIEWER_BODY_BYTES = 16 * 1024;
/** `viewer:` + the subject fits the 256 characters of a token subject and of an event's user_id. */
export const VIEWER_PREFIX = 'viewer:';
export const MAX_VIEWER_SUBJECT = 256 - VIEWER_PREFIX.length;

/**
 * After authentication on every read: a viewer token's pins as filters, parsed with the
 * request parser. Pins the parser refuses (a token minted by another version, a hand-made one)
 * make the token invalid (401), never an unfiltered read.
 */
export const readPins: MiddlewareHandler = async (c, next) => {
  const pins = c.var.principal.pins;
  if (pins !== undefined) {
    try {
      c.set('pins', parsePins(pins));
    } catch {
      throw unauthorized('token audit_filters claim is not a valid filter set');
    }
  }
  await next();
};

export interface ViewerDeps {
  auth: Auth;
  accessLog: EventPublisher;
  /** Lifetime when the request names none, and the most it may ask for (seconds). */
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  now?: () => number;
}

const mintBody = (maxTtl: number) =>
  z
    .object({
      subject: z.string().min(1).max(MAX_VIEWER_SUBJECT),
      ttl_seconds: z.number().int().min(1).max(maxTtl).optional(),
      filters: z
        .record(z.string().min(1).max(PIN_LIMITS.maxParamLength), z.string().max(PIN_LIMITS.maxValueLength))
        .refine((f) => Object.keys(f).length <= PIN_LIMITS.maxPins, `at most ${PIN_LIMITS.maxPins} filters`)
        .optional(),
    })
    .strict();

/** The `exp` of the caller's token (verified by the middleware before this runs). */
function callerExpiry(c: Context): number | undefined {
  return tokenTimes(tokenFromAuthorization(c.req.header('authorization'))).exp;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/**
 * `POST /viewer/tokens` (after `events:read`): a short-lived, read-only token for one end user
 * of the caller's, scoped to the caller's tenant and pinned to fixed filters. It carries the
 * caller's `key_id` (revoking the key revokes it) and never outlives the caller's token.
 */
export function mintViewerToken(deps: ViewerDeps): MiddlewareHandler[] {
  const now = deps.now ?? Date.now;
  const schema = mintBody(deps.maxTtlSeconds);
  const limit = bodyLimit({
    maxSize: MAX_VIEWER_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `body exceeds ${MAX_VIEWER_BODY_BYTES} bytes`);
    },
  });
  const handler: MiddlewareHandler = async (c) => {
    const caller = c.var.principal;
    // A viewer minting another could drop its own pins.
    if (caller.pins !== undefined) throw new ApiError(403, 'forbidden', 'a viewer token cannot mint tokens');
    if (!deps.auth.canIssueTokens) {
      throw new ApiError(
        501,
        'not_configured',
        'viewer tokens need AUTH_JWT_SECRET with HS256 accepted; this deployment only verifies tokens of an identity provider (JWKS)',
      );
    }
    const body = await jsonBody(c, schema);
    const pins = parsePins(Object.entries(body.filters ?? {}));
    const notAfter = callerExpiry(c);
    const token = await deps.auth.issueToken(
      {
        subject: `${VIEWER_PREFIX}${body.subject}`,
        tenant: caller.tenant,
        scopes: ['events:read'],
        ...(caller.keyId !== undefined ? { keyId: caller.keyId } : {}),
        pins: pins.pairs,
        actor: caller.subject,
      },
      {
        ttlSeconds: body.ttl_seconds ?? deps.defaultTtlSeconds,
        ...(notAfter !== undefined ? { notAfter } : {}),
      },
    );
    const claims = tokenTimes(token);
    const exp = claims.exp as number; // the issuer always sets it
    const expiresIn = exp - Math.floor(now() / 1000);
    if (expiresIn <= 0) throw unauthorized('token expired');
    const filters = Object.fromEntries(pins.pairs);
    await deps.accessLog.publish([
      accessEvent(c, {
        eventType: 'audit.viewer_token.created',
        principal: caller,
        action: 'create',
        resourceType: 'viewer_token',
        ...(claims.jti !== undefined ? { resourceId: claims.jti } : {}),
        details: { viewer_subject: body.subject, pins: pins.pairs, expires_at: iso(exp) },
      }),
    ]);
    c.header('Cache-Control', 'no-store');
    return c.json({ token, token_type: 'Bearer', expires_at: iso(exp), expires_in: expiresIn, filters }, 201);
  };
  return [limit, handler];
}

/**
 * `GET /viewer/session`: who the token is and what it is held to, for a viewer UI (pinned
 * filters shown as locked). Any `events:read` token; not a read of the trail, so not recorded.
 */
export function viewerSession(): MiddlewareHandler {
  return async (c) => {
    const p = c.var.principal;
    const exp = callerExpiry(c);
    return c.json({
      subject: p.subject,
      tenant: p.tenant,
      scopes: p.scopes,
      expires_at: exp === undefined ? null : iso(exp),
      viewer: p.pins !== undefined,
      filters: Object.fromEntries(c.get('pins')?.pairs ?? []),
      ...(p.actor !== undefined ? { minted_by: p.actor } : {}),
    });
  };
}

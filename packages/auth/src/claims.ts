import { decodeJwt, type JWTPayload } from 'jose';
import { unauthorized } from './errors.ts';

/** Tenant ids end up in Kafka keys and ClickHouse filters: keep them to a small, safe alphabet. */
export const TENANT_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `admin`: the management API (`/admin/*`), held only by operator keys (docs/credentials.md). */
export const SCOPES = ['events:write', 'events:read', 'streams:manage', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: the token's subject, the one tenant it may touch, and what it may do. */
export interface Principal {
  subject: string;
  tenant: string;
  scopes: string[];
  /** The API key a client-credentials token was issued for (`key_id` claim); revocable by id. */
  keyId?: string;
  /**
   * Set only on viewer tokens (`audit_filters` claim, possibly empty): filters in the query API's
   * `field[op]=value` language, as [parameter, value] pairs, AND-ed to every read. Each service
   * gives them meaning; a service that cannot honour them must refuse the token.
   */
  pins?: [string, string][];
  /** Who minted a viewer token (`act.sub`, RFC 8693): kept in the records of its reads. */
  actor?: string;
}

/** The claim carrying a viewer token's pinned filters. */
export const PINS_CLAIM = 'audit_filters';
/** Bounds of the pins of one viewer token, checked when minting and again on every verification. */
export const PIN_LIMITS = { maxPins: 20, maxParamLength: 256, maxValueLength: 1024 } as const;

/** `key_id` of tokens minted by `POST /oauth/token`: the `<id>` part of an `ak_<id>_<secret>` key. */
export const KEY_ID_RE = /^[a-z0-9]{16,32}$/;

const MAX_SUBJECT_LENGTH = 256;

/** Turns verified claims into a Principal, or a 401 naming the claim that is wrong. */
export function principalFromClaims(claims: JWTPayload, tenantClaim: string): Principal {
  const { sub } = claims;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
    throw unauthorized('token has no valid subject (sub)');
  }
  const tenant = claims[tenantClaim];
  if (tenant === undefined) throw unauthorized(`token has no tenant claim (${tenantClaim})`);
  if (typeof tenant !== 'string' || !TENANT_RE.test(tenant)) {
    throw unauthorized(`token tenant claim (${tenantClaim}) is invalid`);
  }
  const keyId = claims.key_id;
  if (keyId !== undefined && (typeof keyId !== 'string' || !KEY_ID_RE.test(keyId))) {
    throw unauthorized('token key_id claim is invalid');
  }
  const principal: Principal = { subject: sub, tenant, scopes: scopesOf(claims) };
  if (keyId !== undefined) principal.keyId = keyId;
  const pins = claims[PINS_CLAIM];
  if (pins !== undefined) {
    if (!isPinList(pins)) throw unauthorized(`token ${PINS_CLAIM} claim is invalid`);
    principal.pins = pins.map(([k, v]) => [k, v]);
    const act = claims.act as { sub?: unknown } | undefined;
    if (act !== undefined) {
      const actor = typeof act === 'object' && act !== null ? act.sub : undefined;
      if (typeof actor !== 'string' || actor.length === 0 || actor.length > MAX_SUBJECT_LENGTH) {
        throw unauthorized('token act claim is invalid');
      }
      principal.actor = actor;
    }
  }
  return principal;
}

/** An array of at most PIN_LIMITS.maxPins distinct [param, value] string pairs within the lengths. */
export function isPinList(value: unknown): value is [string, string][] {
  if (!Array.isArray(value) || value.length > PIN_LIMITS.maxPins) return false;
  const seen = new Set<string>();
  for (const pair of value) {
    if (!Array.isArray(pair) || pair.length !== 2) return false;
    const [k, v] = pair as unknown[];
    if (typeof k !== 'string' || k.length === 0 || k.length > PIN_LIMITS.maxParamLength) return false;
    if (typeof v !== 'string' || v.length > PIN_LIMITS.maxValueLength) return false;
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

/** `scope` is a space-separated string (RFC 8693); some providers send `scp` as an array instead. */
function scopesOf(claims: JWTPayload): string[] {
  const out = new Set<string>();
  for (const [name, value] of [
    ['scope', claims.scope],
    ['scp', claims.scp],
  ] as const) {
    if (value === undefined) continue;
    const items = typeof value === 'string' ? value.split(' ') : value;
    if (!Array.isArray(items) || !items.every((s) => typeof s === 'string')) {
      throw unauthorized(`token ${name} claim is invalid`);
    }
    for (const s of items) if (s !== '') out.add(s);
  }
  return [...out];
}

/**
 * `exp` and `jti` of a token this process verified or issued itself (no check here): e.g. so a
 * token minted from it never outlives it.
 */
export function tokenTimes(token: string): { exp?: number; jti?: string } {
  const { exp, jti } = decodeJwt(token);
  return {
    ...(typeof exp === 'number' ? { exp } : {}),
    ...(typeof jti === 'string' ? { jti } : {}),
  };
}

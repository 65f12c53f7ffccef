import type { JWTPayload } from 'jose';
import { unauthorized } from './errors.ts';

/** Tenant ids end up in Kafka keys and ClickHouse filters: keep them to a small, safe alphabet. */
export const TENANT_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** `admin`: the management API (`/admin/*`), held only by operator keys (docs/credentials.md). */
export const SCOPES = ['events:write', 'events:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling: the token's subject, the one tenant it may touch, and what it may do. */
export interface Principal {
  subject: string;
  tenant: string;
  scopes: string[];
  /** The API key a client-credentials token was issued for (`key_id` claim); revocable by id. */
  keyId?: string;
}

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
  return principal;
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

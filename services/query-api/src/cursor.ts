import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { invalidParameter, UUID_RE } from '@audit/filters';
import type { Keyset } from './sql/build-query.ts';

/** What a cursor is valid for: one tenant, one filter set, one order. */
export interface CursorScope {
  tenant: string;
  /** The request's filter parameters, canonical (sorted) — `limit` may change between pages. */
  filters: readonly [string, string][];
  order: string;
}

const MAX_CURSOR_LENGTH = 512;
const TS_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/;

export interface CursorCodec {
  encode(scope: CursorScope, position: Keyset): string;
  /** The position, or a 400 naming `cursor` when it was forged, altered or issued for another scope. */
  decode(scope: CursorScope, cursor: string): Keyset;
}

/**
 * Opaque keyset cursors: `base64url(JSON position) . base64url(HMAC-SHA256)`. The MAC covers the
 * tenant and a hash of the filters and order as well as the position, so a cursor replayed by
 * another tenant or with different filters fails verification instead of skipping or leaking rows.
 */
export function createCursorCodec(secret: string): CursorCodec {
  const mac = (scope: CursorScope, payload: string) =>
    createHmac('sha256', secret)
      .update(`v1\0${scope.tenant}\0${scopeHash(scope)}\0${payload}`)
      .digest();
  return {
    encode(scope, position) {
      const payload = Buffer.from(JSON.stringify([position.ts, position.id])).toString('base64url');
      return `${payload}.${mac(scope, payload).toString('base64url')}`;
    },
    decode(scope, cursor) {
      const bad = () => invalidParameter('cursor', 'invalid, or issued for other filters, order or tenant');
      if (cursor.length > MAX_CURSOR_LENGTH) throw bad();
      const [payload, sig, ...rest] = cursor.split('.');
      if (!payload || !sig || rest.length > 0) throw bad();
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(scope, payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      // Signed by us, but checked anyway: a leaked secret must not become a way into the SQL types.
      if (!Array.isArray(value) || value.length !== 2) throw bad();
      const [ts, id] = value as unknown[];
      if (typeof ts !== 'string' || !TS_RE.test(ts) || typeof id !== 'string' || !UUID_RE.test(id))
        throw bad();
      return { ts, id };
    },
  };
}

function scopeHash(scope: CursorScope): string {
  return createHash('sha256')
    .update(JSON.stringify([scope.order, scope.filters]))
    .digest('base64url');
}

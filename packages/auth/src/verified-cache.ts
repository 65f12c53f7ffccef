import { createHash } from 'node:crypto';
import type { Principal } from './claims.ts';

export interface VerifiedCacheOptions {
  maxEntries: number;
  /** Longest time a verification is reused, whatever the token's own `exp`. */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * Recently verified tokens → their principal, so a client that sends the same token on every
 * request pays for the signature check (a WebCrypto call) once per `maxAgeMs`, not per request.
 * Keyed by a SHA-256 of the token: the map never holds bearer tokens, and a long token costs no
 * more memory than a short one. Bounded (least recently used goes first). Only successes are
 * stored: a bad token is checked again every time.
 */
export interface VerifiedCache {
  get(token: string): Principal | undefined;
  /** `expSeconds`: the token's `exp`; the entry expires at min(exp, now + maxAgeMs). */
  set(token: string, principal: Principal, expSeconds: number): void;
  readonly size: number;
}

export function createVerifiedCache(opts: VerifiedCacheOptions): VerifiedCache {
  const now = opts.now ?? Date.now;
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU.
  const entries = new Map<string, { principal: Principal; expiresAt: number }>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');

  return {
    get(token) {
      const key = keyOf(token);
      const e = entries.get(key);
      if (!e) return undefined;
      entries.delete(key);
      if (now() >= e.expiresAt) return undefined;
      entries.set(key, e);
      return e.principal;
    },
    set(token, principal, expSeconds) {
      const expiresAt = Math.min(expSeconds * 1000, now() + opts.maxAgeMs);
      if (!(expiresAt > now())) return;
      const key = keyOf(token);
      entries.delete(key);
      entries.set(key, {
        principal: Object.freeze({ ...principal, scopes: Object.freeze([...principal.scopes]) as string[] }),
        expiresAt,
      });
      while (entries.size > opts.maxEntries) entries.delete(entries.keys().next().value!);
    },
    get size() {
      return entries.size;
    },
  };
}

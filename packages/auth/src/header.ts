import { missingCredentials, unauthorized } from './errors.ts';

/** Larger than any sane JWT; bounds the work done on hostile input. */
export const MAX_AUTHORIZATION_BYTES = 8192;

/** Compact JWS: three base64url parts; the signature may be empty (alg none), which jose then rejects. */
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER_RE = /^bearer[ \t]+(\S+)$/i;

/**
 * The token from `Authorization: Bearer <jwt>` or the seed's bare `Authorization: <jwt>`.
 * Repeated headers reach us joined by ", " (Fetch Headers semantics); a JWT has no comma, so a
 * comma means several values, which are refused rather than guessed between.
 */
export function tokenFromAuthorization(value: string | null | undefined): string {
  if (value === undefined || value === null || value.trim() === '') throw missingCredentials();
  if (value.length > MAX_AUTHORIZATION_BYTES) throw unauthorized('Authorization header too large');
  if (value.includes(',')) throw unauthorized('multiple Authorization values');
  const trimmed = value.trim();
  const bearer = BEARER_RE.exec(trimmed);
  let token: string;
  if (bearer) token = bearer[1] as string;
  else if (/\s/.test(trimmed)) throw unauthorized('unsupported Authorization scheme (use Bearer)');
  else token = trimmed;
  if (!COMPACT_JWS_RE.test(token)) throw unauthorized('malformed token');
  return token;
}

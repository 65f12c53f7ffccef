import { ApiError } from '@audit/http';

/** Letters, digits and `-_.:~+/=`: a UUID, a ULID, base64url or base64 text, `order:42`… */
const KEY_RE = /^[A-Za-z0-9\-_.:~+/=]{1,255}$/;

/**
 * The `Idempotency-Key` request header, or undefined when absent. The IETF draft sends it as a
 * structured-field string (`"…"`); the bare value is accepted too. Anything else is a 400, so a
 * key that would be mangled on the way (spaces, non-ASCII) is never silently used.
 */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key =
    header.length >= 2 && header.startsWith('"') && header.endsWith('"') ? header.slice(1, -1) : header;
  if (KEY_RE.test(key)) return key;
  throw new ApiError(
    400,
    'invalid_idempotency_key',
    'Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 - _ . : ~ + / = (optionally in double quotes)',
  );
}

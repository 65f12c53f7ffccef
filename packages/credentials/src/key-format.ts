import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_ID_RE } from '@audit/auth';

/**
 * API keys look like `ak_<id>_<secret>`: `id` is 20 lower-case hex characters (public: it names
 * the key in lists, logs and the `key_id` token claim), `secret` is 32 random bytes in base64url
 * (43 characters, 256 bits). The prefix makes a leaked key recognisable to secret scanners.
 */
export const KEY_PREFIX = 'ak_';
const ID_BYTES = 10;
const SECRET_BYTES = 32;
const KEY_RE = /^ak_([a-z0-9]{16,32})_([A-Za-z0-9_-]{43})$/;
/** Longer than any key; bounds the work done on hostile input before the regex runs. */
export const MAX_KEY_LENGTH = 128;

export interface ParsedKey {
  id: string;
  secret: string;
}

export interface NewKey extends ParsedKey {
  /** The whole key, shown to its owner once and never stored. */
  key: string;
  /** What is stored: see hashSecret. */
  secretHash: string;
}

export function newKeyId(): string {
  return randomBytes(ID_BYTES).toString('hex');
}

export function generateKey(id = newKeyId()): NewKey {
  if (!KEY_ID_RE.test(id)) throw new Error(`bad key id: ${id}`);
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { id, secret, key: `${KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The parts of a well-formed key, or undefined (never throws: the input is the caller's). */
export function parseKey(value: unknown): ParsedKey | undefined {
  if (typeof value !== 'string' || value.length > MAX_KEY_LENGTH) return undefined;
  const m = KEY_RE.exec(value);
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

/**
 * SHA-256 of the secret, hex. A password hash (scrypt, argon2) exists to slow down guessing of
 * low-entropy secrets; these secrets are 256 random bits, so a stolen hash cannot be inverted by
 * guessing at any speed, and a fast hash keeps the token endpoint cheap (no CPU to exhaust).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && b.length === 32 && timingSafeEqual(a, b);
}

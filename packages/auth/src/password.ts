import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Password hashes are self-describing, `scrypt$N$r$p$saltB64$hashB64`, so the cost can be raised
 * later without invalidating existing entries.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 32 MiB and ~50–100 ms per hash on one core: fine for a development login. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
const B64 = '[A-Za-z0-9+/]+={0,2}';
const HASH_RE = new RegExp(`^scrypt\\$(\\d{1,8})\\$(\\d{1,3})\\$(\\d{1,3})\\$(${B64})\\$(${B64})$`);

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/** Parses and bounds a stored hash; a hostile users file must not make one login cost gigabytes. */
export function parseHash(text: string): ParsedHash {
  const m = HASH_RE.exec(text);
  if (!m) throw new Error('not a scrypt$N$r$p$salt$hash string');
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0) throw new Error('N must be a power of two in [2, 2^20]');
  if (r < 1 || r > 32 || p < 1 || p > 16) throw new Error('r must be in [1, 32] and p in [1, 16]');
  if (128 * N * r > 256 * 1024 * 1024) throw new Error('N*r needs more than 256 MiB');
  const salt = Buffer.from(m[4] as string, 'base64');
  const hash = Buffer.from(m[5] as string, 'base64');
  if (salt.length < 8) throw new Error('salt must be at least 8 bytes');
  if (hash.length < 16 || hash.length > 64) throw new Error('hash must be 16 to 64 bytes');
  return { params: { N, r, p }, salt, hash };
}

function derive(password: string, salt: Buffer, length: number, { N, r, p }: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT_PARAMS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Always does the full scrypt work and compares in constant time. */
export async function verifyPassword(password: string, stored: ParsedHash): Promise<boolean> {
  const actual = await derive(password, stored.salt, stored.hash.length, stored.params);
  return timingSafeEqual(actual, stored.hash);
}

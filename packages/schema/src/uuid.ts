import { createHash, randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function format(b: Uint8Array, o: number): string {
  const h = (i: number) => HEX[b[o + i]!]!;
  return (
    h(0) +
    h(1) +
    h(2) +
    h(3) +
    '-' +
    h(4) +
    h(5) +
    '-' +
    h(6) +
    h(7) +
    '-' +
    h(8) +
    h(9) +
    '-' +
    h(10) +
    h(11) +
    h(12) +
    h(13) +
    h(14) +
    h(15)
  );
}

// Random bytes are drawn in batches: one syscall per 256 ids instead of one per id.
const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let poolIndex = POOL_IDS;
const out = new Uint8Array(16);

let lastMs = -1;
let counter = 0;

/**
 * RFC 9562 UUIDv7: 48-bit Unix milliseconds, then a 12-bit counter (rand_a) seeded at random each
 * millisecond, then 62 random bits. Ids from one process sort in generation order (RFC 9562
 * §6.2 method 1); when the counter overflows, or the clock steps back, the timestamp field runs
 * ahead of the clock by a millisecond rather than break the order.
 */
export function uuidv7(): string {
  if (poolIndex === POOL_IDS) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  const o = 16 * poolIndex++;
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    // Seed below 2^11 so at least 2048 ids fit in the millisecond before borrowing the next one.
    counter = ((pool[o + 6]! << 8) | pool[o + 7]!) & 0x7ff;
  } else {
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
  }
  // 48-bit milliseconds do not fit a 32-bit bitwise operation: split the high 16 bits off by division.
  const hi = Math.floor(lastMs / 0x1_0000_0000);
  const lo = lastMs >>> 0;
  out[0] = (hi >>> 8) & 0xff;
  out[1] = hi & 0xff;
  out[2] = lo >>> 24;
  out[3] = (lo >>> 16) & 0xff;
  out[4] = (lo >>> 8) & 0xff;
  out[5] = lo & 0xff;
  out[6] = 0x70 | (counter >>> 8);
  out[7] = counter & 0xff;
  out[8] = 0x80 | (pool[o + 8]! & 0x3f);
  for (let i = 9; i < 16; i++) out[i] = pool[o + i]!;
  return format(out, 0);
}

/**
 * A name-based UUIDv8 (RFC 9562 §5.8): the first 128 bits of SHA-256 over a namespace and the
 * name, with version and variant bits set. The same name always gives the same id.
 */
export function uuidFromName(namespace: string, name: string): string {
  const d = createHash('sha256').update(namespace).update('\u0000').update(name).digest();
  d[6] = 0x80 | (d[6]! & 0x0f);
  d[8] = 0x80 | (d[8]! & 0x3f);
  return format(d, 0);
}

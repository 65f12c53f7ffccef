import { describe, expect, it } from 'vitest';
import { idempotencyKeyEventId } from './idempotency-key.ts';
import { UUID_RE } from './limits.ts';

describe('idempotencyKeyEventId', () => {
  it('is a UUID that depends on tenant, key and index only', () => {
    const id = idempotencyKeyEventId('acme', 'order-42', 0);
    expect(id).toMatch(UUID_RE);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotencyKeyEventId('acme', 'order-42', 0)).toBe(id);
    const others = [
      idempotencyKeyEventId('acme', 'order-42', 1),
      idempotencyKeyEventId('globex', 'order-42', 0),
      idempotencyKeyEventId('acme', 'order-43', 0),
      // The separator keeps (tenant, key) pairs apart: "a"+"b\0c" is not "a\0b"+"c".
      idempotencyKeyEventId('acme\u0000order-42', '', 0),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
  });
});

import { ApiError } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { parseIdempotencyKey } from './idempotency-key.ts';

describe('parseIdempotencyKey', () => {
  it('is undefined without the header and returns a valid key, bare or as a quoted string', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey('"order:42/v=1"')).toBe('order:42/v=1');
    expect(parseIdempotencyKey('k'.repeat(255))).toBe('k'.repeat(255));
  });

  it.each([
    ['empty', ''],
    ['empty quoted', '""'],
    ['too long', 'k'.repeat(256)],
    ['a space', 'order 42'],
    ['non-ASCII', 'clé'],
    ['a control character', 'a\tb'],
    ['an unbalanced quote', '"abc'],
    ['a comma (a list)', 'a,b'],
  ])('refuses %s with 400 invalid_idempotency_key', (_name, value) => {
    let err: unknown;
    try {
      parseIdempotencyKey(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect([(err as ApiError).status, (err as ApiError).code]).toEqual([400, 'invalid_idempotency_key']);
  });
});

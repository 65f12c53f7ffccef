import { ApiError } from '@audit/http';
import { describe, expect, it } from 'vitest';
import { MAX_AUTHORIZATION_BYTES, tokenFromAuthorization } from './header.ts';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function failure(value: string | undefined): { status: number; message: string } {
  try {
    tokenFromAuthorization(value);
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a failure');
}

describe('tokenFromAuthorization', () => {
  it('takes Bearer (any case, extra spaces) and bare tokens', () => {
    expect(tokenFromAuthorization(`Bearer ${JWT}`)).toBe(JWT);
    expect(tokenFromAuthorization(`BEARER   ${JWT} `)).toBe(JWT);
    expect(tokenFromAuthorization(JWT)).toBe(JWT);
    expect(tokenFromAuthorization(`${JWT.slice(0, -3)}`)).toBe(JWT.slice(0, -3));
  });

  it('refuses missing, oversized, repeated, other-scheme and non-JWS values', () => {
    expect(failure(undefined)).toEqual({ status: 401, message: 'missing Authorization header' });
    expect(failure('  ')).toEqual({ status: 401, message: 'missing Authorization header' });
    expect(failure(`Bearer ${'a'.repeat(MAX_AUTHORIZATION_BYTES)}`)).toEqual({
      status: 401,
      message: 'Authorization header too large',
    });
    expect(failure(`Bearer ${JWT}, Bearer ${JWT}`)).toEqual({
      status: 401,
      message: 'multiple Authorization values',
    });
    expect(failure(`Basic ${JWT}`)).toEqual({
      status: 401,
      message: 'unsupported Authorization scheme (use Bearer)',
    });
    expect(failure('Bearer')).toEqual({ status: 401, message: 'malformed token' });
    expect(failure('Bearer a.b')).toEqual({ status: 401, message: 'malformed token' });
    expect(failure('Bearer a.b.c.d')).toEqual({ status: 401, message: 'malformed token' });
    expect(failure('Bearer a+b.c.d')).toEqual({ status: 401, message: 'malformed token' });
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, parseHash, verifyPassword } from './password.ts';

describe('scrypt password hashes', () => {
  it('are self-describing and verify only the right password', async () => {
    const text = await hashPassword('devpass', { N: 1024, r: 8, p: 2 });
    expect(text).toMatch(/^scrypt\$1024\$8\$2\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const parsed = parseHash(text);
    expect(parsed.params).toEqual({ N: 1024, r: 8, p: 2 });
    expect(await verifyPassword('devpass', parsed)).toBe(true);
    expect(await verifyPassword('devpasS', parsed)).toBe(false);
    expect(await verifyPassword('', parsed)).toBe(false);
  });

  it('salt each hash', async () => {
    expect(await hashPassword('same', { N: 1024, r: 8, p: 1 })).not.toBe(
      await hashPassword('same', { N: 1024, r: 8, p: 1 }),
    );
  });

  it('default to N=2^15, r=8, p=1', async () => {
    expect(DEFAULT_SCRYPT_PARAMS).toEqual({ N: 32768, r: 8, p: 1 });
    expect(parseHash(await hashPassword('x')).params).toEqual(DEFAULT_SCRYPT_PARAMS);
  });

  it('reject malformed or unbounded parameters', () => {
    const salt = Buffer.alloc(16, 1).toString('base64');
    const hash = Buffer.alloc(32, 2).toString('base64');
    expect(() => parseHash('devpass')).toThrow('not a scrypt');
    expect(() => parseHash(`bcrypt$1024$8$1$${salt}$${hash}`)).toThrow('not a scrypt');
    expect(() => parseHash(`scrypt$1000$8$1$${salt}$${hash}`)).toThrow('power of two');
    expect(() => parseHash(`scrypt$${2 ** 21}$8$1$${salt}$${hash}`)).toThrow('power of two');
    expect(() => parseHash(`scrypt$1024$0$1$${salt}$${hash}`)).toThrow('r must be');
    expect(() => parseHash(`scrypt$1048576$16$1$${salt}$${hash}`)).toThrow('256 MiB');
    expect(() => parseHash(`scrypt$1024$8$1$AAAA$${hash}`)).toThrow('salt');
    expect(() => parseHash(`scrypt$1024$8$1$${salt}$AAAA`)).toThrow('hash must be');
    expect(parseHash(`scrypt$1024$8$1$${salt}$${hash}`).hash.length).toBe(32);
  });
});

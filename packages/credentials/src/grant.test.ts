import { describe, expect, it } from 'vitest';
import { parseTokenRequest } from './grant.ts';
import { generateKey, parseKey, secretMatches } from './key-format.ts';
import { OAuthError } from './oauth-errors.ts';

const key = generateKey();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const fails = (body: string, auth: string | undefined, code: string, status: number) => {
  try {
    parseTokenRequest(body, auth);
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    expect([(err as OAuthError).code, (err as OAuthError).status]).toEqual([code, status]);
    return;
  }
  throw new Error('expected an OAuthError');
};

describe('API keys', () => {
  it('round-trips and matches only its own secret', () => {
    expect(key.key).toMatch(/^ak_[0-9a-f]{20}_[A-Za-z0-9_-]{43}$/);
    expect(parseKey(key.key)).toEqual({ id: key.id, secret: key.secret });
    expect(secretMatches(key.secret, key.secretHash)).toBe(true);
    expect(secretMatches(generateKey().secret, key.secretHash)).toBe(false);
    for (const bad of [
      '',
      'ak_',
      `${key.key}x`,
      key.key.replace('ak_', 'AK_'),
      'a'.repeat(10_000),
      42,
      null,
    ]) {
      expect(parseKey(bad)).toBeUndefined();
    }
  });
});

describe('client-credentials grant parsing', () => {
  it('accepts HTTP Basic and body credentials, with optional scope', () => {
    expect(parseTokenRequest('grant_type=client_credentials', basic(key.id, key.key))).toEqual({
      key: { id: key.id, secret: key.secret },
      scopes: undefined,
    });
    const body = `grant_type=client_credentials&client_id=${key.id}&client_secret=${encodeURIComponent(key.key)}&scope=events:read%20events:read`;
    expect(parseTokenRequest(body, undefined).scopes).toEqual(['events:read']);
  });

  it('answers RFC 6749 §5.2 codes for bad requests and hostile input', () => {
    fails('', undefined, 'invalid_request', 400);
    fails('grant_type=password', undefined, 'unsupported_grant_type', 400);
    fails('grant_type=client_credentials&grant_type=client_credentials', undefined, 'invalid_request', 400);
    fails('grant_type=client_credentials', undefined, 'invalid_client', 401);
    fails('grant_type=client_credentials', 'Bearer x', 'invalid_client', 401);
    fails('grant_type=client_credentials', `Basic ${'A'.repeat(5000)}`, 'invalid_client', 401);
    fails('grant_type=client_credentials', basic('%zz', key.key), 'invalid_client', 401);
    fails('grant_type=client_credentials', basic(generateKey().id, key.key), 'invalid_client', 401);
    fails(
      `grant_type=client_credentials&client_id=${key.id}`,
      basic(key.id, key.key),
      'invalid_request',
      400,
    );
    fails('grant_type=client_credentials&scope=%22bad%22', basic(key.id, key.key), 'invalid_scope', 400);
  });
});

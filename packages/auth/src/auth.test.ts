import { ConfigError, loadConfig } from '@audit/config';
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from './auth.ts';
import { authConfigSchema } from './config.ts';
import { b64url, call, nowSeconds, SECRET, testApp } from './test-app.ts';

const secretKey = new TextEncoder().encode(SECRET);
const ISS = 'https://auth.test';
const AUD = 'audit-api';

function claims(over: JWTPayload = {}): JWTPayload {
  const now = nowSeconds();
  return {
    sub: 'svc-1',
    tenant: 'acme',
    scope: 'events:write',
    iss: ISS,
    aud: AUD,
    iat: now,
    exp: now + 300,
    ...over,
  };
}
const hs = (payload: JWTPayload, key: Uint8Array = secretKey, header = {}) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(key);

const unauthorized = (message: string) => ({ error: { code: 'unauthorized', message } });

describe('HS256 verification through a base app', async () => {
  const auth = await createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISS, AUTH_AUDIENCE: AUD });
  const app = testApp(auth);
  const expect401 = async (authorization: string | string[] | undefined, message: string) => {
    const r = await call(app, '/write', authorization);
    expect(r.status).toBe(401);
    expect(r.body).toEqual(unauthorized(message));
    return r;
  };

  it('accepts a valid Bearer token and exposes the principal', async () => {
    const r = await call(app, '/write', `Bearer ${await hs(claims())}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ subject: 'svc-1', tenant: 'acme', scopes: ['events:write'] });
  });

  it("accepts the seed's bare token and a lower-case scheme", async () => {
    const token = await hs(claims());
    expect((await call(app, '/write', token)).status).toBe(200);
    expect((await call(app, '/write', `bearer ${token}`)).status).toBe(200);
  });

  it('reads space-separated scope and the scp array, merged', async () => {
    const token = await hs(claims({ scope: 'events:read  other', scp: ['events:write'] }));
    const r = await call(app, '/read', `Bearer ${token}`);
    expect(r.status).toBe(200);
    expect(r.body.scopes).toEqual(['events:read', 'other', 'events:write']);
    expect((await call(app, '/write', `Bearer ${token}`)).status).toBe(200);
  });

  it('401 without a header, with a bare Bearer challenge', async () => {
    const r = await expect401(undefined, 'missing Authorization header');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('401 for garbage, with an invalid_token challenge', async () => {
    const r = await expect401('Bearer not-a-jwt', 'malformed token');
    expect(r.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="malformed token"',
    );
    await expect401('Bearer bm90LWpzb24.e30.c2ln', 'malformed token'); // header is not JSON
    await expect401('Basic dXNlcjpwYXNz', 'unsupported Authorization scheme (use Bearer)');
  });

  it('401 for a bad signature', async () => {
    const token = await hs(claims(), new TextEncoder().encode('another-secret-that-is-at-least-32-chars'));
    await expect401(`Bearer ${token}`, 'token signature invalid');
    const [h, p] = (await hs(claims())).split('.');
    const tampered = `${h}.${b64url({ ...claims(), tenant: 'globex' })}.${(await hs(claims())).split('.')[2]}`;
    expect(p).not.toBe(tampered.split('.')[1]);
    await expect401(`Bearer ${tampered}`, 'token signature invalid');
  });

  it('401 for an expired token; the clock skew is bounded', async () => {
    await expect401(`Bearer ${await hs(claims({ exp: nowSeconds() - 120 }))}`, 'token expired');
    // Within the default 30 s tolerance.
    expect((await call(app, '/write', `Bearer ${await hs(claims({ exp: nowSeconds() - 5 }))}`)).status).toBe(
      200,
    );
  });

  it('401 without exp', async () => {
    const { exp: _, ...noExp } = claims();
    await expect401(`Bearer ${await hs(noExp)}`, 'token has no expiry (exp)');
  });

  it('401 when nbf is in the future', async () => {
    await expect401(`Bearer ${await hs(claims({ nbf: nowSeconds() + 120 }))}`, 'token not yet valid (nbf)');
  });

  it('401 for alg none', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims())}.`;
    await expect401(`Bearer ${token}`, 'token algorithm not allowed');
    await expect401(token, 'token algorithm not allowed');
  });

  it('401 for an RS256 token when only HS256 is allowed', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    await expect401(`Bearer ${token}`, 'token algorithm not allowed');
  });

  it('401 for an HS256 token signed with an RSA public key PEM (confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    await expect401(`Bearer ${await hs(claims(), pem)}`, 'token signature invalid');
  });

  it('401 for a wrong or missing issuer', async () => {
    await expect401(`Bearer ${await hs(claims({ iss: 'https://evil.test' }))}`, 'token issuer not accepted');
    const { iss: _, ...noIss } = claims();
    await expect401(`Bearer ${await hs(noIss)}`, 'token issuer not accepted');
  });

  it('401 for a wrong audience', async () => {
    await expect401(`Bearer ${await hs(claims({ aud: 'other-api' }))}`, 'token audience not accepted');
    expect((await call(app, '/write', `Bearer ${await hs(claims({ aud: ['x', AUD] }))}`)).status).toBe(200);
  });

  it('401 for a missing or malformed subject', async () => {
    const { sub: _, ...noSub } = claims();
    await expect401(`Bearer ${await hs(noSub)}`, 'token has no valid subject (sub)');
  });

  it('401 for a missing tenant and for a badly formed one', async () => {
    const { tenant: _, ...noTenant } = claims();
    await expect401(`Bearer ${await hs(noTenant)}`, 'token has no tenant claim (tenant)');
    for (const tenant of ['', 'Acme', 'acme!', '../etc', '-acme', 'a'.repeat(65), 42, ['acme']]) {
      await expect401(`Bearer ${await hs(claims({ tenant }))}`, 'token tenant claim (tenant) is invalid');
    }
    expect((await call(app, '/write', `Bearer ${await hs(claims({ tenant: 't_9a-b' }))}`)).status).toBe(200);
  });

  it('401 for a scope claim of the wrong type', async () => {
    await expect401(`Bearer ${await hs(claims({ scope: 7 }))}`, 'token scope claim is invalid');
    await expect401(
      `Bearer ${await hs(claims({ scope: undefined, scp: [1] }))}`,
      'token scp claim is invalid',
    );
  });

  it('403 for a valid token without the scope', async () => {
    const r = await call(app, '/read', `Bearer ${await hs(claims())}`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { code: 'forbidden', message: 'token lacks the scope events:read' } });
    expect(r.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="events:read"');
    const noScope = await hs(claims({ scope: undefined }));
    expect((await call(app, '/write', `Bearer ${noScope}`)).status).toBe(403);
  });

  it('401 for an oversized header and for several Authorization values', async () => {
    await expect401(`Bearer ${'a'.repeat(8200)}`, 'Authorization header too large');
    const token = await hs(claims());
    await expect401([`Bearer ${token}`, `Bearer ${token}`], 'multiple Authorization values');
  });

  it('issueToken produces tokens the verifier accepts, with iss/aud set', async () => {
    const token = await auth.issueToken({ subject: 'u', tenant: 'globex', scopes: ['events:read'] });
    expect(await auth.verify(token)).toEqual({ subject: 'u', tenant: 'globex', scopes: ['events:read'] });
    const r = await call(app, '/read', token);
    expect(r.status).toBe(200);
  });

  it('a viewer token round-trips its pins and minter; an empty pin list still marks it', async () => {
    const pins: [string, string][] = [
      ['user_id', 'alice'],
      ['details.k[in]', 'a,b'],
    ];
    const token = await auth.issueToken(
      { subject: 'viewer:alice', tenant: 'acme', scopes: ['events:read'], pins, actor: 'key:abc' },
      { ttlSeconds: 60 },
    );
    expect(await auth.verify(token)).toEqual({
      subject: 'viewer:alice',
      tenant: 'acme',
      scopes: ['events:read'],
      pins,
      actor: 'key:abc',
    });
    const empty = await auth.verify(
      await auth.issueToken({ subject: 'viewer:b', tenant: 'acme', scopes: ['events:read'], pins: [] }),
    );
    expect(empty.pins).toEqual([]);
    expect(auth.canIssueTokens).toBe(true);
  });

  it('401 for a pin claim that is not a bounded list of distinct string pairs, or a bad act', async () => {
    const bad: unknown[] = [
      'user_id=alice',
      [['user_id']],
      [['user_id', 1]],
      [['', 'x']],
      [['a'.repeat(257), 'x']],
      [['k', 'v'.repeat(1025)]],
      [
        ['k', 'a'],
        ['k', 'b'],
      ],
      Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']),
    ];
    for (const audit_filters of bad) {
      await expect401(
        `Bearer ${await hs(claims({ audit_filters }))}`,
        'token audit_filters claim is invalid',
      );
    }
    for (const act of ['key:x', { sub: 3 }, { sub: '' }]) {
      await expect401(`Bearer ${await hs(claims({ audit_filters: [], act }))}`, 'token act claim is invalid');
    }
  });
});

describe('configuration', () => {
  it('honours a custom tenant claim name', async () => {
    const auth = await createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_TENANT_CLAIM: 'https://x.test/tenant' });
    const token = await hs({
      sub: 's',
      'https://x.test/tenant': 'acme',
      scope: 'events:read',
      exp: nowSeconds() + 60,
    });
    expect(await auth.verify(token)).toEqual({ subject: 's', tenant: 'acme', scopes: ['events:read'] });
    expect(await auth.verify(await auth.issueToken({ subject: 'a', tenant: 'b', scopes: [] }))).toEqual({
      subject: 'a',
      tenant: 'b',
      scopes: [],
    });
  });

  it('parses the environment, treating empty values as unset', () => {
    const cfg = loadConfig(authConfigSchema, {
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWKS_URL: '',
      AUTH_ALGORITHMS: ' HS256 , HS512',
    });
    expect(cfg.AUTH_JWKS_URL).toBeUndefined();
    expect(cfg.AUTH_ALGORITHMS).toEqual(['HS256', 'HS512']);
    expect(cfg.AUTH_TOKEN_TTL_SECONDS).toBe(900);
    expect(cfg.AUTH_CLOCK_SKEW_SECONDS).toBe(30);
    expect(cfg.AUTH_TENANT_CLAIM).toBe('tenant');
  });

  it('rejects a short secret, alg none and unknown algorithms', () => {
    expect(() => loadConfig(authConfigSchema, { AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadConfig(authConfigSchema, { AUTH_ALGORITHMS: 'HS256,none' })).toThrow(/AUTH_ALGORITHMS/);
    expect(() => loadConfig(authConfigSchema, { AUTH_JWKS_URL: 'file:///etc/passwd' })).toThrow(
      /AUTH_JWKS_URL/,
    );
  });

  it('rejects combinations that cannot work', async () => {
    await expect(createAuth({})).rejects.toThrow(ConfigError);
    await expect(
      createAuth({ AUTH_ALGORITHMS: ['HS256'], AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' }),
    ).rejects.toThrow(/AUTH_JWT_SECRET is not set/);
    await expect(createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_ALGORITHMS: ['RS256'] })).rejects.toThrow(
      /AUTH_JWKS_URL is not set/,
    );
    await expect(
      createAuth({ AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks', AUTH_USERS_FILE: '/x.json' }),
    ).rejects.toThrow(/AUTH_USERS_FILE needs/);
  });

  it('issues tokens only when its own verifier accepts HS256', async () => {
    expect((await createAuth({ AUTH_JWT_SECRET: SECRET })).canIssueTokens).toBe(true);
    const jwksOnly = await createAuth({ AUTH_JWKS_URL: 'https://idp.test/jwks' });
    expect(jwksOnly.canIssueTokens).toBe(false);
    const noHs = await createAuth({
      AUTH_JWT_SECRET: SECRET,
      AUTH_JWKS_URL: 'https://idp.test/jwks',
      AUTH_ALGORITHMS: ['RS256'],
    });
    expect(noHs.canIssueTokens).toBe(false);
  });

  it('defaults the algorithms by key source', async () => {
    expect((await createAuth({ AUTH_JWT_SECRET: SECRET })).algorithms).toEqual(['HS256']);
    expect((await createAuth({ AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' })).algorithms).toEqual([
      'RS256',
      'ES256',
    ]);
  });
});

describe('key material', () => {
  let pem: Uint8Array;
  beforeAll(async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    pem = new TextEncoder().encode(await exportSPKI(publicKey));
  });
  it('a token signed with a public key as HMAC secret never verifies against the configured secret', async () => {
    const auth = await createAuth({ AUTH_JWT_SECRET: SECRET });
    await expect(
      auth.verify(await hs(claims({ iss: undefined, aud: undefined }), pem)),
    ).rejects.toMatchObject({
      status: 401,
      message: 'token signature invalid',
    });
  });
});

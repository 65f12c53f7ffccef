import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auth, createAuth } from './auth.ts';
import { b64url, call, nowSeconds, SECRET, testApp } from './test-app.ts';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

const claims = (over: JWTPayload = {}): JWTPayload => ({
  sub: 'idp-client',
  tenant: 'globex',
  scope: 'events:read',
  iss: 'https://idp.test',
  aud: 'audit',
  exp: nowSeconds() + 300,
  ...over,
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

describe('JWKS mode (RS256/ES256 from a local JWKS endpoint)', () => {
  let rsa: KeyPair;
  let ec: KeyPair;
  let server: Server;
  let fetches = 0;
  let auth: Auth;
  let app: ReturnType<typeof testApp>;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ];
    server = createServer((req, res) => {
      fetches++;
      if (req.url !== '/.well-known/jwks.json') return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    const port = await listen(server);
    auth = await createAuth({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_ISSUER: 'https://idp.test',
      AUTH_AUDIENCE: 'audit',
    });
    app = testApp(auth);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (alg: string, kid: string, key: KeyPair['privateKey'] | Uint8Array, payload = claims()) =>
    new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);

  it('accepts RS256 and ES256 tokens whose kid is in the JWKS, fetching the set once', async () => {
    const r1 = await call(app, '/read', `Bearer ${await sign('RS256', 'rsa-1', rsa.privateKey)}`);
    expect(r1.status).toBe(200);
    expect(r1.body).toEqual({ subject: 'idp-client', tenant: 'globex', scopes: ['events:read'] });
    const r2 = await call(app, '/read', await sign('ES256', 'ec-1', ec.privateKey));
    expect(r2.status).toBe(200);
    expect(fetches).toBe(1);
  });

  it('401 for an unknown kid', async () => {
    const r = await call(app, '/read', `Bearer ${await sign('RS256', 'rsa-2', rsa.privateKey)}`);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'unauthorized', message: 'token signing key not recognised' } });
  });

  it('401 for a known kid with the wrong key or a mismatched alg', async () => {
    const other = await generateKeyPair('RS256');
    const r = await call(app, '/read', `Bearer ${await sign('RS256', 'rsa-1', other.privateKey)}`);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'unauthorized', message: 'token signature invalid' } });
    // ES256 header pointing at the RSA key: no key of that type under the kid.
    const r2 = await call(app, '/read', `Bearer ${await sign('ES256', 'rsa-1', ec.privateKey)}`);
    expect(r2.status).toBe(401);
    expect(r2.body).toEqual({ error: { code: 'unauthorized', message: 'token signing key not recognised' } });
  });

  it('401 for HS256 signed with the RSA public key PEM (algorithm confusion)', async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const r = await call(app, '/read', `Bearer ${await sign('HS256', 'rsa-1', pem)}`);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'unauthorized', message: 'token algorithm not allowed' } });
  });

  it('401 for alg none and for an ES384 token outside the allowed list', async () => {
    const none = `${b64url({ alg: 'none', kid: 'rsa-1' })}.${b64url(claims())}.`;
    expect((await call(app, '/read', none)).body).toEqual({
      error: { code: 'unauthorized', message: 'token algorithm not allowed' },
    });
    const es384 = await sign('ES384', 'ec-1', (await generateKeyPair('ES384')).privateKey);
    expect((await call(app, '/read', es384)).body).toEqual({
      error: { code: 'unauthorized', message: 'token algorithm not allowed' },
    });
  });

  it('401 for wrong issuer/audience, 403 without the scope', async () => {
    const badIss = await sign('ES256', 'ec-1', ec.privateKey, claims({ iss: 'https://other.test' }));
    expect((await call(app, '/read', badIss)).body).toEqual({
      error: { code: 'unauthorized', message: 'token issuer not accepted' },
    });
    const badAud = await sign('ES256', 'ec-1', ec.privateKey, claims({ aud: 'someone-else' }));
    expect((await call(app, '/read', badAud)).body).toEqual({
      error: { code: 'unauthorized', message: 'token audience not accepted' },
    });
    const r = await call(app, '/write', await sign('ES256', 'ec-1', ec.privateKey));
    expect(r.status).toBe(403);
  });

  it('issueToken is unavailable without a secret', async () => {
    await expect(auth.issueToken({ subject: 'x', tenant: 'acme', scopes: [] })).rejects.toThrow(
      /AUTH_JWT_SECRET/,
    );
  });
});

describe('JWKS endpoint unavailable', () => {
  it('answers 503 with Retry-After, not 401', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const auth = await createAuth({
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
      AUTH_JWKS_TIMEOUT_MS: 2000,
    });
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(privateKey);
    const r = await call(testApp(auth), '/read', `Bearer ${token}`);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      error: { code: 'auth_unavailable', message: 'token signing keys are temporarily unavailable' },
    });
    expect(r.headers.get('retry-after')).toBe('5');
  });
});

describe('HS256 and JWKS together', () => {
  it('accepts HS256 only when listed, and then only with the secret', async () => {
    const server = createServer((_req, res) => res.writeHead(200).end(JSON.stringify({ keys: [] })));
    const port = await listen(server);
    try {
      const url = `http://127.0.0.1:${port}/jwks`;
      const both = await createAuth({
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWKS_URL: url,
        AUTH_ALGORITHMS: ['HS256', 'RS256'],
      });
      const token = await both.issueToken({ subject: 'dev', tenant: 'acme', scopes: ['events:write'] });
      expect(await both.verify(token)).toEqual({ subject: 'dev', tenant: 'acme', scopes: ['events:write'] });
      const jwksOnly = await createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: url });
      await expect(jwksOnly.verify(token)).rejects.toMatchObject({
        status: 401,
        message: 'token algorithm not allowed',
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

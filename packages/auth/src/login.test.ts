import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@audit/config';
import { createMetrics, rateLimitRefusals } from '@audit/http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from './auth.ts';
import { createCredentialGuard } from './credential-guard.ts';
import { hashPassword, type ParsedHash, verifyPassword } from './password.ts';
import { call, nowSeconds, SECRET, testApp } from './test-app.ts';
import { loadUsers } from './users.ts';

const FAST = { N: 1024, r: 8, p: 1 }; // cheap hashes keep the tests quick; production uses the defaults
const dir = mkdtempSync(join(tmpdir(), 'auth-login-'));
const DEV_USERS = fileURLToPath(new URL('../../../deploy/local/dev-users.json', import.meta.url));

function writeUsers(name: string, users: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(users));
  return path;
}

function post(app: ReturnType<typeof testApp>, body: string, contentType = 'application/json') {
  return app.request('/login', { method: 'POST', body, headers: { 'content-type': contentType } });
}

describe('POST /login', async () => {
  const usersFile = writeUsers('users.json', [
    {
      username: 'alice',
      password_hash: await hashPassword('s3cret', FAST),
      tenant: 'acme',
      scopes: ['events:write'],
    },
    {
      username: 'bob',
      password_hash: await hashPassword('hunter2', FAST),
      tenant: 'globex',
      scopes: ['events:read'],
    },
  ]);
  const auth = await createAuth({
    AUTH_JWT_SECRET: SECRET,
    AUTH_USERS_FILE: usersFile,
    AUTH_ISSUER: 'audit-dev',
    AUTH_AUDIENCE: 'audit',
    AUTH_TOKEN_TTL_SECONDS: 600,
  });
  const app = testApp(auth);

  it('issues a short-lived HS256 token carrying tenant and scopes, which then authorizes', async () => {
    const res = await post(app, JSON.stringify({ username: 'alice', password: 's3cret' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(600);
    expect(decodeProtectedHeader(body.token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({
      sub: 'alice',
      tenant: 'acme',
      scope: 'events:write',
      iss: 'audit-dev',
      aud: 'audit',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    expect(Math.abs((claims.iat as number) - nowSeconds())).toBeLessThanOrEqual(5);
    expect(await auth.verify(body.token)).toEqual({
      subject: 'alice',
      tenant: 'acme',
      scopes: ['events:write'],
    });
    expect((await call(app, '/write', `Bearer ${body.token}`)).status).toBe(200);
    expect((await call(app, '/write', body.token)).status).toBe(200);
    expect((await call(app, '/read', body.token)).status).toBe(403);
  });

  it('401 invalid_credentials for a wrong password and for an unknown user, with the same body', async () => {
    const expected = { error: { code: 'invalid_credentials', message: 'invalid username or password' } };
    const wrong = await post(app, JSON.stringify({ username: 'alice', password: 'hunter2' }));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual(expected);
    const unknown = await post(app, JSON.stringify({ username: 'mallory', password: 's3cret' }));
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(expected);
  });

  it('400 for malformed JSON and for missing or mistyped fields', async () => {
    const bad = await post(app, '{"username": "alice",');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: { code: 'invalid_json', message: 'login body is not valid JSON' },
    });
    const missing = await post(app, JSON.stringify({ username: 'alice' }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: { code: 'invalid_request', details: [{ path: 'password' }] },
    });
    for (const body of ['[]', 'null', '"x"', JSON.stringify({ username: 1, password: 's3cret' })]) {
      expect((await post(app, body)).status).toBe(400);
    }
  });

  it('415 for a non-JSON body, 413 beyond 4 KiB', async () => {
    const form = await post(app, 'username=alice&password=s3cret', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(await form.json()).toEqual({
      error: { code: 'unsupported_media_type', message: 'login body must be application/json' },
    });
    const big = await post(app, JSON.stringify({ username: 'alice', password: 'x'.repeat(5000) }));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      error: { code: 'payload_too_large', message: 'login body exceeds 4096 bytes' },
    });
  });

  it('accepts application/json with a charset', async () => {
    const res = await post(
      app,
      JSON.stringify({ username: 'bob', password: 'hunter2' }),
      'application/json; charset=utf-8',
    );
    expect(res.status).toBe(200);
  });
});

describe('login disabled or misconfigured', () => {
  it('404 not_found when no users file is configured', async () => {
    const app = testApp(await createAuth({ AUTH_JWT_SECRET: SECRET }));
    const res = await post(app, JSON.stringify({ username: 'acme-producer', password: 'devpass' }));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'login is disabled: no users configured' },
    });
  });

  it('404 for an empty users list', async () => {
    const app = testApp(
      await createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_USERS_FILE: writeUsers('empty.json', []) }),
    );
    expect((await post(app, JSON.stringify({ username: 'a', password: 'b' }))).status).toBe(404);
  });

  it('refuses a users file with bad entries at start-up', async () => {
    const hash = await hashPassword('x', FAST);
    const cases: [unknown, RegExp][] = [
      [{ users: [] }, /\(root\)/],
      [[{ username: 'a', password_hash: hash, tenant: 'Acme', scopes: [] }], /0\.tenant/],
      [[{ username: 'a', password_hash: 'plain', tenant: 'acme', scopes: [] }], /0\.password_hash/],
      [[{ username: 'a', password_hash: hash, tenant: 'acme', scopes: [], admin: true }], /admin/],
      [
        [
          { username: 'a', password_hash: hash, tenant: 'acme', scopes: [] },
          { username: 'a', password_hash: hash, tenant: 'acme', scopes: [] },
        ],
        /duplicate username at 1/,
      ],
      [
        [
          {
            username: 'a',
            password_hash: 'scrypt$1048576$64$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
            tenant: 'acme',
            scopes: [],
          },
        ],
        /r must be/,
      ],
    ];
    for (const [i, [users, message]] of cases.entries()) {
      const p = createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_USERS_FILE: writeUsers(`bad-${i}.json`, users) });
      await expect(p).rejects.toThrow(ConfigError);
      await expect(p).rejects.toThrow(message);
    }
    await expect(
      createAuth({ AUTH_JWT_SECRET: SECRET, AUTH_USERS_FILE: join(dir, 'absent.json') }),
    ).rejects.toThrow(ConfigError);
  });
});

describe('user store', () => {
  it('does the scrypt work for unknown users too (against a decoy with the same cost)', async () => {
    const file = writeUsers('spy.json', [
      { username: 'alice', password_hash: await hashPassword('s3cret', FAST), tenant: 'acme', scopes: [] },
    ]);
    const seen: ParsedHash[] = [];
    const users = await loadUsers(file, (password, hash) => {
      seen.push(hash);
      return verifyPassword(password, hash);
    });
    expect(await users.check('nobody', 's3cret')).toBeUndefined();
    expect(await users.check('alice', 'wrong')).toBeUndefined();
    expect(await users.check('alice', 's3cret')).toEqual({ subject: 'alice', tenant: 'acme', scopes: [] });
    expect(seen).toHaveLength(3);
    expect(seen[0]?.params).toEqual(FAST);
    expect(seen[0]?.salt.equals(seen[1]?.salt as Buffer)).toBe(false);
  });
});

describe('deploy/local/dev-users.json', () => {
  let users: Awaited<ReturnType<typeof loadUsers>>;
  beforeAll(async () => {
    users = await loadUsers(DEV_USERS);
  });

  it('has the five documented dev users with password devpass', async () => {
    expect(users.size).toBe(5);
    expect(await users.check('acme-producer', 'devpass')).toEqual({
      subject: 'acme-producer',
      tenant: 'acme',
      scopes: ['events:write'],
    });
    expect(await users.check('globex-producer', 'devpass')).toEqual({
      subject: 'globex-producer',
      tenant: 'globex',
      scopes: ['events:write'],
    });
    expect(await users.check('acme-analyst', 'devpass')).toEqual({
      subject: 'acme-analyst',
      tenant: 'acme',
      scopes: ['events:read'],
    });
    expect(await users.check('globex-analyst', 'devpass')).toEqual({
      subject: 'globex-analyst',
      tenant: 'globex',
      scopes: ['events:read'],
    });
    expect(await users.check('acme-streams', 'devpass')).toEqual({
      subject: 'acme-streams',
      tenant: 'acme',
      scopes: ['streams:manage'],
    });
    expect(await users.check('acme-analyst', 'devpass ')).toBeUndefined();
  });
});

describe('POST /login brute-force limits', async () => {
  const usersFile = writeUsers('guarded.json', [
    {
      username: 'alice',
      password_hash: await hashPassword('s3cret', FAST),
      tenant: 'acme',
      scopes: ['events:write'],
    },
    {
      username: 'bob',
      password_hash: await hashPassword('hunter2', FAST),
      tenant: 'acme',
      scopes: ['events:write'],
    },
  ]);
  const window = 600;
  const auth = await createAuth(
    { AUTH_JWT_SECRET: SECRET, AUTH_USERS_FILE: usersFile },
    {
      guard: createCredentialGuard({
        perIp: { ratePerSecond: 4 / window, burst: 4 },
        perUser: { ratePerSecond: 2 / window, burst: 2 },
        maxKeys: 100,
        refusals: rateLimitRefusals(createMetrics('login-test', false).registry),
      }),
      // The address comes from X-Forwarded-For here: app.request has no socket.
      trustProxyHops: 1,
    },
  );
  const app = testApp(auth);
  const login = (username: string, password: string, ip: string) =>
    app.request('/login', {
      method: 'POST',
      body: JSON.stringify({ username, password }),
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    });

  it('after the failures of a name: 429 with Retry-After, even with the right password; other names log in', async () => {
    expect((await login('alice', 'wrong', '198.51.100.1')).status).toBe(401);
    expect((await login('alice', 'wrong', '198.51.100.2')).status).toBe(401);
    const locked = await login('alice', 's3cret', '198.51.100.3');
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBe(window / 2);
    expect(((await locked.json()) as { error: { code: string } }).error.code).toBe('too_many_attempts');
    expect((await login('bob', 'hunter2', '198.51.100.3')).status).toBe(200);
  });

  it('after the failures of an address: 429 for any name from it; another address logs in', async () => {
    for (const name of ['nobody-1', 'nobody-2', 'nobody-3', 'nobody-4']) {
      expect((await login(name, 'guess', '203.0.113.9')).status).toBe(401);
    }
    expect((await login('bob', 'hunter2', '203.0.113.9')).status).toBe(429);
    expect((await login('bob', 'hunter2', '203.0.113.10')).status).toBe(200);
  });

  it('successful logins are never limited', async () => {
    for (let i = 0; i < 10; i++) expect((await login('bob', 'hunter2', '192.0.2.1')).status).toBe(200);
  });
});

import { createAuth } from '@audit/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../../packages/http/src/index.ts';
import { createApp } from '../../services/ingest-api/src/app.ts';
import { DEFAULT_LIMITS, RETENTION_DAYS, SECRET } from '../../services/ingest-api/test/helpers.ts';
import { expectError, Tally } from './harness.ts';
import { AUDIENCE, type IngestContext, ingestContext } from './ingest-context.ts';
import {
  b64url,
  claims,
  ecdsa,
  ecKeys,
  hmac,
  nowSeconds,
  rsa,
  rsaKeys,
  serveJwks,
  swapPayload,
  unsigned,
} from './jwt.ts';

/** What a case's token or header is built from. */
interface Keys {
  tenant: string;
  victim: string;
  /** Valid claims for the HS256 app (right tenant, scope and audience). */
  good(over?: Record<string, unknown>): Record<string, unknown>;
  server: ReturnType<typeof rsaKeys>;
  serverEc: ReturnType<typeof ecKeys>;
  attacker: ReturnType<typeof rsaKeys>;
  attackerEc: ReturnType<typeof ecKeys>;
  attackerJwksUrl: string;
}

interface AuthCase {
  category: 'jwt_attack' | 'header_abuse' | 'jwt_attack_jwks';
  name: string;
  status: 401 | 403;
  code: 'unauthorized' | 'forbidden';
  /** The whole Authorization header value, or undefined for none. */
  authorization(k: Keys): string | undefined;
}

const HS = { alg: 'HS256', typ: 'JWT' };
const bearer = (t: string) => `Bearer ${t}`;
const u = (k: Keys, over?: Record<string, unknown>) => k.good(over);

const hsCases: AuthCase[] = [
  // alg none and its spellings: never accepted, with or without a signature.
  {
    category: 'jwt_attack',
    name: 'alg none, empty signature',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(unsigned({ alg: 'none', typ: 'JWT' }, u(k))),
  },
  {
    category: 'jwt_attack',
    name: 'alg none, HS256 signature kept',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(`${unsigned({ alg: 'none' }, u(k))}${hmac(HS, u(k), SECRET).split('.')[2]}`),
  },
  {
    category: 'jwt_attack',
    name: 'alg None',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(unsigned({ alg: 'None' }, u(k))),
  },
  {
    category: 'jwt_attack',
    name: 'alg NONE',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(unsigned({ alg: 'NONE' }, u(k))),
  },
  {
    category: 'jwt_attack',
    name: 'alg nOnE, bare header',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => unsigned({ alg: 'nOnE' }, u(k)),
  },
  {
    category: 'jwt_attack',
    name: 'no alg at all',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac({ typ: 'JWT' }, u(k), SECRET)),
  },
  // Signatures and tampering.
  {
    category: 'jwt_attack',
    name: 'HS256 with a wrong secret',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k), 'not-the-secret-but-also-32-chars-long!!')),
  },
  {
    category: 'jwt_attack',
    name: 'HS256 with an empty secret',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k), '')),
  },
  {
    category: 'jwt_attack',
    name: 'tampered payload: tenant switched to the victim',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(swapPayload(hmac(HS, u(k), SECRET), u(k, { tenant: k.victim }))),
  },
  {
    category: 'jwt_attack',
    name: 'tampered payload: write scope added to a read token',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(swapPayload(hmac(HS, u(k, { scope: 'events:read' }), SECRET), u(k))),
  },
  {
    category: 'jwt_attack',
    name: 'tampered payload: expiry extended',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(
        swapPayload(
          hmac(HS, u(k, { exp: nowSeconds() - 3600 }), SECRET),
          u(k, { exp: nowSeconds() + 86_400 }),
        ),
      ),
  },
  {
    category: 'jwt_attack',
    name: 'tampered header: HS256 signature labelled HS512',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => {
      const [, p, s] = hmac(HS, u(k), SECRET).split('.');
      return bearer(`${b64url({ alg: 'HS512' })}.${p}.${s}`);
    },
  },
  {
    category: 'jwt_attack',
    name: 'signature truncated',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k), SECRET).slice(0, -4)),
  },
  {
    category: 'jwt_attack',
    name: 'signature removed',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(`${hmac(HS, u(k), SECRET).split('.').slice(0, 2).join('.')}.`),
  },
  // Time claims.
  {
    category: 'jwt_attack',
    name: 'expired an hour ago',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { exp: nowSeconds() - 3600 }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'expired beyond the clock skew',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { exp: nowSeconds() - 120 }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'nbf an hour in the future',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { nbf: nowSeconds() + 3600 }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'no exp',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { exp: undefined }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'exp as a string',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { exp: String(nowSeconds() + 600) }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'wrong audience',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { aud: 'some-other-api' }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'no audience',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { aud: undefined }), SECRET)),
  },
  // Algorithms this server does not accept.
  {
    category: 'jwt_attack',
    name: 'RS256 signed by an attacker key',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack',
    name: 'ES256 signed by an attacker key',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(ecdsa({ alg: 'ES256' }, u(k), k.attackerEc.privateKey)),
  },
  {
    category: 'jwt_attack',
    name: 'HS384 with the right secret (not an accepted alg)',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac({ alg: 'HS384' }, u(k), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'embedded jwk header with an attacker key',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(
        rsa(
          { alg: 'RS256', jwk: k.attacker.publicKey.export({ format: 'jwk' }) },
          u(k),
          k.attacker.privateKey,
        ),
      ),
  },
  {
    category: 'jwt_attack',
    name: 'unknown crit extension',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac({ alg: 'HS256', crit: ['x-evil'], 'x-evil': 1 }, u(k), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'unencoded payload (b64: false)',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac({ alg: 'HS256', b64: false, crit: ['b64'] }, u(k), SECRET)),
  },
  // Malformed parts, validly signed.
  {
    category: 'jwt_attack',
    name: 'payload is not JSON',
    status: 401,
    code: 'unauthorized',
    authorization: () => bearer(hmac(HS, 'hello', SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'payload is a JSON array',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, [u(k)], SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'header is not JSON',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(`${b64url('HS256')}.${b64url(u(k))}.${'A'.repeat(43)}`),
  },
  // Claims that name the wrong tenant or no usable principal.
  {
    category: 'jwt_attack',
    name: 'no tenant claim',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { tenant: undefined }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'tenant claim with SQL',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { tenant: `${k.tenant}' OR '1'='1` }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'tenant claim is an array of two tenants',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { tenant: [k.tenant, k.victim] }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'tenant claim is an object',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { tenant: { id: k.tenant } }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'tenant claim is a wildcard',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { tenant: '*' }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'no subject',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { sub: undefined }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'scope claim is a number',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k, { scope: 7 }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'read-only token writing',
    status: 403,
    code: 'forbidden',
    authorization: (k) => bearer(hmac(HS, u(k, { scope: 'events:read' }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'no scope at all',
    status: 403,
    code: 'forbidden',
    authorization: (k) => bearer(hmac(HS, u(k, { scope: undefined }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'wildcard-looking scope',
    status: 403,
    code: 'forbidden',
    authorization: (k) => bearer(hmac(HS, u(k, { scope: 'events:* admin' }), SECRET)),
  },
  {
    category: 'jwt_attack',
    name: 'scope with a suffix',
    status: 403,
    code: 'forbidden',
    authorization: (k) => bearer(hmac(HS, u(k, { scope: 'events:writer' }), SECRET)),
  },

  // The Authorization header itself.
  {
    category: 'header_abuse',
    name: 'no Authorization',
    status: 401,
    code: 'unauthorized',
    authorization: () => undefined,
  },
  {
    category: 'header_abuse',
    name: 'empty Authorization',
    status: 401,
    code: 'unauthorized',
    authorization: () => '',
  },
  {
    category: 'header_abuse',
    name: '"Bearer" alone',
    status: 401,
    code: 'unauthorized',
    authorization: () => 'Bearer',
  },
  {
    category: 'header_abuse',
    name: '"Bearer" and spaces',
    status: 401,
    code: 'unauthorized',
    authorization: () => 'Bearer    ',
  },
  {
    category: 'header_abuse',
    name: 'Basic credentials',
    status: 401,
    code: 'unauthorized',
    authorization: () => 'Basic YWNtZS1wcm9kdWNlcjpkZXZwYXNz',
  },
  {
    category: 'header_abuse',
    name: 'another scheme with a valid token',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => `Token ${hmac(HS, u(k), SECRET)}`,
  },
  {
    category: 'header_abuse',
    name: 'two tokens in one header (comma)',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      `Bearer ${hmac(HS, u(k), SECRET)}, Bearer ${hmac(HS, u(k, { tenant: k.victim }), SECRET)}`,
  },
  {
    category: 'header_abuse',
    name: 'two tokens in one header (space)',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => `Bearer ${hmac(HS, u(k), SECRET)} ${hmac(HS, u(k), SECRET)}`,
  },
  {
    category: 'header_abuse',
    name: '12 KiB Authorization',
    status: 401,
    code: 'unauthorized',
    authorization: () => `Bearer ${'a'.repeat(12 * 1024)}`,
  },
  {
    category: 'header_abuse',
    name: 'four-part token',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(`${hmac(HS, u(k), SECRET)}.extra`),
  },
  {
    category: 'header_abuse',
    name: 'two-part token',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k), SECRET).split('.').slice(0, 2).join('.')),
  },
  {
    category: 'header_abuse',
    name: 'standard base64 characters in a token',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(`${hmac(HS, u(k), SECRET)}+/=`),
  },
  {
    category: 'header_abuse',
    name: 'latin1 bytes in the header',
    status: 401,
    code: 'unauthorized',
    authorization: () => 'Bearer \u00ff\u00fe.\u00e9.x',
  },
  {
    category: 'header_abuse',
    name: 'SQL in the header',
    status: 401,
    code: 'unauthorized',
    authorization: () => "Bearer ' OR 1=1 --",
  },
];

/** A server configured for an identity provider (RS256/ES256 via JWKS), as in production. */
const jwksCases: AuthCase[] = [
  {
    category: 'jwt_attack_jwks',
    name: 'HS256 signed with the public key PEM (alg confusion)',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(hmac(HS, u(k), k.server.publicKey.export({ type: 'spki', format: 'pem' }) as string)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'HS256 signed with the public JWK text',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(hmac({ ...HS, kid: 'k1' }, u(k), JSON.stringify(k.server.publicKey.export({ format: 'jwk' })))),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'HS256 signed with the public key DER',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(hmac(HS, u(k), k.server.publicKey.export({ type: 'spki', format: 'der' }))),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'alg none',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(unsigned({ alg: 'none', kid: 'k1' }, u(k))),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'foreign kid',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256', kid: 'attacker' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'known kid, attacker signature',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256', kid: 'k1' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'no kid, attacker signature',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'kid with path traversal',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(rsa({ alg: 'RS256', kid: '../../../../etc/passwd' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'kid with SQL',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256', kid: "' OR 1=1 --" }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'jku pointing at an attacker JWKS',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(rsa({ alg: 'RS256', kid: 'attacker', jku: k.attackerJwksUrl }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'x5u pointing at an attacker certificate',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(rsa({ alg: 'RS256', kid: 'attacker', x5u: k.attackerJwksUrl }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'embedded jwk with the attacker key',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(
        rsa(
          { alg: 'RS256', jwk: k.attacker.publicKey.export({ format: 'jwk' }) },
          u(k),
          k.attacker.privateKey,
        ),
      ),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'ES256 with the EC kid, attacker signature',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(ecdsa({ alg: 'ES256', kid: 'e1' }, u(k), k.attackerEc.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'RS256 naming the EC kid',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'RS256', kid: 'e1' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'PS256 (not an accepted alg) with the server kid',
    status: 401,
    code: 'unauthorized',
    authorization: (k) => bearer(rsa({ alg: 'PS256', kid: 'k1' }, u(k), k.attacker.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'valid RS256 signature, tampered tenant',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(
        swapPayload(rsa({ alg: 'RS256', kid: 'k1' }, u(k), k.server.privateKey), u(k, { tenant: k.victim })),
      ),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'valid RS256 signature, expired',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(rsa({ alg: 'RS256', kid: 'k1' }, u(k, { exp: nowSeconds() - 3600 }), k.server.privateKey)),
  },
  {
    category: 'jwt_attack_jwks',
    name: 'valid RS256 signature, nbf in the future',
    status: 401,
    code: 'unauthorized',
    authorization: (k) =>
      bearer(rsa({ alg: 'RS256', kid: 'k1' }, u(k, { nbf: nowSeconds() + 3600 }), k.server.privateKey)),
  },
];

/** POST /login (dev users file configured): [name, content-type, body, status, code]. */
const loginCases: [string, string | undefined, string, number, string][] = [
  [
    'wrong password',
    'application/json',
    '{"username":"acme-producer","password":"nope"}',
    401,
    'invalid_credentials',
  ],
  [
    'unknown user',
    'application/json',
    '{"username":"root","password":"devpass"}',
    401,
    'invalid_credentials',
  ],
  [
    'SQL in the username',
    'application/json',
    '{"username":"acme-producer\' --","password":"x"}',
    401,
    'invalid_credentials',
  ],
  [
    'NUL in the username',
    'application/json',
    '{"username":"acme-producer\\u0000","password":"devpass"}',
    401,
    'invalid_credentials',
  ],
  ['missing password', 'application/json', '{"username":"acme-producer"}', 400, 'invalid_request'],
  ['username is a number', 'application/json', '{"username":1,"password":"devpass"}', 400, 'invalid_request'],
  [
    'password is an array',
    'application/json',
    '{"username":"acme-producer","password":["devpass"]}',
    400,
    'invalid_request',
  ],
  ['empty object', 'application/json', '{}', 400, 'invalid_request'],
  [
    'array body',
    'application/json',
    '[{"username":"acme-producer","password":"devpass"}]',
    400,
    'invalid_request',
  ],
  [
    '__proto__ carrying the credentials',
    'application/json',
    '{"__proto__":{"username":"acme-producer","password":"devpass"}}',
    400,
    'invalid_request',
  ],
  ['malformed JSON', 'application/json', '{"username":', 400, 'invalid_json'],
  ['empty body', 'application/json', '', 400, 'invalid_json'],
  [
    'text/plain',
    'text/plain',
    '{"username":"acme-producer","password":"devpass"}',
    415,
    'unsupported_media_type',
  ],
  [
    'no Content-Type',
    undefined,
    '{"username":"acme-producer","password":"devpass"}',
    415,
    'unsupported_media_type',
  ],
  [
    '5 KiB body',
    'application/json',
    `{"username":"acme-producer","password":"${'x'.repeat(5000)}"}`,
    413,
    'payload_too_large',
  ],
  [
    'username of 129 characters',
    'application/json',
    `{"username":"${'u'.repeat(129)}","password":"x"}`,
    400,
    'invalid_request',
  ],
  [
    'password of 1,025 characters',
    'application/json',
    `{"username":"acme-producer","password":"${'p'.repeat(1025)}"}`,
    400,
    'invalid_request',
  ],
  ['2,000-deep JSON', 'application/json', `${'['.repeat(2000)}${']'.repeat(2000)}`, 400, 'invalid_request'],
];

const tally = new Tally('auth, headers and login (ingest-api)');
let ctx: IngestContext;
let keys: Keys;
let jwksApp: ReturnType<typeof createApp>;
let mixedApp: ReturnType<typeof createApp>;
let validRs: string;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  ctx = await ingestContext();
  const server = rsaKeys();
  const serverEc = ecKeys();
  const attacker = rsaKeys();
  const attackerEc = ecKeys();
  const jwks = await serveJwks([
    { kid: 'k1', alg: 'RS256', key: server.publicKey },
    { kid: 'e1', alg: 'ES256', key: serverEc.publicKey },
  ]);
  const evil = await serveJwks([{ kid: 'attacker', alg: 'RS256', key: attacker.publicKey }]);
  closers.push(jwks.close, evil.close);
  keys = {
    tenant: ctx.tenant,
    victim: ctx.victim,
    good: (over = {}) => claims(ctx.tenant, 'events:write', { aud: AUDIENCE, ...over }),
    server,
    serverEc,
    attacker,
    attackerEc,
    attackerJwksUrl: evil.url,
  };
  validRs = rsa({ alg: 'RS256', kid: 'k1' }, keys.good(), server.privateKey);
  const deps = (auth: Awaited<ReturnType<typeof createAuth>>) => ({
    logger: createLogger('hostile-test', 'silent'),
    httpMetrics: createMetrics('ingest-api', false),
    metrics: ctx.app.metrics,
    auth,
    publisher: ctx.app.publisher,
    resends: ctx.app.resends,
    retentionDays: RETENTION_DAYS,
    limits: DEFAULT_LIMITS,
  });
  jwksApp = createApp(
    deps(
      await createAuth({
        AUTH_JWKS_URL: jwks.url,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_ALGORITHMS: ['RS256', 'ES256'],
      }),
    ),
  );
  // Both an HMAC secret and a JWKS: the configuration where alg confusion would bite.
  mixedApp = createApp(
    deps(
      await createAuth({
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWKS_URL: jwks.url,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_ALGORITHMS: ['HS256', 'RS256'],
      }),
    ),
  );
});

afterAll(async () => {
  tally.print();
  for (const c of closers) await c();
  await ctx?.close();
});

const postWith = (app: ReturnType<typeof createApp>, authorization: string | undefined, body: string) =>
  app.request('/events', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: Buffer.from(body),
  });

describe('JWT attacks and Authorization header abuse on POST /events (HS256 server)', () => {
  it.each(hsCases.map((c) => [`${c.category}: ${c.name}`, c] as const))('%s', async (label, c) => {
    tally.add(c.category);
    const body = await expectError(
      label,
      await postWith(ctx.app.app, c.authorization(keys), ctx.eventText()),
      c,
    );
    expect(body.error.message).not.toContain(SECRET);
    await ctx.probe(label);
  });
});

describe('JWT attacks on a JWKS (RS256/ES256) server', () => {
  it('accepts a genuine RS256 token (control: the JWKS server works)', async () => {
    const res = await postWith(jwksApp, bearer(validRs), ctx.eventText());
    expect(res.status).toBe(202);
    ctx.recordProbe(((await res.json()) as { event_ids: string[] }).event_ids[0]!);
  });

  it.each(jwksCases.map((c) => [`${c.category}: ${c.name}`, c] as const))('%s', async (label, c) => {
    tally.add(c.category);
    await expectError(label, await postWith(jwksApp, c.authorization(keys), ctx.eventText()), c);
    // The same token against a server that also accepts HS256 with its own secret.
    await expectError(
      `${label} (HS256+RS256 server)`,
      await postWith(mixedApp, c.authorization(keys), ctx.eventText()),
      c,
    );
    const res = await postWith(jwksApp, bearer(validRs), ctx.eventText());
    expect(res.status, `probe after ${label}`).toBe(202);
    ctx.recordProbe(((await res.json()) as { event_ids: string[] }).event_ids[0]!);
  });
});

describe('POST /login abuse', () => {
  it.each(loginCases)('login: %s', async (name, contentType, body, status, code) => {
    tally.add('login');
    const res = await ctx.app.app.request('/login', {
      method: 'POST',
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      body: Buffer.from(body),
    });
    const err = await expectError(`login: ${name}`, res, { status, code });
    expect(JSON.stringify(err)).not.toMatch(/scrypt|password_hash/);
    await ctx.probe(`login: ${name}`);
  });

  it('still logs in a real user, and that token cannot write for another tenant', async () => {
    const res = await ctx.app.app.request('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username":"acme-producer","password":"devpass"}',
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };
    tally.add('cross_tenant_write');
    const cross = await postWith(
      ctx.app.app,
      bearer(token),
      ctx.eventText({ members: '"tenant_id":"globex"' }),
    );
    await expectError('acme login token writing tenant_id globex', cross, {
      status: 403,
      code: 'tenant_mismatch',
    });
  });
});

describe('nothing written', () => {
  it('the topic holds only the probes', async () => {
    expect(tally.total).toBeGreaterThanOrEqual(90);
    await ctx.expectOnlyProbes();
  });
});

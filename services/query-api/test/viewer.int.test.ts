import type { ClickHouseClient } from '@audit/clickhouse';
import { type ApiAuth, generateKey, startApiAuth } from '@audit/credentials';
import { createLogger, createMetrics } from '@audit/http';
import { type Kafka, stackKafka } from '@audit/kafka';
import type { AuditEvent } from '@audit/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryConfig } from '../src/config.ts';
import {
  adminClient,
  CURSOR_SECRET,
  cfg,
  dropTable,
  ensureTable,
  insertEvents,
  makeApp,
  makeEvent,
  newTenant,
  qs,
  TEST_SECRET,
  type TestApp,
  topicRecords,
} from './helpers.ts';

/**
 * Viewer tokens on the real stack: a host's API key (credentials store in ClickHouse, revocations
 * polled) mints a token for one end user pinned to `user_id=alice`; every read endpoint answers
 * within the pins whatever the viewer asks, and revoking the host's key ends the viewer token.
 */
const A = newTenant();
const B = newTenant();
const BASE = Date.now() - 3600_000;
const HOST_ORIGIN = 'https://host.example';
const logger = createLogger('viewer-test', 'silent');

const alice = Array.from({ length: 5 }, (_, i) =>
  makeEvent(A, BASE + i * 1000, { user_id: 'alice', resource_id: `r${i}`, event_details: { n: i } }),
);
const bob = Array.from({ length: 4 }, (_, i) =>
  makeEvent(A, BASE + 500 + i * 1000, { user_id: 'bob', resource_id: `r${i}` }),
);
// Records of the service's own in the table: access_records=include must still honour the pins.
const audits = [
  makeEvent(A, BASE + 9000, { event_type: 'audit.log.viewed', user_id: 'alice', source: 'audit-log' }),
  makeEvent(A, BASE + 9001, { event_type: 'audit.log.viewed', user_id: 'bob', source: 'audit-log' }),
];
const foreign = makeEvent(B, BASE, { user_id: 'alice' });
const aliceIds = alice.map((e) => e.event_id);

let admin: ClickHouseClient;
let apiAuth: ApiAuth;
let t: TestApp;
let kafka: Kafka;
let hostKey: { id: string; key: string };
let writeKey: { id: string; key: string };

async function addKey(tenant: string, scopes: string[]) {
  const k = generateKey();
  await apiAuth.credentials.store!.addKey({
    keyId: k.id,
    tenant,
    name: `viewer-test-${scopes.join('-')}`,
    scopes,
    secretHash: k.secretHash,
    expiresAt: null,
    actor: 'viewer-test',
    at: new Date(),
  });
  return { id: k.id, key: k.key };
}

async function keyToken(k: { id: string; key: string }): Promise<string> {
  const res = await t.app.request('/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${k.id}:${k.key}`).toString('base64')}`,
    },
    body: 'grant_type=client_credentials',
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Minted {
  token: string;
  token_type: string;
  expires_at: string;
  expires_in: number;
  filters: Record<string, string>;
}

async function mint(bearer: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await t.app.request('/viewer/tokens', {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Minted & ErrorBody };
}

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

const as = async (token: string, path: string, headers: Record<string, string> = {}) =>
  t.app.request(path, { headers: { authorization: `Bearer ${token}`, ...headers } });
const listed = async (token: string, path: string) => {
  const res = await as(token, path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as { events: AuditEvent[]; next_cursor: string | null };
};
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

let hostToken: string;
let viewer: string;

beforeAll(async () => {
  kafka = stackKafka(cfg, 'viewer-test', { logger });
  admin = adminClient();
  await ensureTable();
  await insertEvents(admin, [...alice, ...bob, ...audits, foreign]);
  const config = loadQueryConfig({
    ...process.env,
    AUTH_JWT_SECRET: TEST_SECRET,
    QUERY_CURSOR_SECRET: CURSOR_SECRET,
    CREDENTIALS_POLL_INTERVAL_MS: '200',
  });
  apiAuth = await startApiAuth(config, { logger, registry: createMetrics('viewer-test', false).registry });
  t = await makeApp({
    auth: apiAuth.auth,
    credentialRoutes: apiAuth.credentials.routes(apiAuth.auth),
    config: {
      QUERY_VIEWER_TOKEN_TTL_SECONDS: 600,
      QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS: 1200,
      QUERY_CORS_ORIGINS: [HOST_ORIGIN],
    },
  });
  hostKey = await addKey(A, ['events:read', 'events:write']);
  writeKey = await addKey(A, ['events:write']);
  hostToken = await keyToken(hostKey);
  const m = await mint(hostToken, { subject: 'end-user-1', filters: { user_id: 'alice' } });
  expect(m.status).toBe(201);
  viewer = m.body.token;
}, 60_000);

afterAll(async () => {
  await t?.close();
  await apiAuth?.credentials.close();
  await admin?.close();
  await dropTable();
});

describe('POST /viewer/tokens', () => {
  it('a tenant key-token mints a read-only token for the end user, pinned, carrying the key id', async () => {
    const before = Math.floor(Date.now() / 1000);
    const m = await mint(hostToken, {
      subject: 'end-user-2',
      ttl_seconds: 120,
      filters: { 'details.n[gte]': '1', user_id: 'alice' },
    });
    expect(m.status).toBe(201);
    expect(m.headers.get('cache-control')).toBe('no-store');
    expect(m.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 120,
      filters: { 'details.n[gte]': '1', user_id: 'alice' },
    });
    const c = claimsOf(m.body.token);
    expect(c).toMatchObject({
      sub: 'viewer:end-user-2',
      tenant: A,
      scope: 'events:read',
      key_id: hostKey.id,
      act: { sub: `key:${hostKey.id}` },
      audit_filters: [
        ['details.n[gte]', '1'],
        ['user_id', 'alice'],
      ],
    });
    expect((c.exp as number) - before).toBeGreaterThanOrEqual(119);
    expect((c.exp as number) - before).toBeLessThanOrEqual(121);
    expect(Date.parse(m.body.expires_at) / 1000).toBe(c.exp);
    // Both pins hold: alice's events with n ≥ 1.
    const page = await listed(m.body.token, '/events?order=asc');
    expect(page.events.map((e) => e.event_id)).toEqual(aliceIds.slice(1));
  });

  it('the default lifetime is the configured one; filters omitted still make a viewer token', async () => {
    // A caller living longer than the default (a key-token lives 300 s and would cap it).
    const longHost = await apiAuth.auth.issueToken(
      { subject: 'host-app', tenant: A, scopes: ['events:read'] },
      { ttlSeconds: 3600 },
    );
    const m = await mint(longHost, { subject: 'end-user-3' });
    expect(m.status).toBe(201);
    expect(m.body.expires_in).toBe(600);
    expect(m.body.filters).toEqual({});
    expect(claimsOf(m.body.token).audit_filters).toEqual([]);
    // Unpinned, it reads the whole tenant, but it is still a viewer: it cannot mint.
    expect((await listed(m.body.token, '/events?limit=1000')).events).toHaveLength(alice.length + bob.length);
    expect((await as(m.body.token, '/leaves')).status).not.toBe(403);
    const again = await mint(m.body.token, { subject: 'x' });
    expect(again.status).toBe(403);
  });

  it('the minting is recorded in the tenant’s trail, and the viewer’s reads name it and its minter', async () => {
    const before = (await topicRecords(kafka, t.accessTopic)).length;
    const m = await mint(hostToken, { subject: 'end-user-4', filters: { user_id: 'alice' } });
    expect(m.status).toBe(201);
    expect((await as(m.body.token, '/events?limit=1')).status).toBe(200);
    const got = (await topicRecords(kafka, t.accessTopic)).slice(before);
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({
      event_type: 'audit.viewer_token.created',
      tenant_id: A,
      user_id: `key:${hostKey.id}`,
      actor_type: 'api_key',
      action: 'create',
      resource_type: 'viewer_token',
      resource_id: claimsOf(m.body.token).jti,
      event_details: {
        key_id: hostKey.id,
        viewer_subject: 'end-user-4',
        pins: [['user_id', 'alice']],
        expires_at: m.body.expires_at,
      },
    });
    expect(got[1]).toMatchObject({
      event_type: 'audit.log.viewed',
      user_id: 'viewer:end-user-4',
      actor_type: 'viewer',
      event_details: {
        endpoint: 'GET /events',
        key_id: hostKey.id,
        minted_by: `key:${hostKey.id}`,
        pins: [['user_id', 'alice']],
        rows: 1,
      },
    });
  });

  it('refuses a viewer token (403), a write-only token (403) and no token (401)', async () => {
    const byViewer = await mint(viewer, { subject: 'x' });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.error).toEqual({ code: 'forbidden', message: 'a viewer token cannot mint tokens' });
    const writeOnly = await mint(await keyToken(writeKey), { subject: 'x' });
    expect(writeOnly.status).toBe(403);
    expect(writeOnly.body.error.message).toBe('token lacks the scope events:read');
    const res = await t.app.request('/viewer/tokens', { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });

  it('400 naming the field for a bad body, an over-long lifetime and an unknown filter field', async () => {
    const fieldOf = async (body: unknown) => {
      const m = await mint(hostToken, body);
      expect(m.status, JSON.stringify(body)).toBe(400);
      expect(m.body.error.code).toBe('invalid_request');
      return (m.body.error.details as { path: string }[]).map((d) => d.path);
    };
    expect(await fieldOf({})).toEqual(['subject']);
    expect(await fieldOf({ subject: '' })).toEqual(['subject']);
    expect(await fieldOf({ subject: 'x'.repeat(250) })).toEqual(['subject']);
    expect(await fieldOf({ subject: 'x', ttl_seconds: 1201 })).toEqual(['ttl_seconds']);
    expect(await fieldOf({ subject: 'x', ttl_seconds: 1.5 })).toEqual(['ttl_seconds']);
    expect(await fieldOf({ subject: 'x', filters: { user_id: 3 } })).toEqual(['filters.user_id']);
    expect(await fieldOf({ subject: 'x', tenant: B })).toEqual(['']);
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`details.k${i}`, 'v']));
    expect(await fieldOf({ subject: 'x', filters: tooMany })).toEqual(['filters']);

    const unknown = await mint(hostToken, { subject: 'x', filters: { actor: 'alice' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'invalid_parameter', details: { parameter: 'actor' } });
    const badValue = await mint(hostToken, { subject: 'x', filters: { 'event_id[eq]': 'nope' } });
    expect(badValue.body.error).toMatchObject({
      code: 'invalid_parameter',
      details: { parameter: 'event_id[eq]' },
    });
    const pinnedAccess = await mint(hostToken, { subject: 'x', filters: { access_records: 'include' } });
    expect(pinnedAccess.body.error.details).toEqual({ parameter: 'access_records' });

    expect((await mint(hostToken, '{"subject":')).body.error.code).toBe('invalid_json');
    expect((await mint(hostToken, { subject: 'x' }, { 'content-type': 'text/plain' })).status).toBe(415);
    const huge = await mint(hostToken, { subject: 'x', pad: 'p'.repeat(20_000) });
    expect(huge.status).toBe(413);
  });

  it('never outlives the caller’s own token', async () => {
    const short = await apiAuth.auth.issueToken(
      { subject: 'host-app', tenant: A, scopes: ['events:read'] },
      { ttlSeconds: 40 },
    );
    const m = await mint(short, { subject: 'end-user-5', ttl_seconds: 1200 });
    expect(m.status).toBe(201);
    expect(claimsOf(m.body.token).exp).toBe(claimsOf(short).exp);
    expect(m.body.expires_in).toBeLessThanOrEqual(40);
    expect(m.body.expires_in).toBeGreaterThanOrEqual(38);
  });
});

describe('a pinned token reads only what its pins allow', () => {
  it('list, stats, export and get by id', async () => {
    expect((await listed(viewer, '/events?order=asc')).events.map((e) => e.event_id)).toEqual(aliceIds);
    const count = await as(viewer, '/events/stats');
    expect(await count.json()).toEqual({ count: alice.length });
    const groups = await as(viewer, '/events/stats?group_by=user_id');
    expect(await groups.json()).toEqual({
      groups: [{ key: 'alice', count: alice.length }],
      truncated: false,
    });
    const exported = await as(viewer, '/events/export?order=asc');
    expect(exported.status).toBe(200);
    const lines = (await exported.text()).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).event_id)).toEqual(aliceIds);

    expect((await as(viewer, `/events/${aliceIds[2]}`)).status).toBe(200);
    const outside = await as(viewer, `/events/${bob[0]!.event_id}`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({ error: { code: 'not_found', message: 'no event with this id' } });
    expect((await as(viewer, `/events/${foreign.event_id}`)).status).toBe(404);
    // The host's own token sees bob's event: the 404 is the pin, not a missing row.
    expect((await as(hostToken, `/events/${bob[0]!.event_id}`)).status).toBe(200);
  });

  it('asking for more never widens: the same field with another value, ne, a longer in list', async () => {
    for (const q of ['user_id=bob', 'user_id[ne]=alice', 'user_id[prefix]=b', 'resource_id=r0&user_id=bob']) {
      expect((await listed(viewer, `/events?${q}`)).events, q).toEqual([]);
      expect(await (await as(viewer, `/events/stats?${q}`)).json(), q).toEqual({ count: 0 });
      expect((await (await as(viewer, `/events/export?${q}`)).text()).trim(), q).toBe('');
    }
    const wider = await listed(viewer, `/events?${qs({ 'user_id[in]': 'alice,bob' })}&order=asc`);
    expect(wider.events.map((e) => e.event_id)).toEqual(aliceIds);
    const byResource = await listed(viewer, '/events?resource_id=r1');
    expect(byResource.events.map((e) => e.event_id)).toEqual([aliceIds[1]]);
  });

  it('access_records=include or only adds only the service’s records that match the pins', async () => {
    const include = await listed(viewer, '/events?access_records=include&order=asc');
    expect(include.events.map((e) => e.event_id)).toEqual([...aliceIds, audits[0]!.event_id]);
    const only = await listed(viewer, '/events?access_records=only');
    expect(only.events.map((e) => e.event_id)).toEqual([audits[0]!.event_id]);
    expect(await (await as(viewer, '/events/stats?access_records=include')).json()).toEqual({
      count: alice.length + 1,
    });
    expect((await as(viewer, `/events/${audits[1]!.event_id}`)).status).toBe(404);
    expect((await as(viewer, `/events/${audits[0]!.event_id}`)).status).toBe(200);
  });

  it('pages within the pins; a cursor of an unpinned request is refused', async () => {
    const first = await listed(viewer, '/events?limit=2&order=asc');
    const second = await listed(viewer, `/events?limit=10&order=asc&cursor=${first.next_cursor}`);
    expect([...first.events, ...second.events].map((e) => e.event_id)).toEqual(aliceIds);

    // The host's page 1 over the whole tenant; its cursor would skip into bob's events.
    const host = await listed(hostToken, '/events?limit=1&order=asc');
    for (const q of ['limit=10&order=asc', 'limit=10&order=asc&user_id=alice']) {
      const res = await as(viewer, `/events?${q}&cursor=${host.next_cursor}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.details).toEqual({ parameter: 'cursor' });
    }
    // Nor does a viewer's cursor work for the host's unpinned request (bound to the pins both ways).
    const res = await as(hostToken, `/events?limit=10&order=asc&cursor=${first.next_cursor}`);
    expect(res.status).toBe(400);
  });

  it('tenant-wide log data is 403; a proof of an event outside the pins is 404', async () => {
    for (const path of ['/leaves', '/checkpoints/consistency?from=1']) {
      const res = await as(viewer, path);
      expect(res.status, path).toBe(403);
      expect(((await res.json()) as ErrorBody).error.code).toBe('forbidden');
    }
    const proof = await as(viewer, `/events/${bob[0]!.event_id}/proof`);
    expect(proof.status).toBe(404);
    expect(await proof.json()).toEqual({
      error: { code: 'not_found', message: 'no sealed event with this id' },
    });
  });
});

describe('GET /viewer/session', () => {
  it('shows a viewer token’s subject, tenant, expiry and locked filters; a host token has none', async () => {
    const res = await as(viewer, '/viewer/session');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      subject: 'viewer:end-user-1',
      tenant: A,
      scopes: ['events:read'],
      expires_at: new Date((claimsOf(viewer).exp as number) * 1000).toISOString(),
      viewer: true,
      filters: { user_id: 'alice' },
      minted_by: `key:${hostKey.id}`,
    });
    const host = await as(hostToken, '/viewer/session');
    expect(await host.json()).toMatchObject({
      subject: `key:${hostKey.id}`,
      tenant: A,
      viewer: false,
      filters: {},
    });
  });

  it('a token whose pins the filter parser refuses is a 401, never an unfiltered read', async () => {
    const forged = await apiAuth.auth.issueToken({
      subject: 'viewer:x',
      tenant: A,
      scopes: ['events:read'],
      pins: [['no_such_field', 'v']],
    });
    for (const path of ['/events', '/viewer/session', `/events/${aliceIds[0]}`]) {
      const res = await as(forged, path);
      expect(res.status, path).toBe(401);
      expect(((await res.json()) as ErrorBody).error.message).toBe(
        'token audit_filters claim is not a valid filter set',
      );
    }
  });
});

describe('CORS for the embedded viewer', () => {
  it('answers a preflight from an allowed origin, with the Authorization header and no credentials', async () => {
    const res = await t.app.request('/events', {
      method: 'OPTIONS',
      headers: {
        origin: HOST_ORIGIN,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(HOST_ORIGIN);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows the origin on answers and errors alike; another origin gets no grant', async () => {
    const ok = await as(viewer, '/events?limit=1', { origin: HOST_ORIGIN });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(HOST_ORIGIN);
    const refused = await t.app.request('/events', { headers: { origin: HOST_ORIGIN } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(HOST_ORIGIN);
    const other = await as(viewer, '/events?limit=1', { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('revocation', () => {
  it('revoking the host’s API key ends its viewer tokens within the poll interval', async () => {
    const key = await addKey(A, ['events:read']);
    const m = await mint(await keyToken(key), { subject: 'end-user-6', filters: { user_id: 'alice' } });
    expect(m.status).toBe(201);
    expect((await as(m.body.token, '/events?limit=1')).status).toBe(200);
    await apiAuth.credentials.store!.cutKey({
      keyId: key.id,
      tenant: A,
      kind: 'revoked',
      at: new Date(),
      actor: 'viewer-test',
    });
    const start = Date.now();
    let res = await as(m.body.token, '/events?limit=1');
    while (res.status === 200 && Date.now() - start < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      res = await as(m.body.token, '/events?limit=1');
    }
    expect(res.status).toBe(401);
    expect(((await res.json()) as ErrorBody).error.message).toBe('token API key revoked or expired');
    // The host's own viewer token from another key still works.
    expect((await as(viewer, '/events?limit=1')).status).toBe(200);
  });
});

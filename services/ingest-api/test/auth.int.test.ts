import type { Kafka } from '@audit/kafka';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  buildApp,
  createTopic,
  kafkaClient,
  newTenant,
  post,
  readTopic,
  SECRET,
  sampleEvent,
  type TestApp,
  topicMessageCount,
} from './helpers.ts';

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('auth matrix on POST /events (audience configured)', () => {
  let kafka: Kafka;
  let topic: string;
  let t: TestApp;
  const tenant = newTenant();
  const now = () => Math.floor(Date.now() / 1000);

  /** Tokens are built by hand so each differs from a valid one in exactly one way. */
  function sign(opts: { secret?: string; exp?: number; aud?: string; scope?: string; tenant?: string } = {}) {
    return new SignJWT({ tenant: opts.tenant ?? tenant, scope: opts.scope ?? 'events:write' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('producer-1')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? now() + 600)
      .setAudience(opts.aud ?? AUDIENCE)
      .sign(new TextEncoder().encode(opts.secret ?? SECRET));
  }

  beforeAll(async () => {
    kafka = kafkaClient();
    topic = await createTopic(kafka);
    t = await buildApp({ kafka, topic, audience: AUDIENCE });
  });
  afterAll(async () => {
    await t?.close();
  });

  const cases: [string, () => Promise<string | undefined>, number, string][] = [
    ['no token', async () => undefined, 401, 'unauthorized'],
    ['garbage', async () => 'not-a-jwt', 401, 'unauthorized'],
    [
      'bad signature',
      () => sign({ secret: 'another-secret-that-is-long-enough-0123456789' }),
      401,
      'unauthorized',
    ],
    ['expired', () => sign({ exp: now() - 3600 }), 401, 'unauthorized'],
    [
      'alg none',
      async () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'producer-1', tenant, scope: 'events:write', aud: AUDIENCE, exp: now() + 600 })}.`,
      401,
      'unauthorized',
    ],
    ['wrong audience', () => sign({ aud: 'some-other-api' }), 401, 'unauthorized'],
    ['wrong scope (events:read)', () => sign({ scope: 'events:read' }), 403, 'forbidden'],
  ];

  it.each(cases)('%s → %i', async (_name, token, status, code) => {
    const res = await post(t.app, await token(), JSON.stringify(sampleEvent()));
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("another tenant's write attempt → 403 tenant_mismatch", async () => {
    const res = await post(t.app, await sign(), JSON.stringify(sampleEvent({ tenant_id: newTenant() })));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('tenant_mismatch');
  });

  it('wrote nothing for any of them', async () => {
    expect(await topicMessageCount(kafka, topic)).toBe(0);
  });

  it('accepts the same hand-built token when nothing is wrong with it (control), bare or Bearer', async () => {
    const token = await sign();
    const e1 = sampleEvent({ tenant_id: tenant });
    const e2 = sampleEvent();
    expect((await post(t.app, token, JSON.stringify(e1))).status).toBe(202);
    const bare = await t.app.request('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: token },
      body: JSON.stringify(e2),
    });
    expect(bare.status).toBe(202);
    const ids = (await readTopic(kafka, topic)).map((m) => JSON.parse(m.value!.toString()).event_id).sort();
    expect(ids).toEqual([e1.event_id, e2.event_id].sort());
  });
});

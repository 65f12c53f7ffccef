import { createAuth, type Principal } from '@audit/auth';
import { createBaseApp, createLogger, createMetrics } from '@audit/http';
import type { EventPublisher } from '@audit/publisher';
import { describe, expect, it } from 'vitest';
import { mintViewerToken } from './viewer.ts';

/** The mint route behind a fixed principal (authentication is tested with the real stack). */
async function appWith(principal: Principal, authConfig: Parameters<typeof createAuth>[0]) {
  const auth = await createAuth(authConfig);
  const published: unknown[] = [];
  const accessLog = {
    publish: async (events: unknown[]) => {
      published.push(...events);
    },
  } as unknown as EventPublisher;
  const app = createBaseApp({
    logger: createLogger('viewer-unit', 'silent'),
    metrics: createMetrics('viewer-unit', false),
    ready: async () => [],
  });
  app.post(
    '/viewer/tokens',
    async (c, next) => {
      c.set('principal', principal);
      await next();
    },
    ...mintViewerToken({ auth, accessLog, defaultTtlSeconds: 900, maxTtlSeconds: 3600 }),
  );
  const post = async (body: unknown) => {
    const res = await app.request('/viewer/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  return { post, published };
}

const host: Principal = { subject: 'host', tenant: 'acme', scopes: ['events:read'] };

describe('POST /viewer/tokens without a signing secret', () => {
  it('is a clear 501 JSON error in JWKS-only mode, before the body is read, and records nothing', async () => {
    const { post, published } = await appWith(host, { AUTH_JWKS_URL: 'https://idp.test/jwks' });
    const r = await post({ subject: 'u' });
    expect(r.status).toBe(501);
    expect(r.body.error?.code).toBe('not_configured');
    expect(r.body.error?.message).toContain('AUTH_JWT_SECRET');
    expect(published).toEqual([]);
  });

  it('refuses a viewer principal first, whatever the configuration', async () => {
    const { post } = await appWith({ ...host, pins: [] }, { AUTH_JWKS_URL: 'https://idp.test/jwks' });
    expect((await post({ subject: 'u' })).status).toBe(403);
  });
});

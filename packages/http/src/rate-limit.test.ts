import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createBaseApp } from './base-app.ts';
import { ApiError } from './errors.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import {
  createRateLimiter,
  createTenantLimits,
  rateLimit,
  rateLimitRefusals,
  retryAfterSeconds,
  TokenBuckets,
} from './rate-limit.ts';

/** A clock the test moves by hand (ms). */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBuckets', () => {
  it('admits the burst at once, then the rate, never part of a cost', () => {
    const c = clock();
    const b = new TokenBuckets(10, c.now);
    const limit = { ratePerSecond: 10, burst: 5 };
    for (let i = 0; i < 5; i++) expect(b.take('acme', limit).allowed).toBe(true);
    const refused = b.take('acme', limit);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, exceedsBurst: false });
    expect(refused.waitSeconds).toBeCloseTo(0.1);
    c.advance(100);
    expect(b.take('acme', limit).allowed).toBe(true);
    expect(b.take('acme', limit).allowed).toBe(false);
    c.advance(250); // 2.5 tokens: a cost of 3 is refused whole and takes nothing
    const big = b.take('acme', limit, 3);
    expect(big.allowed).toBe(false);
    expect(big.waitSeconds).toBeCloseTo(0.05);
    expect(b.take('acme', limit, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refills no further than the burst however long it was idle', () => {
    const c = clock();
    const b = new TokenBuckets(10, c.now);
    const limit = { ratePerSecond: 100, burst: 3 };
    b.take('k', limit, 3);
    c.advance(3_600_000);
    expect(b.take('k', limit, 3)).toMatchObject({ allowed: true, remaining: 0 });
    expect(b.take('k', limit).allowed).toBe(false);
  });

  it('keeps keys apart', () => {
    const b = new TokenBuckets(10, clock().now);
    const limit = { ratePerSecond: 1, burst: 1 };
    expect(b.take('acme', limit).allowed).toBe(true);
    expect(b.take('acme', limit).allowed).toBe(false);
    expect(b.take('globex', limit).allowed).toBe(true);
  });

  it('says a cost above the burst can never be admitted, and takes nothing for it', () => {
    const b = new TokenBuckets(10, clock().now);
    const limit = { ratePerSecond: 100, burst: 50 };
    expect(b.take('acme', limit, 51)).toMatchObject({ allowed: false, exceedsBurst: true });
    expect(b.take('acme', limit, 50)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('rate 0 is unlimited and keeps no bucket', () => {
    const b = new TokenBuckets(10, clock().now);
    for (let i = 0; i < 1000; i++)
      expect(b.take('acme', { ratePerSecond: 0, burst: 1 }, 10).allowed).toBe(true);
    expect(b.size).toBe(0);
  });

  it('peek does not take; drain takes down to 0 and reports the next attempt', () => {
    const b = new TokenBuckets(10, clock().now);
    const limit = { ratePerSecond: 1, burst: 2 };
    expect(b.peek('k', limit).allowed).toBe(true);
    expect(b.drain('k', limit).allowed).toBe(true);
    expect(b.drain('k', limit)).toMatchObject({ allowed: false, remaining: 0 });
    expect(b.drain('k', limit)).toMatchObject({ allowed: false, remaining: 0 });
    expect(b.peek('k', limit).allowed).toBe(false);
    expect(b.peek('k', limit).waitSeconds).toBeCloseTo(1);
  });

  it('a flood of distinct keys never holds more than maxKeys; the most recently used survive', () => {
    const c = clock();
    const b = new TokenBuckets(100, c.now);
    const limit = { ratePerSecond: 1, burst: 1 };
    b.take('victim', limit); // drained
    for (let i = 0; i < 10_000; i++) {
      b.take(`flood-${i}`, limit);
      if (i % 50 === 0) b.take('victim', limit); // kept recently used: stays drained
      expect(b.size).toBeLessThanOrEqual(100);
    }
    expect(b.size).toBe(100);
    expect(b.take('victim', limit).allowed).toBe(false);
  });

  it('drops idle (refilled) buckets as new keys arrive, so memory follows active keys', () => {
    const c = clock();
    const b = new TokenBuckets(1000, c.now);
    const limit = { ratePerSecond: 10, burst: 10 };
    for (let i = 0; i < 100; i++) b.take(`k${i}`, limit);
    expect(b.size).toBe(100);
    c.advance(10_000); // every bucket is full again
    for (let i = 0; i < 30; i++) b.take(`new${i}`, limit);
    // Each insertion sweeps up to 4 idle buckets: 30 × 4 = 120 ≥ 100 old ones.
    expect(b.size).toBe(30);
  });

  it('a changed limit applies from the next call', () => {
    const b = new TokenBuckets(10, clock().now);
    b.take('acme', { ratePerSecond: 1, burst: 100 }, 10);
    expect(b.take('acme', { ratePerSecond: 1, burst: 5 })).toMatchObject({ allowed: true, remaining: 4 });
  });
});

describe('retryAfterSeconds', () => {
  it('is a whole number of seconds, at least 1, never rounded down', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(0.01)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1.01)).toBe(2);
    expect(retryAfterSeconds(59.5)).toBe(60);
  });
});

describe('createRateLimiter', () => {
  const c = clock();
  const registry = new Registry();
  const limiter = createRateLimiter({
    name: 'events',
    unit: 'events',
    limitFor: (t) => (t === 'acme' ? { ratePerSecond: 100, burst: 200 } : { ratePerSecond: 0, burst: 1 }),
    maxKeys: 10,
    refusals: rateLimitRefusals(registry),
    now: c.now,
  });

  it('429 rate_limited with an integer Retry-After and RateLimit-* headers; counted by limit name', async () => {
    expect(limiter.check('acme', 150)).toEqual({
      'RateLimit-Limit': '200',
      'RateLimit-Remaining': '50',
      'RateLimit-Reset': '2',
    });
    let err: unknown;
    try {
      limiter.check('acme', 120);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limited');
    expect(e.headers?.['Retry-After']).toBe('1'); // 70 events at 100/s = 0.7 s
    expect(e.details).toMatchObject({ limit: 'events', per_second: 100, burst: 200, cost: 120 });
    const metric = await registry.getSingleMetricAsString('http_rate_limited_total');
    expect(metric).toContain('http_rate_limited_total{limit="events"} 1');
  });

  it('413 exceeds_burst for a cost no wait could admit', () => {
    expect(() => limiter.check('acme', 201)).toThrow(
      expect.objectContaining({ status: 413, code: 'exceeds_burst' }) as Error,
    );
  });

  it('an unlimited key gets no headers and no refusal', () => {
    for (let i = 0; i < 100; i++) expect(limiter.check('globex', 10_000)).toEqual({});
  });

  it('rateLimitRefusals returns the one counter of a registry', () => {
    expect(rateLimitRefusals(registry)).toBe(rateLimitRefusals(registry));
  });
});

describe('rateLimit middleware', () => {
  function app() {
    const metrics = createMetrics('rl-test', false);
    const a: Hono = createBaseApp({ logger: createLogger('rl', 'silent'), metrics, ready: async () => [] });
    const limits = createTenantLimits(
      {
        maxKeys: 100,
        requests: (t) =>
          t === 'acme' ? { ratePerSecond: 1, burst: 2 } : { ratePerSecond: 1000, burst: 1000 },
      },
      metrics.registry,
    );
    a.get(
      '/data',
      rateLimit(limits.requests, (c) => c.req.header('x-tenant')),
      (c) => c.json({ ok: true }),
    );
    return { a, metrics };
  }

  it("refuses one tenant past its burst with the shared error shape while another's requests pass", async () => {
    const { a, metrics } = app();
    const get = (tenant: string) => a.request('/data', { headers: { 'x-tenant': tenant } });
    expect((await get('acme')).status).toBe(200);
    const second = await get('acme');
    expect(second.status).toBe(200);
    expect(second.headers.get('ratelimit-remaining')).toBe('0');
    const refused = await get('acme');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('ratelimit-limit')).toBe('2');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.message).toMatch(/1 requests\/s/);
    for (let i = 0; i < 20; i++) expect((await get('globex')).status).toBe(200);
    expect(await metrics.registry.getSingleMetricAsString('http_rate_limited_total')).toContain(
      'http_rate_limited_total{limit="requests",service="rl-test"} 1',
    );
  });

  it('passes requests without a key', async () => {
    const { a } = app();
    for (let i = 0; i < 5; i++) expect((await a.request('/data')).status).toBe(200);
  });

  it('works on a plain Hono app too (errors reach its onError)', async () => {
    const limiter = createRateLimiter({
      name: 'requests',
      unit: 'requests',
      limitFor: () => ({ ratePerSecond: 1, burst: 1 }),
      maxKeys: 10,
      refusals: rateLimitRefusals(new Registry()),
    });
    const h = new Hono();
    h.onError((err, c) => c.json({ status: (err as ApiError).status }, (err as ApiError).status));
    h.get(
      '/',
      rateLimit(limiter, () => 'k'),
      (c) => c.text('ok'),
    );
    expect((await h.request('/')).status).toBe(200);
    expect((await h.request('/')).status).toBe(429);
  });
});

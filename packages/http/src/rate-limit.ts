import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { Counter, type Registry } from 'prom-client';
import { ApiError } from './errors.ts';

/** A token bucket's shape: refills at `ratePerSecond` up to `burst`. A rate of 0 means unlimited. */
export interface BucketLimit {
  ratePerSecond: number;
  burst: number;
}

/** What a bucket says about one request. */
export interface BucketState {
  allowed: boolean;
  /** The request costs more than the bucket can ever hold: waiting does not help. */
  exceedsBurst: boolean;
  /** Whole tokens left after this request (before it, when refused). */
  remaining: number;
  /** Seconds until the request would be admitted (0 when allowed). */
  waitSeconds: number;
  /** Seconds until the bucket is full again. */
  fullInSeconds: number;
}

interface Bucket {
  tokens: number;
  /** ms of the last refill. */
  at: number;
  limit: BucketLimit;
}

/** Idle buckets checked for removal per insertion: bounds the work of one call. */
const SWEEP_PER_INSERT = 4;

/**
 * Token buckets by key with bounded memory. A bucket that has refilled to its burst is the same
 * as no bucket, so idle ones are dropped as new keys arrive; beyond `maxKeys` the least recently
 * used bucket is dropped even if not full (its key starts again with a full burst), so a flood
 * of distinct keys costs at most `maxKeys` entries.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(
    private readonly maxKeys: number,
    now: () => number = () => performance.now(),
  ) {
    if (maxKeys < 1) throw new Error('maxKeys must be at least 1');
    this.now = now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens if the bucket has them; never takes part of them. */
  take(key: string, limit: BucketLimit, cost = 1): BucketState {
    return this.decide(key, limit, cost, true);
  }

  /** Whether `cost` tokens are there, without taking them. */
  peek(key: string, limit: BucketLimit, cost = 1): BucketState {
    return this.decide(key, limit, cost, false);
  }

  /** Removes up to `cost` tokens whatever is left (a failure is counted even when already at 0). */
  drain(key: string, limit: BucketLimit, cost = 1): BucketState {
    if (limit.ratePerSecond <= 0) return unlimited();
    const b = this.bucket(key, limit);
    b.tokens = Math.max(0, b.tokens - cost);
    // allowed: whether the next attempt of `cost` would be admitted.
    return this.state(b, cost, b.tokens >= cost);
  }

  private decide(key: string, limit: BucketLimit, cost: number, consume: boolean): BucketState {
    if (limit.ratePerSecond <= 0) return unlimited();
    if (cost > limit.burst) {
      return { ...this.state(this.bucket(key, limit), cost, false), exceedsBurst: true };
    }
    const b = this.bucket(key, limit);
    const allowed = b.tokens >= cost;
    if (allowed && consume) b.tokens -= cost;
    return this.state(b, cost, allowed);
  }

  private state(b: Bucket, cost: number, allowed: boolean): BucketState {
    const { ratePerSecond: rate, burst } = b.limit;
    return {
      allowed,
      exceedsBurst: false,
      remaining: Math.floor(b.tokens),
      waitSeconds: allowed ? 0 : (cost - b.tokens) / rate,
      fullInSeconds: (burst - b.tokens) / rate,
    };
  }

  /** The key's bucket, refilled to now and moved to the most recently used end. */
  private bucket(key: string, limit: BucketLimit): Bucket {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      // A changed limit (a new override) applies from now on; the tokens carry over, capped.
      b.limit = limit;
      b.tokens = Math.min(limit.burst, b.tokens + ((t - b.at) / 1000) * limit.ratePerSecond);
      b.at = t;
    } else {
      this.evict(t);
      b = { tokens: limit.burst, at: t, limit };
    }
    this.buckets.set(key, b);
    return b;
  }

  private evict(t: number) {
    let checked = 0;
    for (const [key, b] of this.buckets) {
      if (checked++ >= SWEEP_PER_INSERT) break;
      const refilled = b.tokens + ((t - b.at) / 1000) * b.limit.ratePerSecond;
      if (refilled < b.limit.burst) break; // oldest first: a younger entry has had less time to refill
      this.buckets.delete(key);
    }
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
  }
}

const unlimited = (): BucketState => ({
  allowed: true,
  exceedsBurst: false,
  remaining: Number.POSITIVE_INFINITY,
  waitSeconds: 0,
  fullInSeconds: 0,
});

/** `Retry-After` is whole seconds (RFC 9110); rounding down would invite a retry that is refused again. */
export const retryAfterSeconds = (waitSeconds: number) => Math.max(1, Math.ceil(waitSeconds - 1e-9));

/**
 * Requests refused by a limit, by the limit's name. Not labelled by tenant or address: those
 * are unbounded (the logs name the tenant). One counter per registry, shared by every limiter.
 */
export type RefusalCounter = Counter<'limit'>;

export function rateLimitRefusals(registry: Registry): RefusalCounter {
  const existing = registry.getSingleMetric('http_rate_limited_total');
  if (existing) return existing as RefusalCounter;
  return new Counter({
    name: 'http_rate_limited_total',
    help: 'Requests refused with 429 (or 413 for a batch larger than the burst) by a rate limit',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
}

/** Per-key limits with defaults and overrides, answering with the shared error shape. */
export interface RateLimiter {
  /** A bounded metric label: `requests`, `events`, … */
  readonly name: string;
  limitFor(key: string): BucketLimit;
  /**
   * Admits `cost` units for `key` or throws ApiError 429 `rate_limited` with `Retry-After`
   * (413 `exceeds_burst` when `cost` is above the burst). Returns the `RateLimit-*` headers.
   */
  check(key: string, cost?: number): Record<string, string>;
}

export interface RateLimiterOptions {
  name: string;
  /** What the refusal message calls one unit: `requests`, `events`. */
  unit: string;
  limitFor: (key: string) => BucketLimit;
  maxKeys: number;
  refusals: RefusalCounter;
  now?: () => number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const buckets = new TokenBuckets(opts.maxKeys, opts.now);
  return {
    name: opts.name,
    limitFor: opts.limitFor,
    check(key, cost = 1) {
      const limit = opts.limitFor(key);
      const s = buckets.take(key, limit, cost);
      if (limit.ratePerSecond <= 0) return {};
      const headers = {
        'RateLimit-Limit': String(limit.burst),
        'RateLimit-Remaining': String(s.remaining),
        'RateLimit-Reset': String(Math.ceil(s.fullInSeconds)),
      };
      if (s.allowed) return headers;
      opts.refusals.labels(opts.name).inc();
      const details = { limit: opts.name, per_second: limit.ratePerSecond, burst: limit.burst, cost };
      if (s.exceedsBurst) {
        throw new ApiError(
          413,
          'exceeds_burst',
          `this request costs ${cost} ${opts.unit} but at most ${limit.burst} ${opts.unit} are admitted at once (${limit.ratePerSecond}/s): split it into smaller requests`,
          details,
          headers,
        );
      }
      const retryAfter = retryAfterSeconds(s.waitSeconds);
      throw new ApiError(
        429,
        'rate_limited',
        `rate limit of ${limit.ratePerSecond} ${opts.unit}/s (burst ${limit.burst}) exceeded; retry after ${retryAfter} s`,
        { ...details, retry_after_seconds: retryAfter },
        { ...headers, 'Retry-After': String(retryAfter) },
      );
    },
  };
}

/**
 * Middleware charging one unit per request to the key `key(c)` returns (e.g. the tenant of the
 * authenticated principal, so it runs after authentication). No key: not limited.
 */
export function rateLimit(limiter: RateLimiter, key: (c: Context) => string | undefined): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    const k = key(c);
    if (k === undefined) return next();
    const headers = limiter.check(k);
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
  });
}

/** The per-tenant limiters of an API: requests (both APIs) and events (ingest). */
export interface TenantLimits {
  requests: RateLimiter;
  events?: RateLimiter;
}

/** Built from @audit/config's `limitSettings` (structurally: this package does not read config). */
export function createTenantLimits(
  settings: {
    maxKeys: number;
    requests: (tenant: string) => BucketLimit;
    events?: (tenant: string) => BucketLimit;
  },
  registry: Registry,
): TenantLimits {
  const refusals = rateLimitRefusals(registry);
  const limiter = (name: string, limitFor: (tenant: string) => BucketLimit) =>
    createRateLimiter({ name, unit: name, limitFor, maxKeys: settings.maxKeys, refusals });
  return {
    requests: limiter('requests', settings.requests),
    ...(settings.events ? { events: limiter('events', settings.events) } : {}),
  };
}

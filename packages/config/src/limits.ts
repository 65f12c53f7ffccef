import { z } from 'zod';
import { env } from './load.ts';

/** One tenant's exceptions to the defaults; a missing burst is two seconds of its rate. */
const overrideSchema = z.strictObject({
  requestsPerSecond: z.number().int().min(0).optional(),
  requestsBurst: z.number().int().min(1).optional(),
  eventsPerSecond: z.number().int().min(0).optional(),
  eventsBurst: z.number().int().min(1).optional(),
});
export type TenantLimitOverride = z.infer<typeof overrideSchema>;

const overridesJson = z
  .string()
  .default('{}')
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.issues.push({ code: 'custom', message: 'must be a JSON object', input: text });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().min(1).max(64), overrideSchema));

/**
 * Per-tenant request limits and brute-force limits of the credential endpoints, shared by both
 * APIs (docs/limits.md). A factory because the APIs' request defaults differ: a query costs
 * ClickHouse far more than a write costs Kafka.
 */
export function rateLimitSchema(defaults: { requestsPerSecond: number; requestsBurst: number }) {
  return z.object({
    /**
     * Requests per second one tenant may make, across all replicas (see RATE_LIMIT_REPLICAS);
     * beyond it 429 with `Retry-After`. 0: unlimited. Default: ingest-api 1000, query-api 50.
     */
    RATE_LIMIT_REQUESTS_PER_SECOND: env.int(defaults.requestsPerSecond, 0, 10_000_000),
    /** Requests a tenant may make at once after being idle (token-bucket size, per replica). */
    RATE_LIMIT_REQUESTS_BURST: env.int(defaults.requestsBurst, 1, 10_000_000),
    /**
     * Per-tenant exceptions, JSON: `{"acme": {"requestsPerSecond": 50, "requestsBurst": 100,
     * "eventsPerSecond": 2000, "eventsBurst": 10000}}`. Omitted fields take the defaults (an
     * omitted burst is two seconds of the tenant's rate); 0 makes a tenant unlimited.
     */
    RATE_LIMIT_OVERRIDES: overridesJson,
    /**
     * Replicas of this service behind the load balancer. Each replica enforces 1/N of every
     * per-second rate, so the tenants' totals hold without a shared store.
     */
    RATE_LIMIT_REPLICAS: env.int(1, 1, 1000),
    /**
     * Most keys (tenants, client addresses, usernames) one limiter remembers; idle ones are
     * dropped first. Bounds memory (~200 bytes each) under a flood of distinct keys.
     */
    RATE_LIMIT_MAX_KEYS: env.int(100_000, 100, 10_000_000),
    /**
     * Failed logins (POST /login, the token endpoint) one client address may make per
     * CREDENTIAL_FAILURE_WINDOW_SECONDS before 429; successful ones are not counted. 0: no limit.
     */
    CREDENTIAL_FAILURES_PER_IP: env.int(20, 0, 1_000_000),
    /** Failed logins per username (or client id) per window before 429, from any address. 0: no limit. */
    CREDENTIAL_FAILURES_PER_USER: env.int(10, 0, 1_000_000),
    /** The window of the failure limits: the budget refills evenly over it. */
    CREDENTIAL_FAILURE_WINDOW_SECONDS: env.int(900, 1, 86_400),
    /**
     * Proxies in front of the service that append the client address to `X-Forwarded-For`. 0:
     * the TCP peer is the client, the header is ignored. Set it exactly: one more than there are
     * lets a client choose its address.
     */
    TRUST_PROXY_HOPS: env.int(0, 0, 10),
  });
}

/** The events-per-second limit of the ingest API, charged per event of a batch. */
export const eventRateLimitSchema = z.object({
  /**
   * Events per second one tenant may write, across all replicas; a batch costs its event count.
   * Beyond it 429 with `Retry-After`. 0: unlimited.
   */
  RATE_LIMIT_EVENTS_PER_SECOND: env.int(10_000, 0, 100_000_000),
  /**
   * Events a tenant may write at once (per replica). A batch with more events than this is
   * refused with 413 `exceeds_burst` (it could never be admitted); keep it at least
   * INGEST_MAX_EVENTS_NDJSON.
   */
  RATE_LIMIT_EVENTS_BURST: env.int(20_000, 1, 100_000_000),
});

export type RateLimitConfig = z.infer<ReturnType<typeof rateLimitSchema>>;
export type EventRateLimitConfig = z.infer<typeof eventRateLimitSchema>;

/** A per-second rate and its bucket size (the shape of @audit/http's BucketLimit). */
export interface RateAndBurst {
  ratePerSecond: number;
  burst: number;
}

/** The parsed settings as the limiters take them: per-replica rates, per-tenant lookups. */
export interface LimitSettings {
  maxKeys: number;
  trustProxyHops: number;
  requests: (tenant: string) => RateAndBurst;
  /** Absent when the service has no event limit (query-api). */
  events?: (tenant: string) => RateAndBurst;
  credentials: { perIp: RateAndBurst; perUser: RateAndBurst };
}

/**
 * The rate a replica enforces is 1/RATE_LIMIT_REPLICAS of the total; the burst is not divided,
 * so a request the limit admits at all is admitted by any replica (docs/limits.md).
 */
export function limitSettings(c: RateLimitConfig & Partial<EventRateLimitConfig>): LimitSettings {
  const replicas = c.RATE_LIMIT_REPLICAS;
  const perReplica = (rate: number, burst: number): RateAndBurst =>
    rate === 0 ? { ratePerSecond: 0, burst: 1 } : { ratePerSecond: rate / replicas, burst };
  const lookup = (
    rateKey: 'requestsPerSecond' | 'eventsPerSecond',
    burstKey: 'requestsBurst' | 'eventsBurst',
    rate: number,
    burst: number,
  ) => {
    const base = perReplica(rate, burst);
    const byTenant = new Map(
      Object.entries(c.RATE_LIMIT_OVERRIDES).map(([tenant, o]) => {
        const r = o[rateKey] ?? rate;
        // An overridden rate without a burst gets two seconds of it, not the default's burst.
        const b = o[burstKey] ?? (o[rateKey] === undefined ? burst : Math.max(1, 2 * r));
        return [tenant, perReplica(r, b)] as const;
      }),
    );
    return (tenant: string) => byTenant.get(tenant) ?? base;
  };
  // Failure budgets are divided too (rounded up), so N failures hold across replicas.
  const failures = (n: number): RateAndBurst =>
    n === 0
      ? { ratePerSecond: 0, burst: 1 }
      : {
          ratePerSecond: n / replicas / c.CREDENTIAL_FAILURE_WINDOW_SECONDS,
          burst: Math.ceil(n / replicas),
        };
  return {
    maxKeys: c.RATE_LIMIT_MAX_KEYS,
    trustProxyHops: c.TRUST_PROXY_HOPS,
    requests: lookup(
      'requestsPerSecond',
      'requestsBurst',
      c.RATE_LIMIT_REQUESTS_PER_SECOND,
      c.RATE_LIMIT_REQUESTS_BURST,
    ),
    ...(c.RATE_LIMIT_EVENTS_PER_SECOND === undefined
      ? {}
      : {
          events: lookup(
            'eventsPerSecond',
            'eventsBurst',
            c.RATE_LIMIT_EVENTS_PER_SECOND,
            c.RATE_LIMIT_EVENTS_BURST ?? 1,
          ),
        }),
    credentials: {
      perIp: failures(c.CREDENTIAL_FAILURES_PER_IP),
      perUser: failures(c.CREDENTIAL_FAILURES_PER_USER),
    },
  };
}

import {
  ApiError,
  type BucketLimit,
  type BucketState,
  type RefusalCounter,
  retryAfterSeconds,
  TokenBuckets,
} from '@audit/http';

/** Who is trying credentials: the client address and the username (or OAuth client id). */
export interface CredentialAttempt {
  ip: string | undefined;
  clientId: string | undefined;
}

/**
 * Brute-force limits of an endpoint that checks credentials (POST /login, the token endpoint):
 * `admit` before checking (throws ApiError 429 once the address or the name has used its failure
 * budget), `failed` after a wrong secret. Successful attempts cost nothing.
 */
export interface TokenEndpointGuard {
  admit(attempt: CredentialAttempt): Promise<void>;
  failed(attempt: CredentialAttempt): Promise<void>;
}

export interface CredentialGuardOptions {
  /** Failure budget per client address: `burst` failures, refilled at `ratePerSecond`; rate 0: none. */
  perIp: BucketLimit;
  /** Failure budget per username / client id. */
  perUser: BucketLimit;
  maxKeys: number;
  refusals: RefusalCounter;
  now?: () => number;
}

/**
 * One guard per process, shared by every credential endpoint, so failures on /login and on the
 * token endpoint draw on the same budget. Usernames are keyed case-sensitively as the user
 * store compares them; an attempt without an address or a name is limited by the other key.
 */
export function createCredentialGuard(opts: CredentialGuardOptions): TokenEndpointGuard {
  const buckets = new TokenBuckets(opts.maxKeys, opts.now);
  const keys = (a: CredentialAttempt) =>
    [
      a.ip === undefined ? undefined : (['ip', `ip:${a.ip}`, opts.perIp] as const),
      a.clientId === undefined ? undefined : (['user', `user:${a.clientId}`, opts.perUser] as const),
    ].filter((k) => k !== undefined);
  return {
    async admit(attempt) {
      for (const [kind, key, limit] of keys(attempt)) {
        const s: BucketState = buckets.peek(key, limit);
        if (s.allowed) continue;
        opts.refusals.labels(`credentials_${kind}`).inc();
        const retryAfter = retryAfterSeconds(s.waitSeconds);
        // Neither says whether the name exists nor which budget ran out to whom: both are the caller's own.
        throw new ApiError(
          429,
          'too_many_attempts',
          `too many failed attempts from this ${kind === 'ip' ? 'address' : 'account'}; retry after ${retryAfter} s`,
          { retry_after_seconds: retryAfter },
          { 'Retry-After': String(retryAfter) },
        );
      }
    },
    async failed(attempt) {
      for (const [, key, limit] of keys(attempt)) buckets.drain(key, limit);
    },
  };
}

/** A guard that admits everything: the default when a service wires none (tests). */
export const NO_CREDENTIAL_LIMITS: TokenEndpointGuard = {
  admit: async () => {},
  failed: async () => {},
};

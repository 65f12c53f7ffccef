import { authConfigSchema } from '@audit/auth';
import { checkTlsPair, env, loadConfig, rateLimitSchema, stackSchema, tlsSchema } from '@audit/config';
import { credentialsConfigSchema } from '@audit/credentials';
import { kafkaAuthSchema, SERVICE_PRINCIPALS } from '@audit/kafka';
import { checkPublicKey, streamsPolicySchema } from '@audit/streams';
import { z } from 'zod';

/** `scheme://host[:port]` exactly as a browser sends it in `Origin`: no path, no trailing slash. */
const ORIGIN_RE = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/i;

/**
 * Every option of the query API, parsed once at start-up. ClickHouse endpoints and credentials
 * come from `stackSchema` (the API connects as the read-only reader user), JWT settings from
 * `@audit/auth`.
 */
export const queryConfigSchema = stackSchema
  .extend(authConfigSchema.shape)
  .extend(credentialsConfigSchema.shape)
  .extend(kafkaAuthSchema(SERVICE_PRINCIPALS.query).shape)
  .extend({
    /** HTTP port. */
    PORT: env.port(8081),
    /** Interface to bind: 127.0.0.1 on a laptop, 0.0.0.0 in a container. */
    HOST: env.str('127.0.0.1'),
    /**
     * `max_execution_time` of every ClickHouse query except exports, in seconds. The reader
     * profile's constraint caps it at 60; the client gives up a little later, so a stuck server
     * turns into a 504 rather than a hung request.
     */
    QUERY_TIMEOUT_SECONDS: env.int(10, 1, 60),
    /** `max_execution_time` of an export, in seconds (exports read many rows). */
    QUERY_EXPORT_TIMEOUT_SECONDS: env.int(60, 1, 60),
    /**
     * How long a read waits for Kafka to acknowledge its access record (`audit.log.viewed`) before
     * answering 503 without the data: no read goes unrecorded.
     */
    QUERY_ACCESS_LOG_TIMEOUT_MS: env.int(5000, 100, 60_000),
    /** Most rows one export returns; a larger result is cut at this many rows. */
    QUERY_EXPORT_MAX_ROWS: env.int(1_000_000, 1, 10_000_000),
    /**
     * Secret that signs paging cursors (HMAC-SHA256), so a client cannot forge a position, swap
     * tenants or reuse a cursor with other filters. At least 32 characters; rotating it
     * invalidates cursors in flight (clients restart from the first page).
     */
    QUERY_CURSOR_SECRET: z.string().min(32, 'must be at least 32 characters'),
    /** Lifetime of a viewer token (`POST /viewer/tokens`) when the request names none, in seconds. */
    QUERY_VIEWER_TOKEN_TTL_SECONDS: env.int(900, 30, 86_400),
    /** Longest `ttl_seconds` a viewer token may ask for; never past the minting token's own expiry. */
    QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS: env.int(3600, 30, 86_400),
    /**
     * Comma-separated exact origins (`https://app.example.com`) whose pages may call this API from
     * the browser (CORS; the embedded viewer). Authorization header only, never cookies. Unset: none.
     */
    QUERY_CORS_ORIGINS: env
      .list('')
      .pipe(
        z.array(z.string().regex(ORIGIN_RE, 'must be origins like https://app.example.com, comma-separated')),
      ),
    /**
     * The streamer's X25519 public key (base64 SPKI; `pnpm streams:keygen`): log stream secrets are
     * sealed to it on arrival, and this API can never read them back. Unset: /streams answers 501.
     */
    STREAMS_SECRETS_PUBLIC_KEY: z
      .string()
      .default('')
      .refine((k) => {
        if (k === '') return true;
        try {
          checkPublicKey(k);
          return true;
        } catch {
          return false;
        }
      }, 'must be the base64 SPKI of an X25519 public key (pnpm streams:keygen)'),
    /** Log streams a tenant may have. */
    QUERY_STREAMS_MAX_PER_TENANT: env.int(20, 1, 1000),
    /** How long `POST /streams/{id}/test` waits for the streamer's delivery before answering 202. */
    QUERY_STREAM_TEST_WAIT_MS: env.int(15_000, 0, 60_000),
    ...streamsPolicySchema.shape,
    ...rateLimitSchema({ requestsPerSecond: 50, requestsBurst: 100 }).shape,
    ...tlsSchema.shape,
  });

export type QueryConfig = z.infer<typeof queryConfigSchema>;

export function loadQueryConfig(source: Record<string, string | undefined> = process.env): QueryConfig {
  return loadConfig(queryConfigSchema.check(checkTlsPair, checkViewerTtl), source);
}

/** The default lifetime of a viewer token must be one a request could ask for. */
function checkViewerTtl(ctx: {
  value: { QUERY_VIEWER_TOKEN_TTL_SECONDS: number; QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS: number };
  issues: unknown[];
}): void {
  const v = ctx.value;
  if (v.QUERY_VIEWER_TOKEN_TTL_SECONDS > v.QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS) {
    ctx.issues.push({
      code: 'custom',
      input: v.QUERY_VIEWER_TOKEN_TTL_SECONDS,
      path: ['QUERY_VIEWER_TOKEN_TTL_SECONDS'],
      message: 'must not exceed QUERY_VIEWER_TOKEN_MAX_TTL_SECONDS',
    });
  }
}

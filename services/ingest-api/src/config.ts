import { authConfigSchema } from '@audit/auth';
import {
  checkTlsPair,
  env,
  eventRateLimitSchema,
  loadConfig,
  rateLimitSchema,
  retentionSchema,
  stackSchema,
  tlsSchema,
} from '@audit/config';
import { credentialsConfigSchema } from '@audit/credentials';
import { kafkaAuthSchema, SERVICE_PRINCIPALS } from '@audit/kafka';
import { z } from 'zod';
import type { BodyLimits } from './body.ts';

const MiB = 1024 * 1024;

/**
 * Every option of the ingest API, parsed once at start-up. Kafka and ClickHouse endpoints come
 * from `stackSchema`, the JWT settings from `@audit/auth`, RETENTION_DAYS from `retentionSchema`
 * (shared with the sink).
 */
export const ingestConfigSchema = stackSchema
  .extend(authConfigSchema.shape)
  .extend(retentionSchema.shape)
  .extend(credentialsConfigSchema.shape)
  .extend(rateLimitSchema({ requestsPerSecond: 1000, requestsBurst: 2000 }).shape)
  .extend(eventRateLimitSchema.shape)
  .extend(tlsSchema.shape)
  .extend(kafkaAuthSchema(SERVICE_PRINCIPALS.ingest).shape)
  .extend({
    /** HTTP port. */
    PORT: env.port(8080),
    /** Interface to bind: 127.0.0.1 on a laptop, 0.0.0.0 in a container. */
    HOST: env.str('127.0.0.1'),
    /** Most events in one `application/json` request (an array). */
    INGEST_MAX_EVENTS_JSON: env.int(1000, 1),
    /** Largest `application/json` body in bytes, enforced while the body streams in. */
    INGEST_MAX_BYTES_JSON: env.int(5 * MiB, 1),
    /** Most events (non-blank lines) in one `application/x-ndjson` request. */
    INGEST_MAX_EVENTS_NDJSON: env.int(10_000, 1),
    /** Largest `application/x-ndjson` body in bytes. */
    INGEST_MAX_BYTES_NDJSON: env.int(16 * MiB, 1),
    /**
     * How long a request waits for Kafka to acknowledge its events before answering 503. A send
     * that timed out may still land later; clients resend with the same event_ids and storage
     * deduplicates.
     */
    INGEST_KAFKA_TIMEOUT_MS: env.int(5000, 100, 120_000),
    /** Seconds a client is told to wait (`Retry-After`) after a 503. */
    INGEST_RETRY_AFTER_SECONDS: env.int(5, 1, 3600),
    /**
     * Events queued for the producer or sent but not yet acknowledged (including sends that already
     * timed out and still retry in the background). Beyond it requests get 503 at once, which
     * bounds memory during a Kafka outage.
     */
    INGEST_MAX_PENDING_EVENTS: env.int(100_000, 1),
    /**
     * Bytes of encoded Kafka messages queued or being sent (same rule as INGEST_MAX_PENDING_EVENTS;
     * a request is let through when nothing else is pending). Bounds memory under load and outages.
     */
    INGEST_MAX_PENDING_BYTES: env.int(64 * MiB, 1),
    /**
     * Declared body bytes of requests in progress (read, parsed, waiting for Kafka). A request that
     * does not fit waits, unread, for room (up to INGEST_KAFKA_TIMEOUT_MS, then 503); a request
     * alone always fits. Kafka needs only a batch or two queued, so this bounds memory, not throughput.
     */
    INGEST_MAX_ACTIVE_BYTES: env.int(8 * MiB, 1),
    /**
     * Largest Kafka send in bytes: the events of concurrent requests are coalesced into one send up
     * to this size (a bigger request is split). Keep it under the broker's `message.max.bytes` (1 MiB).
     */
    INGEST_KAFKA_MAX_BATCH_BYTES: env.int(1_000_000, 1024),
    /** Most messages in one coalesced Kafka send. */
    INGEST_KAFKA_MAX_BATCH_MESSAGES: env.int(10_000, 1),
    /** Kafka compression of produced batches: `none` or `gzip` (the only codec built into kafkajs). */
    INGEST_KAFKA_COMPRESSION: z.enum(['none', 'gzip']).default('none'),
    /**
     * Longest wait for ClickHouse when looking up client-supplied event_ids (duplicate or conflict?)
     * with `CLICKHOUSE_READER_USER`. Slower or failing: the check is skipped and the events are
     * published (metric `ingest_id_check_skipped_total`); the sink still keeps the first write.
     */
    INGEST_ID_LOOKUP_TIMEOUT_MS: env.int(500, 10, 30_000),
    /**
     * Ids (with their content hash) of recently acknowledged events with a client-chosen id that
     * this process remembers, oldest forgotten first: a resend arriving before the sink stored the
     * original is still recognized. About 200 bytes each.
     */
    INGEST_RECENT_IDS: env.int(100_000, 0, 10_000_000),
  });

export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export function loadIngestConfig(source: Record<string, string | undefined> = process.env): IngestConfig {
  return loadConfig(ingestConfigSchema.check(checkTlsPair), source);
}

export function limitsFromConfig(c: IngestConfig): BodyLimits {
  return {
    json: { maxEvents: c.INGEST_MAX_EVENTS_JSON, maxBytes: c.INGEST_MAX_BYTES_JSON },
    ndjson: { maxEvents: c.INGEST_MAX_EVENTS_NDJSON, maxBytes: c.INGEST_MAX_BYTES_NDJSON },
  };
}

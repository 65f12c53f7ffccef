import { checkTlsPair, env, loadConfig, retentionSchema, stackSchema, tlsSchema } from '@audit/config';
import { kafkaAuthSchema, SERVICE_PRINCIPALS } from '@audit/kafka';
import { z } from 'zod';

const MiB = 1024 * 1024;

/**
 * Sink settings. Batch defaults follow ClickHouse's guidance (10k–100k rows, about one insert
 * per second per table); the bench in bench/sink measures them.
 */
export const sinkConfigSchema = stackSchema
  .extend(retentionSchema.shape)
  .extend(kafkaAuthSchema(SERVICE_PRINCIPALS.sink).shape)
  .extend({
    /** Port of the health/metrics HTTP server. */
    PORT: env.port(8082),
    /** Interface the HTTP server listens on: loopback on a laptop, 0.0.0.0 in a container. */
    HOST: env.str('127.0.0.1'),
    /** Kafka consumer group shared by every sink instance. */
    SINK_GROUP_ID: env.str('audit-sink'),
    /** Kafka client id (shows up in broker logs and group descriptions). */
    SINK_CLIENT_ID: env.str('audit-sink'),
    /**
     * How often the sink looks for new tenant topics (KAFKA_TENANT_TOPIC_PREFIX) to subscribe to.
     * A topic found rejoins the group (a short pause of every partition); messages written before
     * are read from the beginning, so this bounds only how late a new tenant's first events are.
     */
    SINK_TOPIC_REFRESH_MS: env.int(30_000, 100, 3_600_000),
    /** A partition's batch is inserted once it holds this many messages… */
    SINK_BATCH_MAX_ROWS: env.int(50_000, 1, 1_000_000),
    /** …or this many bytes of Kafka message values… */
    SINK_BATCH_MAX_BYTES: env.int(32 * MiB, 1024, 1024 * MiB),
    /**
     * …or its first message has waited this long. 500 ms measured p99 freshness 1.7 s at 5,000
     * events/s (1000 ms: 2.1 s; docs/performance.md), for at most 2 inserts/s per partition under a
     * live trickle; under a backlog batches fill by rows, bytes or the memory budget first.
     */
    SINK_BATCH_MAX_WAIT_MS: env.int(500, 10, 600_000),
    /** Consumer group session timeout: how soon a dead instance's partitions move to the others. */
    SINK_SESSION_TIMEOUT_MS: env.int(30_000, 6000, 300_000),
    /** Batches (of different partitions) inserted at the same time. */
    SINK_INSERT_CONCURRENCY: env.int(2, 1, 64),
    /**
     * Memory bound: Kafka message bytes held in batches (filling, queued and being inserted) across
     * all partitions. At the budget all fetching pauses and the largest batches are inserted until
     * it is back under 3/4. Process RSS is roughly 2× this plus ~100 MB (bench/sink/drain.ts).
     */
    SINK_MAX_BUFFER_BYTES: env.int(128 * MiB, 1 * MiB, 16_384 * MiB),
    /**
     * Kafka fetch size per partition (a fetch response is at most max(this, SINK_MAX_BUFFER_BYTES/8)).
     * 1 MiB brings ~1,500 events per partition per round trip, far more than the inserts take.
     */
    SINK_FETCH_MAX_BYTES_PER_PARTITION: env.int(1 * MiB, 64 * 1024, 256 * MiB),
    /** First retry delay after a failed insert or DLQ write; doubles up to the cap, with jitter. */
    SINK_RETRY_INITIAL_MS: env.int(200, 1, 60_000),
    /** Cap of the retry delay. Retries never stop: the partition stays paused meanwhile. */
    SINK_RETRY_MAX_MS: env.int(10_000, 1, 600_000),
    /** Timeout of one ClickHouse insert request. */
    SINK_INSERT_TIMEOUT_MS: env.int(60_000, 1000, 3_600_000),
    /** Graceful shutdown: how long to keep retrying in-flight batches before abandoning them (uncommitted). */
    SINK_SHUTDOWN_FLUSH_MS: env.int(15_000, 0, 600_000),
    /**
     * `single`: one ClickHouse server. `cluster`: apply the sharded/replicated migrations
     * (migrations/cluster: ON CLUSTER '{cluster}', ReplicatedReplacingMergeTree `events_local` per
     * shard, Distributed `events` over it); see docs/scaling.md.
     */
    CLICKHOUSE_TOPOLOGY: z.enum(['single', 'cluster']).default('single'),
    /** Apply migrations at start-up (the writer user creates/extends the schema). */
    SINK_MIGRATE: env.bool(true),
    /**
     * Tamper evidence: publish a leaf record of every inserted row to KAFKA_LEAVES_TOPIC before
     * committing, for the sealer (docs/integrity.md). Off: events are stored but never sealed.
     */
    SINK_SEAL: env.bool(true),
    /**
     * TEST-ONLY fault injection: SIGKILL the process right after the n-th successful insert, before
     * its offsets are committed, so tests can reach the insert→commit window. 0 = off.
     */
    SINK_FAULT_CRASH_AFTER_INSERT: env.int(0, 0),
    ...tlsSchema.shape,
  });

export type SinkConfig = z.infer<typeof sinkConfigSchema>;

export function loadSinkConfig(source: Record<string, string | undefined> = process.env): SinkConfig {
  return loadConfig(sinkConfigSchema.check(checkTlsPair), source);
}

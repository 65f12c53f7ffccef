import { z } from 'zod';
import { env } from './load.ts';

/**
 * Endpoints and credentials of Kafka and ClickHouse, shared by the local stack tool, the
 * services and the tests, so that one set of environment variables describes one stack.
 * The defaults are the local development stack's; production sets every credential.
 */
export const stackSchema = z.object({
  /** Broker list the services connect to. */
  KAFKA_BROKERS: env.list('127.0.0.1:9092'),
  /** Topic the ingest API writes and the sink reads. */
  KAFKA_TOPIC: env.str('audit.events'),
  /** Dead-letter topic for messages the sink cannot store. */
  KAFKA_DLQ_TOPIC: env.str('audit.events.dlq'),
  /**
   * Leaf records (one per stored event) from the sink to the sealer: one partition, the order of
   * the tenants' Merkle logs (docs/integrity.md).
   */
  KAFKA_LEAVES_TOPIC: env.str('audit.leaves'),
  /** Signed checkpoints the sealer publishes off the database; unlimited retention. */
  KAFKA_CHECKPOINTS_TOPIC: env.str('audit.checkpoints'),
  /**
   * Prefix of the tenants' own topics for direct producers: `<prefix><tenant_id>`, writable only
   * by that tenant's Kafka principal; the sink reads them all and checks each message's tenant_id.
   */
  KAFKA_TENANT_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, 'must be a Kafka topic name prefix')
    .default('audit.t.'),
  /**
   * SASL mechanism of the brokers' client listener: `scram-sha-512` (the local stack's, compose's
   * and Kubernetes'), `scram-sha-256`, `plain` (only over TLS), or `none` for a broker without
   * authentication. Every client (services, tools, tests) authenticates with it.
   */
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain', 'none']).default('scram-sha-512'),
  /** Connect with TLS (SASL_SSL listeners); the system CAs verify the broker unless KAFKA_SSL_CA_FILE is set. */
  KAFKA_SSL: env.bool(false),
  /** PEM file of the CA that signed the brokers' certificates (with KAFKA_SSL). */
  KAFKA_SSL_CA_FILE: z.string().default(''),
  /** Kafka administrative principal (a super user): the stack tool, tenant provisioning, DLQ replay and tests, never a service. */
  KAFKA_ADMIN_USERNAME: env.str('admin'),
  /** Password of `KAFKA_ADMIN_USERNAME`. */
  KAFKA_ADMIN_PASSWORD: env.str('admin-dev-password'),
  /** Partitions of the events topic when the local stack creates it. */
  KAFKA_TOPIC_PARTITIONS: env.int(6, 1, 1024),
  /** ClickHouse HTTP endpoint. */
  CLICKHOUSE_URL: env.str('http://127.0.0.1:8123'),
  /** Database holding the audit trail. */
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/, 'must be a plain identifier')
    .default('audit'),
  /** User the sink inserts (and migrates) with: no DROP, no ALTER DELETE/UPDATE. */
  CLICKHOUSE_WRITER_USER: env.str('audit_writer'),
  CLICKHOUSE_WRITER_PASSWORD: env.str('writer-dev-password'),
  /** Read-only user of the query API and of analysts. */
  CLICKHOUSE_READER_USER: env.str('audit_reader'),
  CLICKHOUSE_READER_PASSWORD: env.str('reader-dev-password'),
  /** User of the sealer: creates, reads and inserts its own tlog_* tables only. */
  CLICKHOUSE_SEALER_USER: env.str('audit_sealer'),
  CLICKHOUSE_SEALER_PASSWORD: env.str('sealer-dev-password'),
  /**
   * User of the credentials store (`audit_control`: tenants, API keys, revocations): the query
   * API writes it, every token verifier reads it. No access to the audit trail.
   */
  CLICKHOUSE_KEYS_USER: env.str('audit_keys'),
  CLICKHOUSE_KEYS_PASSWORD: env.str('keys-dev-password'),
  /**
   * User of the streamer (docs/streams.md): reads the streams' definitions and writes their status
   * and test results in `audit_control`; no access to the trail or the credentials.
   */
  CLICKHOUSE_STREAMER_USER: env.str('audit_streamer'),
  CLICKHOUSE_STREAMER_PASSWORD: env.str('streamer-dev-password'),
  /**
   * User the management API creates tenant analysts with (CREATE USER/ROLE/ROW POLICY, and
   * SELECT on the trail only to pass on). It reads no rows itself.
   */
  CLICKHOUSE_ACCESS_USER: env.str('audit_access'),
  CLICKHOUSE_ACCESS_PASSWORD: env.str('access-dev-password'),
  /** Operators at a SQL prompt: every tenant, read-only (docs/analysts.md). */
  CLICKHOUSE_OPERATOR_USER: env.str('audit_operator'),
  CLICKHOUSE_OPERATOR_PASSWORD: env.str('operator-dev-password'),
  /** Administrative user: bootstrap and operations only, never used by a service. */
  CLICKHOUSE_ADMIN_USER: env.str('audit_admin'),
  CLICKHOUSE_ADMIN_PASSWORD: env.str('admin-dev-password'),
});

export type StackConfig = z.infer<typeof stackSchema>;

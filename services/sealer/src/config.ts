import { checkTlsPair, env, loadConfig, stackSchema, tlsSchema } from '@audit/config';
import { kafkaAuthSchema, SERVICE_PRINCIPALS } from '@audit/kafka';
import { z } from 'zod';

/** Sealer settings (docs/integrity.md). One instance is active: the leaves topic has one partition. */
export const sealerConfigSchema = stackSchema
  .extend(kafkaAuthSchema(SERVICE_PRINCIPALS.sealer).shape)
  .extend(tlsSchema.shape)
  .extend({
    /** Port of the health/metrics/witness HTTP server. */
    PORT: env.port(8083),
    /** Interface the HTTP server listens on: loopback on a laptop, 0.0.0.0 in a container. */
    HOST: env.str('127.0.0.1'),
    /** Consumer group of the leaves topic; its single partition makes one member the active sealer. */
    SEALER_GROUP_ID: env.str('audit-sealer'),
    /** Kafka client id of the sealer. */
    SEALER_CLIENT_ID: env.str('audit-sealer'),
    /**
     * A tenant whose log grew gets a new signed checkpoint at most this often; the time from an
     * event's insert to its covering checkpoint is about this plus the sink's batch wait.
     */
    SEAL_INTERVAL_MS: env.int(1000, 50, 3_600_000),
    /** Leaves buffered before a seal is forced even if the interval has not passed. */
    SEALER_MAX_PENDING: env.int(100_000, 1, 10_000_000),
    /**
     * The signing key in Go's note format (`PRIVATE+KEY+<name>+<hash>+<key>`, from
     * `pnpm tsx services/sealer/src/keygen.ts <name>`). Set this or SEALER_SIGNING_KEY_FILE.
     */
    SEALER_SIGNING_KEY: z.string().default(''),
    /** File holding the signing key (a mounted secret); used when SEALER_SIGNING_KEY is empty. */
    SEALER_SIGNING_KEY_FILE: z.string().default(''),
    /** Verifier keys of retired signing keys, comma-separated: still published so old checkpoints verify. */
    SEALER_OLD_VERIFIER_KEYS: env.list(''),
    /** Origin line of each tenant's checkpoints: `<SEALER_ORIGIN>/<tenant_id>`. */
    SEALER_ORIGIN: env.str('audit-log'),
    /** Append-only file every checkpoint is written to (NDJSON), and served at GET /witness. Empty: none. */
    SEALER_WITNESS_FILE: z.string().default(''),
    /** Recent (tenant, event_id) pairs remembered to drop an event stored twice at different offsets. */
    SEALER_DEDUPE_WINDOW: env.int(1_000_000, 0, 100_000_000),
    /** Create the sealer's tables at start-up (idempotent DDL, as the sealer user). */
    SEALER_MIGRATE: env.bool(true),
    /** First retry delay after a failed seal; doubles up to the cap. */
    SEALER_RETRY_INITIAL_MS: env.int(200, 1, 60_000),
    /** Cap of the retry delay. */
    SEALER_RETRY_MAX_MS: env.int(10_000, 1, 600_000),
  });

export type SealerConfig = z.infer<typeof sealerConfigSchema>;

export function loadSealerConfig(source: Record<string, string | undefined> = process.env): SealerConfig {
  return loadConfig(sealerConfigSchema.check(checkTlsPair), source);
}

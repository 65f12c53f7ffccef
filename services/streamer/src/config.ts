import fs from 'node:fs';
import { checkTlsPair, env, loadConfig, retentionSchema, stackSchema, tlsSchema } from '@audit/config';
import { kafkaAuthSchema, SERVICE_PRINCIPALS } from '@audit/kafka';
import { checkPrivateKey, streamsPolicySchema } from '@audit/streams';
import { z } from 'zod';

/** Streamer settings (docs/streams.md). */
export const streamerConfigSchema = stackSchema
  .extend(kafkaAuthSchema(SERVICE_PRINCIPALS.streamer).shape)
  .extend(tlsSchema.shape)
  .extend(streamsPolicySchema.shape)
  .extend(retentionSchema.shape)
  .extend({
    /** Port of the health/metrics HTTP server. */
    PORT: env.port(8084),
    /** Interface the HTTP server listens on: loopback on a laptop, 0.0.0.0 in a container. */
    HOST: env.str('127.0.0.1'),
    /**
     * Prefix of the consumer groups: each stream reads in its own group `<prefix><stream_id>`, so
     * its position is its own (a stopped destination holds back nobody else) and survives restarts.
     */
    STREAMER_GROUP_PREFIX: env.str('audit-streamer.'),
    /** Kafka client id (shows up in broker logs and group descriptions). */
    STREAMER_CLIENT_ID: env.str('audit-streamer'),
    /** The X25519 private key the destination secrets are sealed to (base64 PKCS#8; `pnpm streams:keygen`). */
    STREAMER_SECRETS_KEY: z.string().default(''),
    /** File holding STREAMER_SECRETS_KEY (a mounted secret); used when STREAMER_SECRETS_KEY is empty. */
    STREAMER_SECRETS_KEY_FILE: z.string().default(''),
    /** How often stream definitions and test requests are read: how soon a change takes effect. */
    STREAMER_POLL_INTERVAL_MS: env.int(2000, 100, 60_000),
    /** How often each stream's status (counters, lag, last error) is written for the API. */
    STREAMER_STATUS_INTERVAL_MS: env.int(5000, 200, 300_000),
    /** How often to look for a tenant's own topic (a direct producer's) that appeared since. */
    STREAMER_TOPIC_REFRESH_MS: env.int(30_000, 100, 3_600_000),
    /** Timeout of one delivery request (connect, send, answer): a hanging receiver is a failure. */
    STREAMER_REQUEST_TIMEOUT_MS: env.int(10_000, 100, 600_000),
    /** First retry delay after a failed delivery; doubles up to the cap, with jitter. */
    STREAMER_RETRY_INITIAL_MS: env.int(500, 1, 60_000),
    /** Cap of the retry delay. */
    STREAMER_RETRY_MAX_MS: env.int(60_000, 1, 3_600_000),
    /** A receiver's Retry-After is honoured up to this long. */
    STREAMER_MAX_RETRY_AFTER_MS: env.int(300_000, 0, 3_600_000),
    /**
     * A stream failing without a single success for this long is suspended: delivery stops, the
     * stream's position stays where it was (Kafka keeps the backlog for its retention), and
     * `POST /streams/{id}/resume` starts it again from there. Keep it well inside the topic's
     * retention (7 days by default).
     */
    STREAMER_SUSPEND_AFTER_MS: env.int(3_600_000, 1000, 30 * 86_400_000),
    /** Consumer group session timeout of each stream's consumer. */
    STREAMER_SESSION_TIMEOUT_MS: env.int(30_000, 6000, 300_000),
    /** Kafka fetch size per partition of each stream's consumer. */
    STREAMER_FETCH_MAX_BYTES_PER_PARTITION: env.int(1024 * 1024, 64 * 1024, 64 * 1024 * 1024),
    /** Streams this instance runs at most (each is a Kafka consumer reading the whole topic). */
    STREAMER_MAX_STREAMS: env.int(200, 1, 10_000),
    /** Name the streamer gives itself in syslog HOSTNAME and Splunk/Datadog host fields. */
    STREAMER_HOSTNAME: z.string().default(''),
    /**
     * TEST-ONLY fault injection: SIGKILL the process right after the n-th acknowledged delivery,
     * before its offsets are committed, so tests reach the deliver→commit window. 0 = off.
     */
    STREAMER_FAULT_CRASH_AFTER_DELIVERY: env.int(0, 0),
  });

export type StreamerConfig = z.infer<typeof streamerConfigSchema>;

/** The private key text from the setting or its file; '' when neither is set. */
export function secretsKey(cfg: StreamerConfig): string {
  if (cfg.STREAMER_SECRETS_KEY !== '') return cfg.STREAMER_SECRETS_KEY;
  if (cfg.STREAMER_SECRETS_KEY_FILE === '') return '';
  try {
    return fs.readFileSync(cfg.STREAMER_SECRETS_KEY_FILE, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `STREAMER_SECRETS_KEY_FILE: cannot read ${cfg.STREAMER_SECRETS_KEY_FILE}: ${(err as Error).message}`,
    );
  }
}

export function loadStreamerConfig(source: Record<string, string | undefined> = process.env): StreamerConfig {
  const cfg = loadConfig(
    streamerConfigSchema.check(checkTlsPair).check((ctx) => {
      if (ctx.value.STREAMER_SECRETS_KEY === '' && ctx.value.STREAMER_SECRETS_KEY_FILE === '') {
        ctx.issues.push({
          code: 'custom',
          input: '',
          path: ['STREAMER_SECRETS_KEY'],
          message: 'set STREAMER_SECRETS_KEY or STREAMER_SECRETS_KEY_FILE (pnpm streams:keygen)',
        });
      }
    }),
    source,
  );
  checkPrivateKey(secretsKey(cfg));
  return cfg;
}

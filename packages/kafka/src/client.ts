import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { KafkaAuth } from './auth.ts';
import { type KafkaLogLevel, kafkaLogLevel } from './log-levels.ts';

/** Minimal logger interface so this package does not depend on pino. */
export interface KafkaLogSink {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger?: KafkaLogSink;
  /** Per-request timeout; kept short so an unavailable broker turns into an error, not a hang. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  retries?: number;
  /** SASL and TLS (auth.ts: `kafkaAuth(config)`); absent: an unauthenticated plaintext connection. */
  auth?: KafkaAuth;
  extra?: Partial<KafkaConfig>;
}

/**
 * The one place that constructs the Kafka client library's client (kafkajs today), so that a
 * switch of library touches this package only.
 */
export function createKafka(opts: KafkaClientOptions): Kafka {
  const sink = opts.logger;
  return new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    ...(opts.auth?.sasl ? { sasl: opts.auth.sasl } : {}),
    ...(opts.auth?.ssl ? { ssl: opts.auth.ssl } : {}),
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
    retry: { retries: opts.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      if (!sink) return;
      const { message, ...rest } = entry.log;
      const fields = { kafka: entry.namespace, ...rest };
      // Expected transient broker answers are retried by kafkajs: debug, not error (log-levels.ts).
      sink[kafkaLogLevel(levelName(entry.level), message, rest.error)](fields, message);
    },
    ...opts.extra,
  });
}

function levelName(level: logLevel): KafkaLogLevel {
  if (level === logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

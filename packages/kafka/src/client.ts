import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';

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
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 10_000,
    retry: { retries: opts.retries ?? 5, initialRetryTime: 200, maxRetryTime: 5000 },
    logLevel: sink ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry) => {
      if (!sink) return;
      const { message, ...rest } = entry.log;
      const fields = { kafka: entry.namespace, ...rest };
      if (entry.level === logLevel.ERROR) sink.error(fields, message);
      else if (entry.level === logLevel.WARN) sink.warn(fields, message);
      else if (entry.level === logLevel.INFO) sink.info(fields, message);
      else sink.debug(fields, message);
    },
    ...opts.extra,
  });
}

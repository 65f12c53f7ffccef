import os from 'node:os';
import { type ClickHouseClient, createClickHouse } from '@audit/clickhouse';
import { backoffDelay, sleep, tlsFiles } from '@audit/config';
import { CONTROL_DATABASE } from '@audit/credentials';
import { createBaseApp, createMetrics, type Logger, type RunningServer, startServer } from '@audit/http';
import { type Kafka, serviceKafka } from '@audit/kafka';
import { networkPolicy, StreamStore } from '@audit/streams';
import { type StreamerConfig, secretsKey } from './config.ts';
import { createStreamerMetrics, type StreamerMetrics } from './metrics.ts';
import { Registry } from './registry.ts';

export interface StreamerServiceDeps {
  config: StreamerConfig;
  logger: Logger;
  clickhouse?: ClickHouseClient;
  kafka?: Kafka;
  http?: boolean;
}

export interface RunningStreamer {
  registry: Registry;
  metrics: StreamerMetrics;
  server?: RunningServer;
  ready(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Repeats `fn` every `ms` until stopped, logging (never throwing) its failures. */
function every(
  ms: number,
  signal: AbortSignal,
  logger: Logger,
  what: string,
  fn: () => Promise<void>,
): Promise<void> {
  return (async () => {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await fn();
        failures = 0;
      } catch (err) {
        failures++;
        if (failures === 1 || failures % 30 === 0)
          logger.warn({ err: String(err), failures }, `${what} failed`);
      }
      await sleep(ms, signal);
    }
  })();
}

/**
 * Starts the streamer: its tables (retried until ClickHouse answers), one admin client, the
 * registry's poll loop (definitions, runners, tests) and status loop, and the HTTP server.
 */
export async function startStreamer(deps: StreamerServiceDeps): Promise<RunningStreamer> {
  const { config: cfg, logger } = deps;
  const ownClickHouse = !deps.clickhouse;
  const ch = deps.clickhouse ?? createClickHouse(cfg, 'streamer');
  const store = new StreamStore(ch, CONTROL_DATABASE);
  for (let attempt = 1; ; attempt++) {
    try {
      await store.ensureSchema();
      break;
    } catch (err) {
      const delay = backoffDelay(attempt, { initialMs: cfg.STREAMER_RETRY_INITIAL_MS, maxMs: 10_000 });
      logger.warn({ err: String(err), delay }, 'stream tables not ready (ClickHouse unavailable?), retrying');
      await sleep(delay);
    }
  }

  const kafka = deps.kafka ?? serviceKafka(cfg, cfg.STREAMER_CLIENT_ID, { logger });
  const admin = kafka.admin();
  await admin.connect();
  const httpMetrics = createMetrics('streamer');
  const metrics = createStreamerMetrics(httpMetrics);
  const registry = new Registry({
    kafka,
    admin,
    store,
    metrics,
    logger,
    options: {
      eventsTopic: cfg.KAFKA_TOPIC,
      tenantTopicPrefix: cfg.KAFKA_TENANT_TOPIC_PREFIX,
      groupPrefix: cfg.STREAMER_GROUP_PREFIX,
      topicRefreshMs: cfg.STREAMER_TOPIC_REFRESH_MS,
      maxStreams: cfg.STREAMER_MAX_STREAMS,
      requestTimeoutMs: cfg.STREAMER_REQUEST_TIMEOUT_MS,
      hostname: cfg.STREAMER_HOSTNAME || os.hostname(),
      policy: networkPolicy(cfg),
      secretsKey: secretsKey(cfg),
      sessionTimeoutMs: cfg.STREAMER_SESSION_TIMEOUT_MS,
      fetchMaxBytesPerPartition: cfg.STREAMER_FETCH_MAX_BYTES_PER_PARTITION,
      retentionDays: cfg.RETENTION_DAYS,
      retryInitialMs: cfg.STREAMER_RETRY_INITIAL_MS,
      retryMaxMs: cfg.STREAMER_RETRY_MAX_MS,
      maxRetryAfterMs: cfg.STREAMER_MAX_RETRY_AFTER_MS,
      suspendAfterMs: cfg.STREAMER_SUSPEND_AFTER_MS,
      crashAfterDelivery: cfg.STREAMER_FAULT_CRASH_AFTER_DELIVERY,
    },
  });
  const loops = new AbortController();
  const running = [
    every(cfg.STREAMER_POLL_INTERVAL_MS, loops.signal, logger, 'stream poll', () => registry.poll()),
    every(cfg.STREAMER_STATUS_INTERVAL_MS, loops.signal, logger, 'status report', () => registry.report()),
  ];

  const ready = async () => {
    const problems: string[] = [];
    if (!registry.isReady()) problems.push('streams: definitions not read yet');
    const ping = await ch.ping().catch((err: unknown) => ({ success: false as const, error: err as Error }));
    if (!ping.success) problems.push(`clickhouse: ${ping.error?.message ?? 'ping failed'}`);
    return problems;
  };
  const server =
    deps.http === false
      ? undefined
      : await startServer(createBaseApp({ logger, metrics: httpMetrics, ready }).fetch, {
          port: cfg.PORT,
          host: cfg.HOST,
          tls: tlsFiles(cfg),
        });
  logger.info(
    { port: server?.port, topic: cfg.KAFKA_TOPIC, instance: registry.instance },
    'streamer started',
  );

  return {
    registry,
    metrics,
    server,
    ready,
    stop: async () => {
      loops.abort();
      await Promise.all(running);
      await registry.report().catch(() => {});
      await registry.stop();
      await admin.disconnect().catch(() => {});
      await server?.close();
      if (ownClickHouse) await ch.close();
    },
  };
}
